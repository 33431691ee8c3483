export type {
  EncryptionContext,
  Envelope,
  EnvelopeCallOptions,
  EnvelopeOptions,
  KeyProvider,
  WrappedKey,
} from './envelope.js';
export { createEnvelope, localKeyProvider } from './envelope.js';
export { CryptoErrors } from './errors.js';
export type {
  EncryptedRecord,
  FieldEncryption,
  FieldEncryptionOptions,
  FieldSpec,
  FieldSpecs,
} from './field-encryption.js';
export { fieldEncryption } from './field-encryption.js';
export type { HkdfHash, HkdfOptions } from './hkdf.js';
export { hkdf } from './hkdf.js';
export type { HmacHash } from './hmac.js';
export { hmac, hmacHex, sha256, signMessage, verifyMessage } from './hmac.js';
export type { BytesLike } from './internal/bytes.js';
export type { FromJweOptions, JweHeader, JweKey, OpenedJwe, ToJweOptions } from './jwe.js';
export { fromJwe, toJwe } from './jwe.js';
export type {
  AeadAlgorithm,
  BudgetEvent,
  CryptoError,
  KeyInfo,
  Keyring,
  KeyringOptions,
  KeySpec,
  KeyStatus,
} from './keyring.js';
export { createKeyring, generateKey, keyringFromJson } from './keyring.js';
export type {
  Argon2Params,
  PasswordAlgorithm,
  PasswordHasher,
  PasswordHasherOptions,
  ScryptParams,
} from './password.js';
export {
  argon2Available,
  hashPassword,
  needsRehash,
  passwordHasher,
  verifyPassword,
} from './password.js';
export type { ReencryptOptions, ReencryptReport } from './reencrypt.js';
export { reencrypt } from './reencrypt.js';
export { safeEqual } from './safe-equal.js';
export type {
  IssuedToken,
  ParsedToken,
  TokenFormat,
  TokenFormatOptions,
} from './tokens.js';
export { randomToken, tokenFormat } from './tokens.js';
export type {
  MemoryReplayStoreOptions,
  ReplayStore,
  WebhookSignature,
  WebhookSigner,
  WebhookSignerOptions,
} from './webhook.js';
export { createWebhookSigner, memoryReplayStore } from './webhook.js';
