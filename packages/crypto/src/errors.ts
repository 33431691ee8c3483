import { defineErrors } from '@prod/core';

/**
 * The error codes of @prod/crypto.
 *
 * - `CRYPTO_DECRYPT_FAILED`: a ciphertext, envelope or JWE did not decrypt: wrong key,
 *   unknown or disabled key id, tampered, truncated or malformed input, a bad tag, a wrong
 *   associated data or context. One code and one message for all of them, on purpose: the
 *   caller learns nothing an attacker could use as an oracle.
 * - `CRYPTO_INVALID_INPUT`: an argument of the wrong type or size (a plaintext that is not a
 *   string or bytes, a password over the limit, an HKDF length out of range...); nothing ran.
 * - `CRYPTO_INVALID_KEY`: key material that is not usable (wrong length, not base64url,
 *   a duplicate key id, no primary key).
 * - `CRYPTO_KEY_NOT_FOUND`: a keyring operation named a key id the keyring does not hold.
 * - `CRYPTO_KEY_EXHAUSTED`: the primary key has used its message budget and the keyring
 *   enforces it: rotate.
 * - `CRYPTO_REENCRYPT_FAILED`: a `reencrypt()` walk stopped: reading or writing a batch
 *   failed, or the primary key ran out of budget (the report so far is in `details`).
 * - `CRYPTO_KEY_PROVIDER_FAILED`: a `KeyProvider` (a KMS) could not wrap or unwrap a data key
 *   for a reason of its own (unreachable, throttled): retryable.
 * - `CRYPTO_HASH_INVALID`: a stored password hash is not a PHC string we can read.
 * - `CRYPTO_UNSUPPORTED`: the algorithm asked for is not available here (argon2id without
 *   Node 24.7 or `@node-rs/argon2`).
 * - `CRYPTO_SIGNATURE_INVALID`: a signature or webhook signature does not match (or is
 *   malformed).
 * - `CRYPTO_SIGNATURE_EXPIRED`: a signed webhook's timestamp is outside the tolerance window.
 * - `CRYPTO_REPLAYED`: a signed webhook was already seen within the window.
 * - `CRYPTO_TOKEN_INVALID`: a token with the wrong prefix, length, alphabet or checksum.
 * - `CRYPTO_INVALID_OPTIONS`: an option of a factory is invalid (thrown at construction).
 */
export const CryptoErrors = defineErrors({
  CRYPTO_DECRYPT_FAILED: { status: 400, title: 'Decryption failed' },
  CRYPTO_INVALID_INPUT: { status: 400, title: 'Invalid input' },
  CRYPTO_INVALID_KEY: { status: 500, title: 'Invalid key material' },
  CRYPTO_KEY_NOT_FOUND: { status: 500, title: 'No such key' },
  CRYPTO_KEY_EXHAUSTED: { status: 500, title: 'Key message budget exhausted' },
  CRYPTO_REENCRYPT_FAILED: { status: 500, title: 'Re-encryption stopped' },
  CRYPTO_KEY_PROVIDER_FAILED: { status: 503, title: 'Key provider failed', retryable: true },
  CRYPTO_HASH_INVALID: { status: 500, title: 'Unreadable password hash' },
  CRYPTO_UNSUPPORTED: { status: 500, title: 'Unsupported algorithm' },
  CRYPTO_SIGNATURE_INVALID: { status: 401, title: 'Invalid signature' },
  CRYPTO_SIGNATURE_EXPIRED: { status: 401, title: 'Signature outside the tolerance window' },
  CRYPTO_REPLAYED: { status: 409, title: 'Message already seen' },
  CRYPTO_TOKEN_INVALID: { status: 401, title: 'Invalid token' },
  CRYPTO_INVALID_OPTIONS: { status: 500, title: 'Invalid crypto options' },
});
