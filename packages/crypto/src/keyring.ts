import { Buffer } from 'node:buffer';
import { createSecretKey, type KeyObject, randomBytes, randomFillSync } from 'node:crypto';
import { err, ok, optionChecks, type ProdError, type Result } from '@prod/core';
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
import { type BytesLike, base64url, fromBase64url, keyBytes, toBytes } from './internal/bytes.js';
import { type KeyringInternals, registerInternals } from './internal/keyring-internals.js';

export type { AeadAlgorithm } from './internal/aead.js';

/**
 * What a key may do. `primary`: encrypts and decrypts (exactly one key). `enabled`: decrypts
 * only, so data written under it stays readable after a rotation. `disabled`: neither, kept
 * so it can be enabled again; what it encrypted does not decrypt while it is disabled.
 */
export type KeyStatus = 'primary' | 'enabled' | 'disabled';

/** One key of a keyring, as it is configured (and as {@link Keyring.exportKeys} gives it back). */
export interface KeySpec {
  /** The key id written into every ciphertext: an integer from 0 to 2^32 - 1. */
  readonly id: number;
  /** 32 bytes of key material, as bytes or as base64url text (43 characters). */
  readonly key: string | Uint8Array;
  /** Default `aes-256-gcm`. */
  readonly algorithm?: AeadAlgorithm;
  /** Default `enabled`. */
  readonly status?: KeyStatus;
}

/** A key as the keyring reports it (never its material). */
export interface KeyInfo {
  readonly id: number;
  readonly algorithm: AeadAlgorithm;
  readonly status: KeyStatus;
  /** Messages this process has encrypted under the key since the keyring was created. */
  readonly messages: number;
}

/** What {@link KeyringOptions.onBudget} is told. */
export interface BudgetEvent {
  readonly keyId: number;
  readonly messages: number;
  readonly budget: number;
  /** `warning` when `warnAt` of the budget is used, `exhausted` when all of it is. */
  readonly level: 'warning' | 'exhausted';
}

/** Options of {@link createKeyring}. */
export interface KeyringOptions {
  /** The keys; exactly one has `status: 'primary'`. */
  readonly keys: readonly KeySpec[];
  /**
   * Messages one key may encrypt with random 96-bit nonces. Default 2^32, the bound of NIST
   * SP 800-38D section 8.3 (the chance of a repeated nonce stays under 2^-32). Counted per
   * process: with N processes sharing a key, divide it by N or count centrally.
   */
  readonly messageBudget?: number;
  /** Fraction of the budget at which `onBudget` is warned. Default 0.5. */
  readonly warnAt?: number;
  /** Whether encrypting past the budget fails with `CRYPTO_KEY_EXHAUSTED`. Default true. */
  readonly enforceBudget?: boolean;
  /** Told once per key when it reaches `warnAt`, and once when it is exhausted. */
  readonly onBudget?: (event: BudgetEvent) => void;
}

/** The crypto error type. */
export type CryptoError = ProdError;

/**
 * A set of AEAD keys with ids and one primary key, after Google Tink's keysets: encryption
 * uses the primary key and writes its id into the ciphertext; decryption picks the key by that
 * id, so data stays readable after a rotation as long as its key is enabled.
 *
 * Ciphertext format (33 bytes of overhead): `0x01` (format version) | key id (4 bytes,
 * big-endian) | nonce (12 bytes, random) | ciphertext | tag (16 bytes). As in Tink, the 5-byte
 * prefix is not authenticated: it only picks the key, and a changed prefix picks another key
 * (or none), whose tag check then fails. Keeping it out of the AEAD's associated data saves a
 * call per message (about a fifth of the cost of a 100-byte decryption).
 */
export interface Keyring {
  /** The id of the primary key. */
  readonly primaryId: number;
  /**
   * Encrypts under the primary key. `aad` (associated data: a record id, a field name, a
   * tenant) is authenticated, not encrypted: decryption must be given the same.
   *
   * @returns `Ok(ciphertext)`; `Err` `CRYPTO_INVALID_INPUT` (not a string or bytes) or
   * `CRYPTO_KEY_EXHAUSTED` (the primary key used its budget).
   */
  encrypt(plaintext: BytesLike, aad?: BytesLike): Result<Buffer, CryptoError>;
  /**
   * Decrypts what {@link Keyring.encrypt} wrote, under the key it names.
   *
   * @returns `Ok(plaintext)`; `Err` `CRYPTO_DECRYPT_FAILED` for anything wrong (unknown or
   * disabled key id, tampered or truncated bytes, other associated data), never a partial
   * plaintext.
   */
  decrypt(ciphertext: Uint8Array, aad?: BytesLike): Result<Buffer, CryptoError>;
  /** {@link Keyring.encrypt} of UTF-8 text, as base64url text (for a `text` column). */
  encryptString(plaintext: string, aad?: BytesLike): Result<string, CryptoError>;
  /** {@link Keyring.decrypt} of base64url text into UTF-8 text. */
  decryptString(ciphertext: string, aad?: BytesLike): Result<string, CryptoError>;
  /**
   * The key id a ciphertext (bytes or base64url text) names, without decrypting it; undefined
   * when it is not in our format. Unauthenticated: use it to find records to re-encrypt.
   */
  keyIdOf(ciphertext: Uint8Array | string): number | undefined;
  /** Every key, primary first. */
  keys(): KeyInfo[];
  /**
   * Adds a key, `enabled` by default. Rotation without a window where some instances cannot
   * read new data: add the new key everywhere first, then {@link Keyring.promote} it.
   *
   * @returns `Err` `CRYPTO_INVALID_KEY` (bad material, an id already used).
   */
  add(spec: KeySpec): Result<KeyInfo, CryptoError>;
  /** Makes a key primary; the previous primary becomes `enabled`. `Err` `CRYPTO_KEY_NOT_FOUND`. */
  promote(id: number): Result<KeyInfo, CryptoError>;
  /** Marks a key `enabled` (decrypt-only). `Err` `CRYPTO_KEY_NOT_FOUND`, or `CRYPTO_INVALID_KEY` for the primary. */
  enable(id: number): Result<KeyInfo, CryptoError>;
  /** Marks a key `disabled`. `Err` `CRYPTO_KEY_NOT_FOUND`, or `CRYPTO_INVALID_KEY` for the primary. */
  disable(id: number): Result<KeyInfo, CryptoError>;
  /**
   * Generates a fresh key, adds it and makes it primary in one step, and returns its spec
   * (with the material) so you can store it: a keyring lives in memory only.
   */
  rotate(options?: { readonly algorithm?: AeadAlgorithm }): Result<KeySpec, CryptoError>;
  /** Every key with its material (base64url), for your secret store. Handle with care. */
  exportKeys(): KeySpec[];
}

const FORMAT_VERSION = 0x01;
const HEADER_BYTES = 5;
const OVERHEAD = HEADER_BYTES + NONCE_BYTES + TAG_BYTES;
const MAX_KEY_ID = 0xffff_ffff;
const check = optionChecks(CryptoErrors.CRYPTO_INVALID_OPTIONS);

interface KeyEntry {
  readonly id: number;
  readonly algorithm: AeadAlgorithm;
  status: KeyStatus;
  readonly key: KeyObject;
  messages: number;
  warned: boolean;
  exhausted: boolean;
}

/** A fresh key spec: a random id and 32 random bytes (base64url). */
export function generateKey(algorithm: AeadAlgorithm = 'aes-256-gcm'): KeySpec {
  if (!AEAD_ALGORITHMS.includes(algorithm)) {
    throw CryptoErrors.CRYPTO_INVALID_INPUT({
      message: `algorithm must be one of ${AEAD_ALGORITHMS.join(', ')}`,
    });
  }
  return {
    id: randomBytes(4).readUInt32BE(0),
    key: randomBytes(KEY_BYTES).toString('base64url'),
    algorithm,
    status: 'enabled',
  };
}

function invalidKeys(message: string): never {
  throw CryptoErrors.CRYPTO_INVALID_OPTIONS({
    message: `option keys: ${message}`,
    details: { option: 'keys', expected: 'valid key specs with exactly one primary' },
  });
}

function keyError(message: string): ProdError {
  return CryptoErrors.CRYPTO_INVALID_KEY({ message });
}

function entryOf(spec: unknown): Result<KeyEntry, ProdError> {
  if (typeof spec !== 'object' || spec === null) return err(keyError('a key must be an object'));
  const { id, key, algorithm = 'aes-256-gcm', status = 'enabled' } = spec as KeySpec;
  if (!Number.isInteger(id) || id < 0 || id > MAX_KEY_ID) {
    return err(keyError('a key id must be an integer from 0 to 2^32 - 1'));
  }
  if (!AEAD_ALGORITHMS.includes(algorithm)) {
    return err(keyError(`key ${id}: algorithm must be one of ${AEAD_ALGORITHMS.join(', ')}`));
  }
  if (status !== 'primary' && status !== 'enabled' && status !== 'disabled') {
    return err(keyError(`key ${id}: status must be primary, enabled or disabled`));
  }
  const material = keyBytes(key);
  if (material === undefined || material.length !== KEY_BYTES) {
    return err(keyError(`key ${id}: the key must be 32 bytes (or 43 base64url characters)`));
  }
  const entry: KeyEntry = {
    id,
    algorithm,
    status,
    key: createSecretKey(material),
    messages: 0,
    warned: false,
    exhausted: false,
  };
  material.fill(0);
  return ok(entry);
}

const infoOf = (entry: KeyEntry): KeyInfo => ({
  id: entry.id,
  algorithm: entry.algorithm,
  status: entry.status,
  messages: entry.messages,
});

/**
 * Creates a keyring from key specs (from your configuration or secret store).
 *
 * @throws `CRYPTO_INVALID_OPTIONS` when the options or keys are unusable (no primary, two
 * primaries, a duplicate id, key material that is not 32 bytes).
 * @example
 * const keyring = createKeyring({
 *   keys: [{ id: 1, key: 'fjJp5k0zT0o6QRa4nAvKgl3G0j3ZkXbLmzrI2R1m9Bo', status: 'primary' }],
 * });
 * const sealed = keyring.encryptString('4111 1111 1111 1111', 'user:42');
 * if (sealed.ok) {
 *   const opened = keyring.decryptString(sealed.value, 'user:42'); // Ok('4111 1111 1111 1111')
 * }
 */
export function createKeyring(options: KeyringOptions): Keyring {
  const given = check.object<KeyringOptions>('options', options);
  if (!Array.isArray(given.keys) || given.keys.length === 0) {
    check.fail('keys', 'a non-empty array of key specs', given.keys);
  }
  const budget = check.integer('messageBudget', given.messageBudget, 2 ** 32, { min: 1 });
  const warnAt = check.number('warnAt', given.warnAt, 0.5, { min: 0, max: 1 });
  const enforce = check.boolean('enforceBudget', given.enforceBudget, true);
  const onBudget = check.fn<(event: BudgetEvent) => void>('onBudget', given.onBudget);

  const entries = new Map<number, KeyEntry>();
  let primary: KeyEntry | undefined;
  for (const spec of given.keys) {
    const entry = entryOf(spec);
    if (!entry.ok) invalidKeys(entry.error.message);
    const value = (entry as { value: KeyEntry }).value;
    if (entries.has(value.id)) invalidKeys(`key id ${value.id} appears twice`);
    if (value.status === 'primary') {
      if (primary !== undefined) invalidKeys('more than one key is primary');
      primary = value;
    }
    entries.set(value.id, value);
  }
  if (primary === undefined) invalidKeys('no key is primary (exactly one must be)');
  let current = primary as KeyEntry;

  const warnThreshold = Math.max(1, Math.floor(budget * warnAt));
  const count = (entry: KeyEntry): ProdError | undefined => {
    if (entry.messages >= budget) {
      if (!entry.exhausted) {
        entry.exhausted = true;
        onBudget?.({ keyId: entry.id, messages: entry.messages, budget, level: 'exhausted' });
      }
      if (enforce) {
        return CryptoErrors.CRYPTO_KEY_EXHAUSTED({
          message: `key ${entry.id} has encrypted ${entry.messages} messages, its budget: rotate`,
          details: { keyId: entry.id, budget },
        });
      }
    }
    entry.messages += 1;
    if (!entry.warned && entry.messages >= warnThreshold && warnAt > 0) {
      entry.warned = true;
      onBudget?.({ keyId: entry.id, messages: entry.messages, budget, level: 'warning' });
    }
    return undefined;
  };

  const decryptFailed = (): ProdError =>
    CryptoErrors.CRYPTO_DECRYPT_FAILED({
      message: 'the ciphertext could not be decrypted',
      captureStack: false,
    });

  const encryptBytes = (plaintext: unknown, aad: unknown): Result<Buffer, ProdError> => {
    const data = toBytes(plaintext);
    if (data === undefined) {
      return err(CryptoErrors.CRYPTO_INVALID_INPUT('the plaintext must be a string or bytes'));
    }
    const extra = aad === undefined ? undefined : toBytes(aad);
    if (aad !== undefined && extra === undefined) {
      return err(
        CryptoErrors.CRYPTO_INVALID_INPUT('the associated data must be a string or bytes'),
      );
    }
    const entry = current;
    const exhausted = count(entry);
    if (exhausted !== undefined) return err(exhausted);
    const out = Buffer.allocUnsafe(OVERHEAD + data.length);
    out[0] = FORMAT_VERSION;
    out.writeUInt32BE(entry.id, 1);
    const nonce = out.subarray(HEADER_BYTES, HEADER_BYTES + NONCE_BYTES);
    randomFillSync(nonce);
    const [body, tag] = seal(entry.algorithm, entry.key, nonce, data, extra);
    body.copy(out, HEADER_BYTES + NONCE_BYTES);
    tag.copy(out, HEADER_BYTES + NONCE_BYTES + data.length);
    return ok(out);
  };

  const decryptBytes = (ciphertext: unknown, aad: unknown): Result<Buffer, ProdError> => {
    if (!(ciphertext instanceof Uint8Array) || ciphertext.length < OVERHEAD) {
      return err(decryptFailed());
    }
    const extra = aad === undefined ? undefined : toBytes(aad);
    if (aad !== undefined && extra === undefined) return err(decryptFailed());
    const bytes = Buffer.isBuffer(ciphertext)
      ? ciphertext
      : Buffer.from(ciphertext.buffer, ciphertext.byteOffset, ciphertext.byteLength);
    if (bytes[0] !== FORMAT_VERSION) return err(decryptFailed());
    const entry = entries.get(bytes.readUInt32BE(1));
    if (entry === undefined || entry.status === 'disabled') return err(decryptFailed());
    const end = bytes.length - TAG_BYTES;
    const plaintext = open(
      entry.algorithm,
      entry.key,
      bytes.subarray(HEADER_BYTES, HEADER_BYTES + NONCE_BYTES),
      bytes.subarray(HEADER_BYTES + NONCE_BYTES, end),
      bytes.subarray(end),
      extra,
    );
    return plaintext === undefined ? err(decryptFailed()) : ok(plaintext);
  };

  const find = (id: number): Result<KeyEntry, ProdError> => {
    const entry = entries.get(id);
    return entry === undefined
      ? err(CryptoErrors.CRYPTO_KEY_NOT_FOUND({ message: `no key ${id} in the keyring` }))
      : ok(entry);
  };
  const setStatus = (id: number, status: 'enabled' | 'disabled'): Result<KeyInfo, ProdError> => {
    const found = find(id);
    if (!found.ok) return found;
    if (found.value === current) {
      return err(keyError(`key ${id} is the primary key: promote another key first`));
    }
    found.value.status = status;
    return ok(infoOf(found.value));
  };

  const keyring: Keyring = {
    get primaryId() {
      return current.id;
    },
    encrypt: encryptBytes,
    decrypt: decryptBytes,
    encryptString(plaintext, aad) {
      if (typeof plaintext !== 'string') {
        return err(CryptoErrors.CRYPTO_INVALID_INPUT('the plaintext must be a string'));
      }
      const sealed = encryptBytes(plaintext, aad);
      return sealed.ok ? ok(sealed.value.toString('base64url')) : sealed;
    },
    decryptString(ciphertext, aad) {
      if (typeof ciphertext !== 'string') return err(decryptFailed());
      const bytes = fromBase64url(ciphertext);
      if (bytes === undefined) return err(decryptFailed());
      const opened = decryptBytes(bytes, aad);
      return opened.ok ? ok(opened.value.toString('utf8')) : opened;
    },
    keyIdOf(ciphertext) {
      const bytes =
        typeof ciphertext === 'string'
          ? fromBase64url(ciphertext.slice(0, 8))
          : ciphertext instanceof Uint8Array
            ? Buffer.from(ciphertext.buffer, ciphertext.byteOffset, ciphertext.byteLength)
            : undefined;
      if (bytes === undefined || bytes.length < HEADER_BYTES || bytes[0] !== FORMAT_VERSION) {
        return undefined;
      }
      return bytes.readUInt32BE(1);
    },
    keys() {
      return [current, ...[...entries.values()].filter((entry) => entry !== current)].map(infoOf);
    },
    add(spec) {
      const entry = entryOf(spec);
      if (!entry.ok) return entry;
      if (entries.has(entry.value.id)) return err(keyError(`key id ${entry.value.id} is taken`));
      const added = entry.value;
      const primaryAsked = added.status === 'primary';
      if (primaryAsked) added.status = 'enabled';
      entries.set(added.id, added);
      if (primaryAsked) return keyring.promote(added.id);
      return ok(infoOf(added));
    },
    promote(id) {
      const found = find(id);
      if (!found.ok) return found;
      if (found.value !== current) {
        current.status = 'enabled';
        found.value.status = 'primary';
        current = found.value;
      }
      return ok(infoOf(current));
    },
    enable: (id) => setStatus(id, 'enabled'),
    disable: (id) => setStatus(id, 'disabled'),
    rotate(rotateOptions = {}) {
      const algorithm = rotateOptions.algorithm ?? current.algorithm;
      if (!AEAD_ALGORITHMS.includes(algorithm)) {
        return err(CryptoErrors.CRYPTO_INVALID_INPUT({ message: 'unknown algorithm' }));
      }
      let spec = generateKey(algorithm);
      while (entries.has(spec.id)) spec = generateKey(algorithm);
      const added = keyring.add({ ...spec, status: 'primary' });
      if (!added.ok) return added;
      return ok({ ...spec, status: 'primary' });
    },
    exportKeys() {
      return keyring.keys().map((info) => {
        const entry = entries.get(info.id) as KeyEntry;
        return {
          id: info.id,
          key: base64url(entry.key.export()),
          algorithm: info.algorithm,
          status: info.status,
        };
      });
    },
  };
  const internals: KeyringInternals = {
    key(id) {
      const entry = entries.get(id);
      return entry === undefined || entry.status === 'disabled'
        ? undefined
        : { id: entry.id, algorithm: entry.algorithm, key: entry.key };
    },
    primary: () => ({ id: current.id, algorithm: current.algorithm, key: current.key }),
    usable: () =>
      [...entries.values()]
        .filter((entry) => entry.status !== 'disabled')
        .map((entry) => ({ id: entry.id, algorithm: entry.algorithm, key: entry.key })),
    count: () => count(current),
  };
  registerInternals(keyring, internals);
  return keyring;
}

/**
 * Reads a keyring from JSON (an environment variable, a secret manager's value): an array of
 * key specs, or `{ "keys": [...] }`.
 *
 * @returns `Ok(keyring)`; `Err` `CRYPTO_INVALID_KEY` naming what is wrong (never the material).
 * @example
 * declare const env: Record<string, string | undefined>;
 * const keyring = keyringFromJson(env.NOTES_KEYS ?? '');
 * if (!keyring.ok) throw keyring.error;
 */
export function keyringFromJson(
  json: string,
  options: Omit<KeyringOptions, 'keys'> = {},
): Result<Keyring, CryptoError> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return err(keyError('the keyring is not JSON'));
  }
  const keys = Array.isArray(parsed) ? parsed : (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) return err(keyError('the keyring must be an array of key specs'));
  try {
    return ok(createKeyring({ ...options, keys }));
  } catch (error) {
    if (!CryptoErrors.CRYPTO_INVALID_OPTIONS.is(error)) throw error;
    return err(keyError(error.message));
  }
}
