// The two AEAD primitives on node:crypto, with one shape: seal into a caller's buffer layout,
// open without ever returning a partial plaintext. Never exported.
import type { Buffer } from 'node:buffer';
// Both algorithms take the same options; the GCM overloads type them (ChaCha20-Poly1305's
// are missing from older @types/node).
import {
  type CipherGCM,
  createCipheriv,
  createDecipheriv,
  type DecipherGCM,
  type KeyObject,
} from 'node:crypto';

/** The AEAD algorithms a key can have. */
export type AeadAlgorithm = 'aes-256-gcm' | 'chacha20-poly1305';

export const AEAD_ALGORITHMS: readonly AeadAlgorithm[] = ['aes-256-gcm', 'chacha20-poly1305'];
export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

const TAG_OPTIONS = { authTagLength: TAG_BYTES } as const;

/** Encrypts `plaintext`; returns [ciphertext, tag]. */
export function seal(
  algorithm: AeadAlgorithm,
  key: KeyObject,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array | undefined,
): [Buffer, Buffer] {
  // The default tag is 16 bytes for both: no options object to process on the hot path.
  const cipher = createCipheriv(algorithm as 'aes-256-gcm', key, nonce) as CipherGCM;
  if (aad !== undefined && aad.length > 0) cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  cipher.final();
  return [body, cipher.getAuthTag()];
}

/** Decrypts and checks the tag: the plaintext, or undefined (no partial output, no throw). */
export function open(
  algorithm: AeadAlgorithm,
  key: KeyObject,
  nonce: Uint8Array,
  ciphertext: Uint8Array,
  tag: Uint8Array,
  aad: Uint8Array | undefined,
): Buffer | undefined {
  try {
    // authTagLength pins the tag to 16 bytes: GCM would otherwise accept a truncated one.
    const decipher = createDecipheriv(
      algorithm as 'aes-256-gcm',
      key,
      nonce,
      TAG_OPTIONS,
    ) as DecipherGCM;
    decipher.setAuthTag(tag);
    if (aad !== undefined && aad.length > 0) decipher.setAAD(aad);
    const body = decipher.update(ciphertext);
    decipher.final();
    return body;
  } catch {
    return undefined;
  }
}
