import { Buffer } from 'node:buffer';
import { createHmac } from 'node:crypto';
import { err, ok, optionChecks, type ProdError, type Result } from '@prod/core';
import { CryptoErrors } from './errors.js';
import { hkdf } from './hkdf.js';
import { type BytesLike, toBytes } from './internal/bytes.js';
import type { Keyring } from './keyring.js';

/** How one field is protected. */
export interface FieldSpec {
  /**
   * The property that receives the field's blind index (an HMAC of its value), for equality
   * search: `WHERE email_index = $1` with `index('email', input)`. None by default.
   */
  readonly index?: string;
  /** Applied to the value before indexing (not before encrypting): `(v) => v.trim().toLowerCase()`. */
  readonly normalize?: (value: string) => string;
}

/** The fields to encrypt: `true` or a {@link FieldSpec} each. */
export type FieldSpecs<TRecord> = { readonly [TKey in keyof TRecord]?: FieldSpec | true };

/** Names of the index properties a spec adds. */
type IndexNames<TSpecs> = {
  [TKey in keyof TSpecs]: TSpecs[TKey] extends { readonly index: infer TName extends string }
    ? TName
    : never;
}[keyof TSpecs];

/** A record as stored: encrypted fields are base64url text, index properties are added. */
export type EncryptedRecord<TRecord, TSpecs> = {
  [TKey in keyof TRecord]: TKey extends keyof TSpecs
    ? undefined extends TRecord[TKey]
      ? string | undefined
      : null extends TRecord[TKey]
        ? string | null
        : string
    : TRecord[TKey];
} & { [TName in IndexNames<TSpecs>]: string | null };

/** Options of {@link fieldEncryption}. */
export interface FieldEncryptionOptions<TRecord, TSpecs extends FieldSpecs<TRecord>> {
  readonly keyring: Keyring;
  /** The fields to encrypt, and which get a blind index. */
  readonly fields: TSpecs;
  /**
   * Secret for the blind indexes, at least 32 bytes (text is used as its UTF-8 bytes), separate from the
   * keyring: it cannot be rotated without re-indexing, so keep it stable. Required when a
   * field has an `index`.
   */
  readonly indexKey?: BytesLike;
  /** Bytes of each index (16 to 32). Default 16: collisions stay negligible, storage small. */
  readonly indexBytes?: number;
  /**
   * Extra associated data per record (its id, its tenant), bound to every field's ciphertext
   * so that an encrypted value cannot be copied into another record. It must read fields that
   * are not encrypted (it is called on the stored record when decrypting).
   */
  readonly context?: (record: TRecord) => string;
}

/** Encrypts and decrypts selected fields of records. */
export interface FieldEncryption<TRecord, TSpecs> {
  /**
   * Encrypts the fields (as JSON, so numbers and objects survive) and adds their indexes.
   * `null` and `undefined` stay as they are, unencrypted (their index is `null`).
   *
   * @returns `Ok(record)`; `Err` `CRYPTO_INVALID_INPUT` (a value JSON cannot hold) or the
   * keyring's error.
   */
  encrypt(record: TRecord): Result<EncryptedRecord<TRecord, TSpecs>, ProdError>;
  /**
   * Decrypts the fields back (the index properties are dropped).
   *
   * @returns `Ok(record)`; `Err` `CRYPTO_DECRYPT_FAILED` when a field does not decrypt (wrong
   * record context, tampered, unknown key).
   */
  decrypt(stored: EncryptedRecord<TRecord, TSpecs>): Result<TRecord, ProdError>;
  /** The blind index of a value for a field, to search by: the same value gives the same index. */
  index(field: keyof TSpecs & string, value: unknown): string;
}

const check = optionChecks(CryptoErrors.CRYPTO_INVALID_OPTIONS);

/**
 * Field-level encryption for records (after CipherSweet): selected fields are encrypted with
 * the keyring, each bound to its field name (and the record's `context`), and fields with an
 * `index` get a deterministic HMAC blind index, so `email = ?` still works on encrypted data.
 *
 * Gotchas: a blind index reveals which records share a value (and, for low-entropy fields, the
 * value itself to anyone who holds the index key and can guess): index only what you search.
 *
 * @throws `CRYPTO_INVALID_OPTIONS` (no keyring, an index without `indexKey`, a short key).
 * @example
 * interface User { id: string; email: string; phone?: string }
 * const keyring = createKeyring({ keys: [{ ...generateKey(), status: 'primary' }] });
 * const users = fieldEncryption<User, { email: { index: 'emailIndex'; normalize: (v: string) => string }; phone: true }>({
 *   keyring,
 *   indexKey: 'a-separate-32-byte-or-longer-index-secret',
 *   fields: { email: { index: 'emailIndex', normalize: (v) => v.trim().toLowerCase() }, phone: true },
 *   context: (user) => user.id,
 * });
 * const stored = users.encrypt({ id: 'u1', email: 'Ada@example.com' });
 * const lookup = users.index('email', 'ada@example.com'); // equals stored.value.emailIndex
 */
export function fieldEncryption<TRecord extends object, const TSpecs extends FieldSpecs<TRecord>>(
  options: FieldEncryptionOptions<TRecord, TSpecs>,
): FieldEncryption<TRecord, TSpecs> {
  const given = check.object<FieldEncryptionOptions<TRecord, TSpecs>>('options', options);
  const keyring = given.keyring;
  if (typeof keyring?.encryptString !== 'function') check.fail('keyring', 'a Keyring', keyring);
  const fields = check.object<Record<string, FieldSpec | true>>('fields', given.fields);
  const names = Object.keys(fields);
  if (names.length === 0) check.fail('fields', 'at least one field', 'none');
  const context = check.fn<(record: TRecord) => string>('context', given.context);
  const indexBytes = check.integer('indexBytes', given.indexBytes, 16, { min: 16, max: 32 });
  const specs = new Map<string, FieldSpec>();
  for (const name of names) {
    const spec = fields[name];
    if (spec !== true && (typeof spec !== 'object' || spec === null)) {
      check.fail(`fields.${name}`, 'true or a field spec', spec);
    }
    const value = spec === true ? {} : (spec as FieldSpec);
    if (value.index !== undefined && (typeof value.index !== 'string' || value.index === '')) {
      check.fail(`fields.${name}.index`, 'a property name', value.index);
    }
    if (value.normalize !== undefined && typeof value.normalize !== 'function') {
      check.fail(`fields.${name}.normalize`, 'a function', value.normalize);
    }
    specs.set(name, value);
  }
  const indexed = [...specs.values()].some((spec) => spec.index !== undefined);
  const material = given.indexKey === undefined ? undefined : toBytes(given.indexKey);
  if (indexed && (material === undefined || material.length < 32)) {
    check.fail(
      'indexKey',
      'a secret of at least 32 bytes (needed by the indexed fields)',
      given.indexKey === undefined ? undefined : 'a short key',
    );
  }
  // One subkey per field: the same value in two fields gives unrelated indexes.
  const subkeys = new Map<string, Buffer>();
  for (const [name, spec] of specs) {
    if (spec.index === undefined || material === undefined) continue;
    const derived = hkdf(material, { salt: '@prod/crypto blind index', info: `field:${name}` });
    if (derived.ok) subkeys.set(name, derived.value);
  }

  const aadOf = (name: string, record: TRecord): string =>
    context === undefined ? `field:${name}` : `field:${name}\u0000${context(record)}`;

  const indexOf = (name: string, value: unknown): string => {
    const key = subkeys.get(name);
    if (key === undefined) {
      throw CryptoErrors.CRYPTO_INVALID_INPUT(`field ${name} has no blind index`);
    }
    const spec = specs.get(name) as FieldSpec;
    const text =
      typeof value === 'string'
        ? (spec.normalize?.(value) ?? value)
        : JSON.stringify(value === undefined ? null : value);
    return createHmac('sha256', key)
      .update(Buffer.from(text, 'utf8'))
      .digest()
      .subarray(0, indexBytes)
      .toString('base64url');
  };

  return {
    encrypt(record) {
      if (typeof record !== 'object' || record === null) {
        return err(CryptoErrors.CRYPTO_INVALID_INPUT('a record must be an object'));
      }
      const out: Record<string, unknown> = { ...(record as Record<string, unknown>) };
      for (const [name, spec] of specs) {
        const value = (record as Record<string, unknown>)[name];
        if (value === undefined || value === null) {
          if (spec.index !== undefined) out[spec.index] = null;
          continue;
        }
        let json: string | undefined;
        try {
          json = JSON.stringify(value);
        } catch {
          json = undefined;
        }
        if (json === undefined) {
          return err(CryptoErrors.CRYPTO_INVALID_INPUT(`field ${name} cannot be stored as JSON`));
        }
        const sealed = keyring.encryptString(json, aadOf(name, record));
        if (!sealed.ok) return sealed;
        out[name] = sealed.value;
        if (spec.index !== undefined) out[spec.index] = indexOf(name, value);
      }
      return ok(out as EncryptedRecord<TRecord, TSpecs>);
    },
    decrypt(stored) {
      if (typeof stored !== 'object' || stored === null) {
        return err(CryptoErrors.CRYPTO_INVALID_INPUT('a record must be an object'));
      }
      const out: Record<string, unknown> = { ...stored };
      const plain = { ...stored } as unknown as TRecord;
      for (const [name, spec] of specs) {
        if (spec.index !== undefined) delete out[spec.index];
        const value = (stored as Record<string, unknown>)[name];
        if (value === undefined || value === null) continue;
        if (typeof value !== 'string') {
          return err(
            CryptoErrors.CRYPTO_DECRYPT_FAILED({
              message: `field ${name} is not a ciphertext`,
              captureStack: false,
            }),
          );
        }
        const opened = keyring.decryptString(value, aadOf(name, plain));
        if (!opened.ok) return opened;
        try {
          out[name] = JSON.parse(opened.value);
        } catch {
          return err(
            CryptoErrors.CRYPTO_DECRYPT_FAILED({
              message: `field ${name} is not JSON`,
              captureStack: false,
            }),
          );
        }
      }
      return ok(out as TRecord);
    },
    index: (field, value) => indexOf(field, value),
  };
}
