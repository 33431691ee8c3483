import { type PgPoolLike, type SqlQueryable, type SqlResult, toSqlClient } from '@prod/db';
import { describe, expect, it } from 'vitest';

// A stand-in connection recording what it is asked, to test the wrappers' protocol (the real
// drivers are exercised by the integration tests).
function connection(fail: (text: string) => boolean = () => false) {
  const log: string[] = [];
  const queryable: SqlQueryable = {
    async query(text: string): Promise<SqlResult> {
      log.push(text);
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (fail(text)) throw new Error(`failed: ${text}`);
      return { rows: [{ text }], rowCount: 1 };
    },
  };
  return { log, queryable };
}

describe('toSqlClient', () => {
  it('serializes queries and transactions on a single connection', async () => {
    const { log, queryable } = connection();
    const db = toSqlClient(queryable);
    const tx = db.transaction(async (t) => {
      await t.query('A');
      await t.query('B');
    });
    const outside = db.query('OUTSIDE');
    await Promise.all([tx, outside]);
    expect(log).toEqual(['BEGIN', 'A', 'B', 'COMMIT', 'OUTSIDE']);
  });

  it('rolls back and rethrows when the function throws', async () => {
    const { log, queryable } = connection();
    const db = toSqlClient(queryable);
    await expect(
      db.transaction(async (t) => {
        await t.query('A');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(log).toEqual(['BEGIN', 'A', 'ROLLBACK']);
  });

  it('gives a pool client back, or destroys it when ROLLBACK fails', async () => {
    const released: Array<Error | boolean | undefined> = [];
    const make = (failRollback: boolean): PgPoolLike => ({
      totalCount: 1,
      query: async () => ({ rows: [] }),
      async connect() {
        const { queryable } = connection(
          (text) => text === 'BAD' || (failRollback && text === 'ROLLBACK'),
        );
        return {
          query: queryable.query,
          release: (error?: Error | boolean) => void released.push(error),
        };
      },
    });
    await toSqlClient(make(false)).transaction(async (t) => t.query('GOOD'));
    await expect(toSqlClient(make(false)).transaction(async (t) => t.query('BAD'))).rejects.toThrow(
      'failed: BAD',
    );
    await expect(toSqlClient(make(true)).transaction(async (t) => t.query('BAD'))).rejects.toThrow(
      'failed: BAD',
    );
    expect(released[0]).toBe(false);
    expect(released[1]).toBe(false);
    expect(released[2]).toBeInstanceOf(Error);
  });
});
