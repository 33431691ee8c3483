import { CoreErrors, err } from '@prod/core';
import { createKeyring, generateKey, reencrypt } from '@prod/crypto';
import { describe, expect, it } from 'vitest';

interface Row {
  id: number;
  body: string;
}

function table(count: number) {
  const keyring = createKeyring({ keys: [{ ...generateKey(), status: 'primary' }] });
  const rows: Row[] = [];
  for (let id = 1; id <= count; id++) {
    const sealed = keyring.encryptString(`note ${id}`, `note:${id}`);
    if (!sealed.ok) throw sealed.error;
    rows.push({ id, body: sealed.value });
  }
  const batches: number[] = [];
  const options = {
    keyring,
    nextBatch: (after: number | undefined, limit: number) => {
      batches.push(limit);
      return rows
        .filter((row) => row.id > (after ?? 0))
        .slice(0, limit)
        .map((row) => ({ ...row }));
    },
    cursor: (row: Row) => row.id,
    ciphertext: (row: Row) => row.body,
    aad: (row: Row) => `note:${row.id}`,
    write: (row: Row, body: Uint8Array | string) => {
      const stored = rows.find((one) => one.id === row.id) as Row;
      stored.body = body as string;
    },
    batchSize: 10,
  };
  return { keyring, rows, batches, options };
}

describe('reencrypt', () => {
  it('moves every record onto the primary key in batches, then a re-run skips them all', async () => {
    const { keyring, rows, batches, options } = table(25);
    const oldId = keyring.primaryId;
    keyring.rotate();
    const report = await reencrypt(options);
    expect(report).toMatchObject({
      ok: true,
      value: {
        scanned: 25,
        reencrypted: 25,
        skipped: 0,
        failed: [],
        lastCursor: 25,
        complete: true,
      },
    });
    expect(batches).toEqual([10, 10, 10, 10]);
    expect(rows.every((row) => keyring.keyIdOf(row.body) === keyring.primaryId)).toBe(true);
    keyring.disable(oldId);
    expect(rows.every((row) => keyring.decryptString(row.body, `note:${row.id}`).ok)).toBe(true);
    const again = await reencrypt(options);
    expect(again).toMatchObject({
      ok: true,
      value: { reencrypted: 0, skipped: 25, complete: true },
    });
  });

  it('reports records that do not decrypt, resumes after a cursor, stops on abort', async () => {
    const { keyring, rows, options } = table(12);
    keyring.rotate();
    (rows[3] as Row).body = 'AQAAAAE';
    const controller = new AbortController();
    const partial = await reencrypt({
      ...options,
      batchSize: 5,
      onBatch: () => controller.abort(),
      signal: controller.signal,
    });
    expect(partial).toMatchObject({
      ok: true,
      value: { scanned: 5, failed: [4], lastCursor: 5, complete: false },
    });
    if (!partial.ok) return;
    const rest = await reencrypt({ ...options, startAfter: partial.value.lastCursor });
    expect(rest).toMatchObject({ ok: true, value: { scanned: 7, reencrypted: 7, complete: true } });
  });

  it('stops with CRYPTO_REENCRYPT_FAILED when a write fails, saying where to resume', async () => {
    const { keyring, options } = table(5);
    keyring.rotate();
    let writes = 0;
    const failing = await reencrypt({
      ...options,
      write: () => (++writes === 3 ? err(CoreErrors.UNAVAILABLE('db down')) : undefined),
    });
    expect(
      !failing.ok && [
        failing.error.code,
        failing.error.retryable,
        failing.error.details?.lastCursor,
      ],
    ).toEqual(['CRYPTO_REENCRYPT_FAILED', true, 2]);
    const throwing = await reencrypt({
      ...options,
      nextBatch: () => Promise.reject(new Error('boom')),
    });
    expect(!throwing.ok && throwing.error.code).toBe('CRYPTO_REENCRYPT_FAILED');
    await expect(() => reencrypt({ ...options, batchSize: 0 })).rejects.toThrow(/batchSize/);
  });
});
