import { Buffer } from 'node:buffer';
import { hkdfSync } from 'node:crypto';
import { err, ok, type ProdError, type Result } from '@prod/core';
import { CryptoErrors } from './errors.js';
import { type BytesLike, toBytes } from './internal/bytes.js';

/** The hashes HKDF may use. */
export type HkdfHash = 'sha256' | 'sha384' | 'sha512';

/** Options of {@link hkdf}. */
export interface HkdfOptions {
  /** Non-secret random salt; default none (RFC 5869 then uses zeros). */
  readonly salt?: BytesLike;
  /** Context and application specific information, at most 1024 bytes: what the key is for. */
  readonly info?: BytesLike;
  /** Output bytes. Default 32; at most 255 x the hash length. */
  readonly length?: number;
  /** Default `sha256`. */
  readonly hash?: HkdfHash;
}

const HASH_BYTES: Record<HkdfHash, number> = { sha256: 32, sha384: 48, sha512: 64 };

/**
 * HKDF (RFC 5869): derives a key for one purpose from input key material, so one secret can
 * feed several uses (`info: 'blind-index:email'`, `info: 'session-cookie'`) without any of
 * them revealing the others.
 *
 * @returns `Ok(bytes)`; `Err` `CRYPTO_INVALID_INPUT` for input that is not bytes or text, an
 * `info` over 1024 bytes or a length out of range.
 * @example
 * const derived = hkdf('a 32-byte or longer master secret!', { info: 'webhook-signing', length: 32 });
 */
export function hkdf(ikm: BytesLike, options: HkdfOptions = {}): Result<Buffer, ProdError> {
  const hash = options.hash ?? 'sha256';
  const hashBytes = HASH_BYTES[hash];
  if (hashBytes === undefined) {
    return err(CryptoErrors.CRYPTO_INVALID_INPUT('hash must be sha256, sha384 or sha512'));
  }
  const length = options.length ?? 32;
  if (!Number.isInteger(length) || length < 1 || length > 255 * hashBytes) {
    return err(
      CryptoErrors.CRYPTO_INVALID_INPUT(`length must be an integer from 1 to ${255 * hashBytes}`),
    );
  }
  const key = toBytes(ikm);
  const salt = options.salt === undefined ? Buffer.alloc(0) : toBytes(options.salt);
  const info = options.info === undefined ? Buffer.alloc(0) : toBytes(options.info);
  if (key === undefined || salt === undefined || info === undefined) {
    return err(CryptoErrors.CRYPTO_INVALID_INPUT('ikm, salt and info must be strings or bytes'));
  }
  if (info.length > 1024) {
    return err(CryptoErrors.CRYPTO_INVALID_INPUT('info must be at most 1024 bytes'));
  }
  return ok(Buffer.from(hkdfSync(hash, key, salt, info, length)));
}
