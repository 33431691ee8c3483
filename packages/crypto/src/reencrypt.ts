import {
  err,
  isProdError,
  isResult,
  ok,
  optionChecks,
  type ProdError,
  type Result,
} from '@prod/core';
import { CryptoErrors } from './errors.js';
import type { BytesLike } from './internal/bytes.js';
import type { Keyring } from './keyring.js';

/** Options of {@link reencrypt}. */
export interface ReencryptOptions<TRecord, TCursor> {
  readonly keyring: Keyring;
  /**
   * Reads up to `limit` records after `after` (undefined for the first batch), in a stable
   * order (by primary key): `SELECT ... WHERE id > $1 ORDER BY id LIMIT $2`. An empty batch
   * ends the walk.
   */
  readonly nextBatch: (
    after: TCursor | undefined,
    limit: number,
  ) => Promise<readonly TRecord[]> | readonly TRecord[];
  /** The cursor of a record (its primary key). */
  readonly cursor: (record: TRecord) => TCursor;
  /** The stored ciphertext (bytes, or base64url text); undefined skips the record. */
  readonly ciphertext: (record: TRecord) => Uint8Array | string | undefined;
  /** The associated data the record was encrypted with, if any. */
  readonly aad?: (record: TRecord) => BytesLike | undefined;
  /**
   * Stores the new ciphertext (same form as read: text for text). Make it conditional on the
   * old value (`UPDATE ... WHERE id = $1 AND body = $old`) so a concurrent write is not lost.
   * A throw or an `Err` stops the walk.
   */
  readonly write: (
    record: TRecord,
    ciphertext: Uint8Array | string,
  ) => Promise<unknown> | undefined | unknown;
  /** Records per batch. Default 100. */
  readonly batchSize?: number;
  /** Resume after this cursor (the `lastCursor` of a previous report). */
  readonly startAfter?: TCursor | undefined;
  /** Stops between records; the report says `complete: false`. */
  readonly signal?: AbortSignal;
  /** Told after each batch. */
  readonly onBatch?: (report: ReencryptReport<TCursor>) => void;
}

/** What a re-encryption walk did. */
export interface ReencryptReport<TCursor> {
  readonly scanned: number;
  /** Records moved onto the primary key. */
  readonly reencrypted: number;
  /** Records already under the primary key (or without a ciphertext). */
  readonly skipped: number;
  /** Records whose ciphertext did not decrypt (left as they are), by cursor. */
  readonly failed: readonly TCursor[];
  /** The cursor of the last record handled: pass it as `startAfter` to resume. */
  readonly lastCursor: TCursor | undefined;
  /** True when the walk reached the end (not aborted). */
  readonly complete: boolean;
}

const check = optionChecks(CryptoErrors.CRYPTO_INVALID_OPTIONS);

/**
 * Walks records in batches and moves every ciphertext that is not under the keyring's primary
 * key onto it: decrypt with the old key, encrypt with the primary, write. Run it after a
 * `rotate()` (or `promote()`), then disable the old key once the report is `complete` with no
 * `failed`. Records already under the primary key are not rewritten, so a walk can be resumed
 * or re-run.
 *
 * @returns `Ok(report)` when the walk ends or is aborted; `Err` `CRYPTO_REENCRYPT_FAILED` when
 * `nextBatch`, `write` or the primary key's budget fails (`details.lastCursor` says where to
 * resume; the cause is kept).
 * @example
 * declare const db: { query(text: string, values: unknown[]): Promise<{ rows: { id: string; body: string }[] }> };
 * declare const keyring: Keyring;
 * const report = await reencrypt({
 *   keyring,
 *   nextBatch: async (after, limit) =>
 *     (await db.query('SELECT id, body FROM notes WHERE id > $1 ORDER BY id LIMIT $2', [after ?? '', limit])).rows,
 *   cursor: (row) => row.id,
 *   ciphertext: (row) => row.body,
 *   aad: (row) => `note:${row.id}`,
 *   write: (row, body) => db.query('UPDATE notes SET body = $2 WHERE id = $1 AND body = $3', [row.id, body, row.body]),
 * });
 */
export async function reencrypt<TRecord, TCursor>(
  options: ReencryptOptions<TRecord, TCursor>,
): Promise<Result<ReencryptReport<TCursor>, ProdError>> {
  const given = check.object<ReencryptOptions<TRecord, TCursor>>('options', options);
  const keyring = given.keyring;
  if (typeof keyring?.decrypt !== 'function') check.fail('keyring', 'a Keyring', keyring);
  const nextBatch = check.fn<ReencryptOptions<TRecord, TCursor>['nextBatch']>(
    'nextBatch',
    given.nextBatch,
  );
  const cursorOf = check.fn<(record: TRecord) => TCursor>('cursor', given.cursor);
  const ciphertextOf = check.fn<ReencryptOptions<TRecord, TCursor>['ciphertext']>(
    'ciphertext',
    given.ciphertext,
  );
  const write = check.fn<ReencryptOptions<TRecord, TCursor>['write']>('write', given.write);
  if (!nextBatch) check.fail('nextBatch', 'a function', undefined);
  if (!cursorOf) check.fail('cursor', 'a function', undefined);
  if (!ciphertextOf) check.fail('ciphertext', 'a function', undefined);
  if (!write) check.fail('write', 'a function', undefined);
  const aadOf = check.fn<(record: TRecord) => BytesLike | undefined>('aad', given.aad);
  const batchSize = check.integer('batchSize', given.batchSize, 100, { min: 1, max: 100_000 });
  const onBatch = check.fn<(report: ReencryptReport<TCursor>) => void>('onBatch', given.onBatch);

  const aborted = (): boolean => given.signal?.aborted === true;
  let scanned = 0;
  let reencrypted = 0;
  let skipped = 0;
  const failed: TCursor[] = [];
  let lastCursor = given.startAfter;
  const report = (complete: boolean): ReencryptReport<TCursor> => ({
    scanned,
    reencrypted,
    skipped,
    failed: [...failed],
    lastCursor,
    complete,
  });
  const stopped = (what: string, cause: unknown): Result<never, ProdError> =>
    err(
      CryptoErrors.CRYPTO_REENCRYPT_FAILED({
        retryable: isProdError(cause) ? cause.retryable : false,
        message: `re-encryption stopped: ${what} failed after ${scanned} records`,
        details: { ...report(false) },
        cause,
      }),
    );

  for (;;) {
    if (aborted()) return ok(report(false));
    let batch: readonly TRecord[];
    try {
      batch = await (nextBatch as NonNullable<typeof nextBatch>)(lastCursor, batchSize);
    } catch (error) {
      return stopped('nextBatch', error);
    }
    if (batch.length === 0) return ok(report(true));
    for (const record of batch) {
      if (aborted()) return ok(report(false));
      const cursor = (cursorOf as (record: TRecord) => TCursor)(record);
      const stored = (ciphertextOf as (record: TRecord) => Uint8Array | string | undefined)(record);
      scanned += 1;
      if (stored === undefined || keyring.keyIdOf(stored) === keyring.primaryId) {
        skipped += 1;
        lastCursor = cursor;
        continue;
      }
      const aad = aadOf?.(record);
      const moved =
        typeof stored === 'string'
          ? (() => {
              const plain = keyring.decryptString(stored, aad);
              return plain.ok ? keyring.encryptString(plain.value, aad) : plain;
            })()
          : (() => {
              const plain = keyring.decrypt(stored, aad);
              return plain.ok ? keyring.encrypt(plain.value, aad) : plain;
            })();
      if (!moved.ok) {
        if (CryptoErrors.CRYPTO_KEY_EXHAUSTED.is(moved.error))
          return stopped('encrypt', moved.error);
        failed.push(cursor);
        lastCursor = cursor;
        continue;
      }
      try {
        const written = await (write as NonNullable<typeof write>)(record, moved.value);
        if (isResult(written) && !written.ok) return stopped('write', written.error);
      } catch (error) {
        return stopped('write', error);
      }
      reencrypted += 1;
      lastCursor = cursor;
    }
    onBatch?.(report(false));
  }
}
