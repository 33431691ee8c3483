// One connection for a transaction: a pg Pool lends one (connect/release); a pg Client or a
// PGlite instance is one already, and then an in-process lock keeps transactions apart.
import type { SqlClient } from '../sql-client.js';

interface PoolLike extends SqlClient {
  connect(): Promise<SqlClient & { release(error?: Error | boolean): void }>;
  readonly totalCount: number;
}

const locks = new WeakMap<object, Promise<unknown>>();

export function isPool(db: SqlClient): db is PoolLike {
  const candidate = db as Partial<PoolLike>;
  return typeof candidate.connect === 'function' && typeof candidate.totalCount === 'number';
}

/**
 * Runs `work` alone on a single-connection client (a pg Client, PGlite), so that a statement
 * never lands inside another caller's transaction; a pool runs it at once (each query gets a
 * connection of its own).
 */
export function exclusive<TValue>(db: SqlClient, work: () => Promise<TValue>): Promise<TValue> {
  if (isPool(db)) return work();
  const previous = locks.get(db) ?? Promise.resolve();
  const current = previous.then(work, work);
  locks.set(
    db,
    current.catch(() => undefined),
  );
  return current;
}

/** Runs `work` inside BEGIN ... COMMIT on one connection (ROLLBACK when it throws). */
export async function inTransaction<TValue>(
  db: SqlClient,
  work: (connection: SqlClient) => Promise<TValue>,
): Promise<TValue> {
  const run = async (connection: SqlClient): Promise<TValue> => {
    await connection.query('BEGIN');
    try {
      const value = await work(connection);
      await connection.query('COMMIT');
      return value;
    } catch (error) {
      await connection.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  };
  if (isPool(db)) {
    const connection = await db.connect();
    let failed: Error | undefined;
    try {
      return await run(connection);
    } catch (error) {
      failed = error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      // A connection whose transaction failed oddly is not given back to others.
      connection.release(failed !== undefined && !('code' in failed) ? failed : undefined);
    }
  }
  return exclusive(db, () => run(db));
}
