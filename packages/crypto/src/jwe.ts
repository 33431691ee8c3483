import { Buffer } from 'node:buffer';
import { createSecretKey, randomBytes } from 'node:crypto';
import { err, ok, type ProdError, type Result } from '@prod/core';
import { CryptoErrors } from './errors.js';
import { NONCE_BYTES, open, seal, TAG_BYTES } from './internal/aead.js';
import { type BytesLike, fromBase64url, keyBytes, toBytes } from './internal/bytes.js';
import { internalsOf, type RawKey } from './internal/keyring-internals.js';
import type { Keyring } from './keyring.js';

/** The protected header of a JWE we write or accept. */
export interface JweHeader {
  readonly alg: 'dir';
  readonly enc: 'A256GCM';
  readonly kid?: string;
  readonly typ?: string;
  readonly cty?: string;
  readonly [name: string]: unknown;
}

/** Options of {@link toJwe}. */
export interface ToJweOptions {
  /** More protected header fields (`typ`, `cty`...). `alg`, `enc` and `kid` are ours. */
  readonly header?: Readonly<Record<string, string | number | boolean>>;
}

/** Options of {@link fromJwe}. */
export interface FromJweOptions {
  /** Longest JWE accepted, in characters. Default 1 MiB. */
  readonly maxLength?: number;
}

/** A decrypted JWE. */
export interface OpenedJwe {
  readonly plaintext: Buffer;
  readonly header: JweHeader;
}

/** A key for JWE: a keyring (AES-256-GCM keys only) or 32 raw bytes (or base64url text). */
export type JweKey = Keyring | Uint8Array | string;

const DEFAULT_MAX_LENGTH = 1024 * 1024;
const RESERVED = new Set(['alg', 'enc', 'kid', 'zip', 'crit']);

function failed(): ProdError {
  return CryptoErrors.CRYPTO_DECRYPT_FAILED({
    message: 'the JWE could not be decrypted',
    captureStack: false,
  });
}

function rawKey(key: Uint8Array | string): RawKey | undefined {
  const bytes = keyBytes(key);
  if (bytes === undefined || bytes.length !== 32) return undefined;
  return { id: -1, algorithm: 'aes-256-gcm', key: createSecretKey(bytes) };
}

/**
 * Encrypts to a JWE in compact serialization with `alg: "dir"` and `enc: "A256GCM"` (RFC 7516):
 * the shared key is the content-encryption key, so any JOSE library holding it can read it
 * (`jose.compactDecrypt`). With a keyring, the primary key encrypts (it must be AES-256-GCM)
 * and its id is the `kid`.
 *
 * @returns `Ok(jwe)`; `Err` `CRYPTO_INVALID_INPUT` (plaintext, header) or `CRYPTO_INVALID_KEY`
 * (not 32 bytes, a ChaCha20 primary key), or `CRYPTO_KEY_EXHAUSTED`.
 * @example
 * const keyring = createKeyring({ keys: [{ ...generateKey(), status: 'primary' }] });
 * const jwe = toJwe(keyring, JSON.stringify({ sub: 'user-42' }), { header: { cty: 'json' } });
 */
export function toJwe(
  key: JweKey,
  plaintext: BytesLike,
  options: ToJweOptions = {},
): Result<string, ProdError> {
  const data = toBytes(plaintext);
  if (data === undefined) {
    return err(CryptoErrors.CRYPTO_INVALID_INPUT('the plaintext must be a string or bytes'));
  }
  const internals = internalsOf(key);
  let chosen: RawKey | undefined;
  let kid: string | undefined;
  if (internals !== undefined) {
    chosen = internals.primary();
    if (chosen.algorithm !== 'aes-256-gcm') {
      return err(CryptoErrors.CRYPTO_INVALID_KEY('JWE A256GCM needs an aes-256-gcm primary key'));
    }
    const exhausted = internals.count();
    if (exhausted !== undefined) return err(exhausted);
    kid = String(chosen.id);
  } else {
    chosen = rawKey(key as Uint8Array | string);
    if (chosen === undefined) {
      return err(CryptoErrors.CRYPTO_INVALID_KEY('a JWE A256GCM key is 32 bytes'));
    }
  }
  const extra = options.header ?? {};
  if (
    typeof extra !== 'object' ||
    extra === null ||
    Object.keys(extra).some((name) => RESERVED.has(name))
  ) {
    return err(
      CryptoErrors.CRYPTO_INVALID_INPUT(
        'header must be an object without alg, enc, kid, zip or crit',
      ),
    );
  }
  const header = { ...extra, alg: 'dir', enc: 'A256GCM', ...(kid === undefined ? {} : { kid }) };
  const protectedHeader = Buffer.from(JSON.stringify(header), 'utf8').toString('base64url');
  const iv = randomBytes(NONCE_BYTES);
  const [body, tag] = seal(
    'aes-256-gcm',
    chosen.key,
    iv,
    data,
    Buffer.from(protectedHeader, 'ascii'),
  );
  return ok(
    `${protectedHeader}..${iv.toString('base64url')}.${body.toString('base64url')}.${tag.toString('base64url')}`,
  );
}

function parseHeader(segment: string): JweHeader | undefined {
  const bytes = fromBase64url(segment);
  if (bytes === undefined) return undefined;
  let header: unknown;
  try {
    header = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return undefined;
  const fields = header as Record<string, unknown>;
  // We implement no extension and no compression: refuse what we would not honour.
  if (fields.alg !== 'dir' || fields.enc !== 'A256GCM' || 'crit' in fields || 'zip' in fields) {
    return undefined;
  }
  if (fields.kid !== undefined && typeof fields.kid !== 'string') return undefined;
  return fields as JweHeader;
}

/**
 * Decrypts a JWE in compact serialization with `alg: "dir"` and `enc: "A256GCM"`, written by us
 * or by any JOSE library. Every other `alg` and `enc` is refused (no algorithm confusion), as
 * are `zip` and `crit`. With a keyring, the `kid` picks the key (a JWE without `kid` tries each
 * enabled AES-256-GCM key).
 *
 * @returns `Ok({ plaintext, header })`; `Err` `CRYPTO_DECRYPT_FAILED` for anything else.
 */
export function fromJwe(
  key: JweKey,
  jwe: string,
  options: FromJweOptions = {},
): Result<OpenedJwe, ProdError> {
  const maxLength = options.maxLength ?? DEFAULT_MAX_LENGTH;
  if (typeof jwe !== 'string' || jwe.length > maxLength) return err(failed());
  const parts = jwe.split('.');
  if (parts.length !== 5) return err(failed());
  const [protectedHeader, encryptedKey, ivText, bodyText, tagText] = parts as [
    string,
    string,
    string,
    string,
    string,
  ];
  if (encryptedKey !== '') return err(failed());
  const header = parseHeader(protectedHeader);
  const iv = fromBase64url(ivText);
  const body = fromBase64url(bodyText);
  const tag = fromBase64url(tagText);
  if (
    header === undefined ||
    iv?.length !== NONCE_BYTES ||
    body === undefined ||
    tag?.length !== TAG_BYTES
  ) {
    return err(failed());
  }
  const internals = internalsOf(key);
  let candidates: RawKey[];
  if (internals !== undefined) {
    if (header.kid !== undefined) {
      const id = /^\d{1,10}$/.test(header.kid) ? Number(header.kid) : Number.NaN;
      const found = Number.isNaN(id) ? undefined : internals.key(id);
      candidates = found === undefined ? [] : [found];
    } else {
      candidates = internals.usable();
    }
  } else {
    const raw = rawKey(key as Uint8Array | string);
    candidates = raw === undefined ? [] : [raw];
  }
  const aad = Buffer.from(protectedHeader, 'ascii');
  for (const candidate of candidates) {
    if (candidate.algorithm !== 'aes-256-gcm') continue;
    const plaintext = open('aes-256-gcm', candidate.key, iv, body, tag, aad);
    if (plaintext !== undefined) return ok({ plaintext, header });
  }
  return err(failed());
}
