import { Buffer } from 'node:buffer';
import { createSecretKey, randomBytes } from 'node:crypto';
import {
  err,
  isProdError,
  isResult,
  type MaybePromise,
  ok,
  optionChecks,
  type ProdError,
  type Result,
} from '@prod/core';
import { CryptoErrors } from './errors.js';
import {
  AEAD_ALGORITHMS,
  type AeadAlgorithm,
  KEY_BYTES,
  NONCE_BYTES,
  open,
  seal,
  TAG_BYTES,
} from './internal/aead.js';
import { type BytesLike, toBytes } from './internal/bytes.js';
import type { Keyring } from './keyring.js';

/** The non-secret key/value pairs bound to an envelope (AWS calls it the encryption context). */
export type EncryptionContext = Readonly<Record<string, string>>;

/** A data key wrapped by a key-encryption key, and which one. */
export interface WrappedKey {
  /** The provider's id of the key-encryption key (a KMS key ARN, a keyring key id). */
  readonly keyId: string;
  readonly bytes: Uint8Array;
}

/**
 * Wraps and unwraps data keys with a key-encryption key it holds (a KMS, an HSM, a local
 * keyring). The data never reaches it: only 32-byte data keys do. Implement it over your KMS
 * client; {@link localKeyProvider} is the built-in one. The context must be bound to the
 * wrapping (KMS `EncryptionContext`, AEAD associated data), so a wrapped key moved to another
 * context does not unwrap.
 */
export interface KeyProvider {
  /** A short name for logs and errors (`local`, `aws-kms`). */
  readonly name: string;
  wrap(
    dataKey: Uint8Array,
    context: EncryptionContext,
  ): MaybePromise<Result<WrappedKey, ProdError>>;
  unwrap(
    wrapped: WrappedKey,
    context: EncryptionContext,
  ): MaybePromise<Result<Uint8Array, ProdError>>;
}

/**
 * A {@link KeyProvider} over a {@link Keyring} of master keys held by the process (from your
 * secret store): the data key is encrypted under the keyring's primary key with the context as
 * associated data. Rotating the master key is `keyring.rotate()` (or `promote()`) and then
 * {@link Envelope.rewrap} of each stored envelope: the data is not re-encrypted.
 */
export function localKeyProvider(keyring: Keyring): KeyProvider {
  if (typeof keyring?.encrypt !== 'function' || typeof keyring.decrypt !== 'function') {
    throw CryptoErrors.CRYPTO_INVALID_OPTIONS({
      message: 'option keyring must be a Keyring',
      details: { option: 'keyring', expected: 'a Keyring' },
    });
  }
  return {
    name: 'local',
    wrap(dataKey, context) {
      const sealed = keyring.encrypt(dataKey, encodeContext(context));
      return sealed.ok ? ok({ keyId: String(keyring.primaryId), bytes: sealed.value }) : sealed;
    },
    unwrap(wrapped, context) {
      if (keyring.keyIdOf(wrapped.bytes) !== Number(wrapped.keyId)) {
        return err(decryptFailed());
      }
      return keyring.decrypt(wrapped.bytes, encodeContext(context));
    },
  };
}

/** Options of {@link createEnvelope}. */
export interface EnvelopeOptions {
  readonly provider: KeyProvider;
  /** The data's AEAD. Default `aes-256-gcm`. */
  readonly algorithm?: AeadAlgorithm;
}

/** What {@link Envelope.encrypt} and {@link Envelope.decrypt} take. */
export interface EnvelopeCallOptions {
  /** Bound to the envelope: decryption must be given the same pairs. */
  readonly context?: EncryptionContext;
}

/**
 * Envelope encryption after the AWS Encryption SDK: every message gets a fresh 256-bit data
 * key, the data is encrypted under it, and the data key is wrapped by the provider's
 * key-encryption key and stored beside the data.
 *
 * Format: `0x02` | algorithm (1 byte) | key-id length (1 byte) | key id (UTF-8) | wrapped-key
 * length (2 bytes) | wrapped key | nonce (12) | ciphertext | tag (16). The data's associated
 * data is the first two bytes and the encryption context, not the wrapped key, so that
 * {@link Envelope.rewrap} can replace the wrapped key without touching the data.
 */
export interface Envelope {
  /** @returns `Ok(envelope bytes)`; `Err` `CRYPTO_INVALID_INPUT`, or the provider's error. */
  encrypt(plaintext: BytesLike, options?: EnvelopeCallOptions): Promise<Result<Buffer, ProdError>>;
  /**
   * @returns `Ok(plaintext)`; `Err` `CRYPTO_DECRYPT_FAILED` (tampered, truncated, other
   * context, a wrapped key the provider cannot unwrap), or `CRYPTO_KEY_PROVIDER_FAILED` when the
   * provider itself failed (retryable).
   */
  decrypt(envelope: Uint8Array, options?: EnvelopeCallOptions): Promise<Result<Buffer, ProdError>>;
  /**
   * Unwraps the data key and wraps it again with the provider's current key-encryption key: the
   * data bytes are unchanged. The step after a master-key rotation.
   */
  rewrap(envelope: Uint8Array, options?: EnvelopeCallOptions): Promise<Result<Buffer, ProdError>>;
  /** The provider key id an envelope's data key is wrapped with, unauthenticated; undefined if unreadable. */
  keyIdOf(envelope: Uint8Array): string | undefined;
}

const ENVELOPE_VERSION = 0x02;
const ALGORITHM_BYTE: Record<AeadAlgorithm, number> = {
  'aes-256-gcm': 1,
  'chacha20-poly1305': 2,
};
const ALGORITHM_OF = new Map<number, AeadAlgorithm>([
  [1, 'aes-256-gcm'],
  [2, 'chacha20-poly1305'],
]);
const MAX_CONTEXT_PAIRS = 64;
const check = optionChecks(CryptoErrors.CRYPTO_INVALID_OPTIONS);

function decryptFailed(): ProdError {
  return CryptoErrors.CRYPTO_DECRYPT_FAILED({
    message: 'the envelope could not be decrypted',
    captureStack: false,
  });
}

/** A canonical, unambiguous encoding of a context: sorted `[key, value]` pairs as JSON. */
export function encodeContext(context: EncryptionContext | undefined): Buffer {
  if (context === undefined) return Buffer.from('[]');
  const pairs = Object.keys(context)
    .sort()
    .map((key) => [key, context[key]]);
  return Buffer.from(JSON.stringify(pairs), 'utf8');
}

function validContext(context: unknown): context is EncryptionContext | undefined {
  if (context === undefined) return true;
  if (typeof context !== 'object' || context === null || Array.isArray(context)) return false;
  const entries = Object.entries(context);
  return (
    entries.length <= MAX_CONTEXT_PAIRS &&
    entries.every(([, value]) => typeof value === 'string') &&
    [Object.prototype, null].includes(Object.getPrototypeOf(context))
  );
}

interface Parsed {
  readonly algorithm: AeadAlgorithm;
  readonly keyId: string;
  readonly wrapped: Buffer;
  /** Everything from the nonce on. */
  readonly data: Buffer;
  readonly prefix: Buffer;
}

function parse(envelope: unknown): Parsed | undefined {
  if (!(envelope instanceof Uint8Array)) return undefined;
  const bytes = Buffer.from(envelope.buffer, envelope.byteOffset, envelope.byteLength);
  if (bytes.length < 3 || bytes[0] !== ENVELOPE_VERSION) return undefined;
  const algorithm = ALGORITHM_OF.get(bytes[1] as number);
  if (algorithm === undefined) return undefined;
  const idLength = bytes[2] as number;
  let at = 3 + idLength;
  if (bytes.length < at + 2) return undefined;
  const keyId = bytes.toString('utf8', 3, at);
  const wrappedLength = bytes.readUInt16BE(at);
  at += 2;
  if (bytes.length < at + wrappedLength + NONCE_BYTES + TAG_BYTES) return undefined;
  return {
    algorithm,
    keyId,
    wrapped: bytes.subarray(at, at + wrappedLength),
    data: bytes.subarray(at + wrappedLength),
    prefix: bytes.subarray(0, 2),
  };
}

function header(algorithm: AeadAlgorithm, wrapped: WrappedKey): Result<Buffer, ProdError> {
  const keyId = Buffer.from(wrapped.keyId, 'utf8');
  if (
    keyId.length > 255 ||
    !(wrapped.bytes instanceof Uint8Array) ||
    wrapped.bytes.length > 0xffff
  ) {
    return err(
      CryptoErrors.CRYPTO_KEY_PROVIDER_FAILED({
        message: 'the provider returned a wrapped key that does not fit an envelope',
      }),
    );
  }
  const out = Buffer.allocUnsafe(3 + keyId.length + 2 + wrapped.bytes.length);
  out[0] = ENVELOPE_VERSION;
  out[1] = ALGORITHM_BYTE[algorithm];
  out[2] = keyId.length;
  keyId.copy(out, 3);
  out.writeUInt16BE(wrapped.bytes.length, 3 + keyId.length);
  Buffer.from(wrapped.bytes).copy(out, 3 + keyId.length + 2);
  return ok(out);
}

/** Runs a provider call: a throw is a provider failure, an unwrap error is a decrypt failure. */
async function call<TValue>(
  run: () => MaybePromise<Result<TValue, ProdError>>,
  unwrapping: boolean,
): Promise<Result<TValue, ProdError>> {
  try {
    const result = await run();
    if (!isResult(result)) {
      return err(
        CryptoErrors.CRYPTO_KEY_PROVIDER_FAILED('the key provider did not return a Result'),
      );
    }
    if (result.ok) return result;
    const error = result.error;
    if (isProdError(error) && error.retryable) {
      return CryptoErrors.CRYPTO_KEY_PROVIDER_FAILED.is(error)
        ? err(error)
        : err(CryptoErrors.CRYPTO_KEY_PROVIDER_FAILED({ message: error.message, cause: error }));
    }
    return unwrapping ? err(decryptFailed()) : err(error);
  } catch (cause) {
    return err(
      CryptoErrors.CRYPTO_KEY_PROVIDER_FAILED({ message: 'the key provider threw', cause }),
    );
  }
}

/**
 * Creates envelope encryption over a {@link KeyProvider}.
 *
 * @throws `CRYPTO_INVALID_OPTIONS` for a missing provider or an unknown algorithm.
 * @example
 * const masterKeys = createKeyring({ keys: [{ ...generateKey(), status: 'primary' }] });
 * const envelope = createEnvelope({ provider: localKeyProvider(masterKeys) });
 * const sealed = await envelope.encrypt('a large document', { context: { tenant: 'acme' } });
 * if (sealed.ok) {
 *   masterKeys.rotate();
 *   const rewrapped = await envelope.rewrap(sealed.value, { context: { tenant: 'acme' } });
 * }
 */
export function createEnvelope(options: EnvelopeOptions): Envelope {
  const given = check.object<EnvelopeOptions>('options', options);
  const provider = given.provider;
  if (
    typeof provider !== 'object' ||
    provider === null ||
    typeof provider.wrap !== 'function' ||
    typeof provider.unwrap !== 'function'
  ) {
    check.fail('provider', 'a KeyProvider ({ name, wrap, unwrap })', provider);
  }
  const algorithm = check.oneOf('algorithm', given.algorithm, AEAD_ALGORITHMS, 'aes-256-gcm');

  const unwrapKey = async (
    parsed: Parsed,
    context: EncryptionContext,
  ): Promise<Result<Buffer, ProdError>> => {
    const unwrapped = await call(
      () => provider.unwrap({ keyId: parsed.keyId, bytes: parsed.wrapped }, context),
      true,
    );
    if (!unwrapped.ok) return unwrapped;
    const key = unwrapped.value;
    if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) return err(decryptFailed());
    return ok(Buffer.from(key));
  };

  return {
    async encrypt(plaintext, callOptions = {}) {
      const data = toBytes(plaintext);
      if (data === undefined) {
        return err(CryptoErrors.CRYPTO_INVALID_INPUT('the plaintext must be a string or bytes'));
      }
      const context = callOptions.context;
      if (!validContext(context)) {
        return err(
          CryptoErrors.CRYPTO_INVALID_INPUT(
            `the context must be a plain object of at most ${MAX_CONTEXT_PAIRS} string values`,
          ),
        );
      }
      const dataKey = randomBytes(KEY_BYTES);
      const wrapped = await call(() => provider.wrap(dataKey, context ?? {}), false);
      if (!wrapped.ok) {
        dataKey.fill(0);
        return wrapped;
      }
      const head = header(algorithm, wrapped.value);
      if (!head.ok) return head;
      const nonce = randomBytes(NONCE_BYTES);
      const aad = Buffer.concat([head.value.subarray(0, 2), encodeContext(context)]);
      const [body, tag] = seal(algorithm, createSecretKey(dataKey), nonce, data, aad);
      dataKey.fill(0);
      return ok(Buffer.concat([head.value, nonce, body, tag]));
    },
    async decrypt(envelope, callOptions = {}) {
      const parsed = parse(envelope);
      const context = callOptions.context;
      if (parsed === undefined || !validContext(context)) return err(decryptFailed());
      const dataKey = await unwrapKey(parsed, context ?? {});
      if (!dataKey.ok) return dataKey;
      const end = parsed.data.length - TAG_BYTES;
      const plaintext = open(
        parsed.algorithm,
        createSecretKey(dataKey.value),
        parsed.data.subarray(0, NONCE_BYTES),
        parsed.data.subarray(NONCE_BYTES, end),
        parsed.data.subarray(end),
        Buffer.concat([parsed.prefix, encodeContext(context)]),
      );
      dataKey.value.fill(0);
      return plaintext === undefined ? err(decryptFailed()) : ok(plaintext);
    },
    async rewrap(envelope, callOptions = {}) {
      const parsed = parse(envelope);
      const context = callOptions.context;
      if (parsed === undefined || !validContext(context)) return err(decryptFailed());
      const dataKey = await unwrapKey(parsed, context ?? {});
      if (!dataKey.ok) return dataKey;
      // The data key must open the data before it is trusted with a new wrapping.
      const end = parsed.data.length - TAG_BYTES;
      const opened = open(
        parsed.algorithm,
        createSecretKey(dataKey.value),
        parsed.data.subarray(0, NONCE_BYTES),
        parsed.data.subarray(NONCE_BYTES, end),
        parsed.data.subarray(end),
        Buffer.concat([parsed.prefix, encodeContext(context)]),
      );
      if (opened === undefined) {
        dataKey.value.fill(0);
        return err(decryptFailed());
      }
      opened.fill(0);
      const wrapped = await call(() => provider.wrap(dataKey.value, context ?? {}), false);
      dataKey.value.fill(0);
      if (!wrapped.ok) return wrapped;
      const head = header(parsed.algorithm, wrapped.value);
      if (!head.ok) return head;
      return ok(Buffer.concat([head.value, parsed.data]));
    },
    keyIdOf(envelope) {
      return parse(envelope)?.keyId;
    },
  };
}
