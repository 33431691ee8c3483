import { Buffer } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import { err, ok, optionChecks, type ProdError, type Result } from '@prod/core';
import { CryptoErrors } from './errors.js';
import { crc32 } from './internal/crc32.js';
import { safeEqual } from './safe-equal.js';

/** Options of {@link tokenFormat}. */
export interface TokenFormatOptions {
  /**
   * What every token starts with, before `_`: 2-24 lower-case letters and digits, `_` allowed
   * inside (`prod_live`, `sk_test`). It tells people and secret scanners what the token is.
   */
  readonly prefix: string;
  /** Random base62 characters. Default 32 (about 190 bits). At least 22 (128 bits). */
  readonly randomLength?: number;
}

/** A freshly issued token. */
export interface IssuedToken {
  /** Show it once to its owner; never store it. */
  readonly token: string;
  /** SHA-256 of the token, hex: store this and look the token up by it. */
  readonly hash: string;
  /** A short, safe reminder to show in a list of keys (`prod_live_...a1B2`). */
  readonly hint: string;
}

/** A token that passed the format and checksum checks. */
export interface ParsedToken {
  readonly prefix: string;
  /** The random part. */
  readonly random: string;
  /** The 6-character checksum. */
  readonly checksum: string;
  /** SHA-256 of the whole token, hex: the lookup key. */
  readonly hash: string;
  readonly hint: string;
}

/**
 * A token format in the style of GitHub's tokens: `<prefix>_<random base62><CRC-32 base62>`.
 * The prefix makes tokens recognizable (secret scanning, support); the checksum lets a
 * service reject a mistyped or made-up token before any database lookup.
 */
export interface TokenFormat {
  readonly prefix: string;
  /** Total length of a token. */
  readonly length: number;
  /** Matches a token of this format anywhere in a text (for secret scanning). */
  readonly pattern: RegExp;
  /** Issues a new token with its hash and hint. */
  generate(): IssuedToken;
  /**
   * Checks prefix, length, alphabet and checksum, with no lookup: call it first on what a
   * client sends.
   *
   * @returns `Ok(parsed)` (with the hash to look up); `Err` `CRYPTO_TOKEN_INVALID`.
   */
  parse(input: unknown): Result<ParsedToken, ProdError>;
  /** SHA-256 of a token, hex (the value to store). */
  hash(token: string): string;
  /** Whether a token matches a stored hash, in constant time (after {@link TokenFormat.parse}). */
  matches(token: string, storedHash: string): boolean;
}

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const PREFIX = /^[a-z0-9](?:[a-z0-9_]{0,22}[a-z0-9])?$/;
const CHECKSUM_LENGTH = 6;
const check = optionChecks(CryptoErrors.CRYPTO_INVALID_OPTIONS);

function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // 248 = 4 x 62: rejecting the rest keeps every character equally likely.
      if (byte < 248) out += ALPHABET[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

function base62(value: number, width: number): string {
  let out = '';
  let rest = value;
  for (let i = 0; i < width; i++) {
    out = ALPHABET[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return out;
}

const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * Defines a token format for API keys, personal access tokens, invitation links.
 *
 * @throws `CRYPTO_INVALID_OPTIONS` for a bad prefix or a random part under 128 bits.
 * @example
 * const apiKeys = tokenFormat({ prefix: 'prod_live' });
 * const issued = apiKeys.generate(); // store issued.hash, show issued.token once
 * const parsed = apiKeys.parse(issued.token);
 * if (parsed.ok) {
 *   // SELECT ... FROM api_keys WHERE token_hash = $1, [parsed.value.hash]
 * }
 */
export function tokenFormat(options: TokenFormatOptions): TokenFormat {
  const given = check.object<TokenFormatOptions>('options', options);
  const prefix = check.string('prefix', given.prefix, '', { nonEmpty: true });
  if (!PREFIX.test(prefix)) {
    check.fail('prefix', '2-24 lower-case letters, digits and inner underscores', prefix);
  }
  const randomLength = check.integer('randomLength', given.randomLength, 32, { min: 22, max: 128 });
  const head = `${prefix}_`;
  const length = head.length + randomLength + CHECKSUM_LENGTH;
  const checksumOf = (random: string): string =>
    base62(crc32(Buffer.from(head + random, 'ascii')), CHECKSUM_LENGTH);
  const hintOf = (token: string): string => `${head}...${token.slice(-4)}`;
  const escaped = head.replace(/_/g, '\\_');
  const bad = (message: string): Result<never, ProdError> =>
    err(CryptoErrors.CRYPTO_TOKEN_INVALID({ message, captureStack: false }));

  return {
    prefix,
    length,
    pattern: new RegExp(`\\b${escaped}[0-9A-Za-z]{${randomLength + CHECKSUM_LENGTH}}\\b`, 'g'),
    generate() {
      const random = randomBase62(randomLength);
      const token = head + random + checksumOf(random);
      return { token, hash: sha256Hex(token), hint: hintOf(token) };
    },
    parse(input) {
      if (typeof input !== 'string') return bad('a token must be a string');
      if (input.length !== length || !input.startsWith(head)) {
        return bad(`not a ${prefix} token`);
      }
      const random = input.slice(head.length, head.length + randomLength);
      const checksum = input.slice(head.length + randomLength);
      for (const char of random + checksum) {
        if (!ALPHABET.includes(char)) return bad(`not a ${prefix} token`);
      }
      if (checksum !== checksumOf(random)) return bad('the token checksum does not match');
      return ok({ prefix, random, checksum, hash: sha256Hex(input), hint: hintOf(input) });
    },
    hash: sha256Hex,
    matches(token, storedHash) {
      return typeof token === 'string' && safeEqual(sha256Hex(token), storedHash);
    },
  };
}

/** Random bytes as URL-safe text (base64url): session ids, CSRF tokens, nonces. Default 32 bytes. */
export function randomToken(bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < 16 || bytes > 1024) {
    throw CryptoErrors.CRYPTO_INVALID_INPUT('bytes must be an integer from 16 to 1024');
  }
  return randomBytes(bytes).toString('base64url');
}
