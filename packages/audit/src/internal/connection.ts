// How a unit of work gets one connection that nobody else's statements can step into. A
// transaction run as separate BEGIN ... COMMIT queries on a shared single connection (a PGlite
// instance, a pg Client) takes in whatever the other users of that connection send meanwhile:
// their failing statement aborts it, their writes commit or roll back with it. So:
// - a client with `transaction(fn)` (PGlite, @prod/db's SqlClient) runs the work through it:
//   PGlite holds its connection for the whole callback, other queries wait;
// - a pg Pool lends a connection of its own (connect/release);
// - any other single connection runs the work as single statements (each its own implicit
//   transaction) under a session-level advisory lock: there is no open transaction to step into.
import type { SqlClient, SqlQueryable } from '../sql-client.js';

interface PoolLike extends SqlQueryable {
  connect(): Promise<SqlQueryable & { release(error?: Error | boolean): void }>;
  readonly totalCount: number;
}

interface TransactionLike extends SqlQueryable {
  transaction<TValue>(fn: (tx: SqlQueryable) => Promise<TValue>): Promise<TValue>;
}

type Kind = 'transaction' | 'pool' | 'single';

const locks = new WeakMap<object, Promise<unknown>>();

function kindOf(db: SqlClient): Kind {
  if (typeof (db as Partial<TransactionLike>).transaction === 'function') return 'transaction';
  const candidate = db as Partial<PoolLike>;
  if (typeof candidate.connect === 'function' && typeof candidate.totalCount === 'number') {
    return 'pool';
  }
  return 'single';
}

/**
 * Runs `work` after the previous exclusive work of this process on the same single connection
 * (without `transaction`): audit's own statements then never interleave with each other there.
 * Clients that keep their own order (pools, PGlite, @prod/db) run it at once.
 */
export function exclusive<TValue>(db: SqlClient, work: () => Promise<TValue>): Promise<TValue> {
  if (kindOf(db) !== 'single') return work();
  const previous = locks.get(db) ?? Promise.resolve();
  const current = previous.then(work, work);
  locks.set(
    db,
    current.catch(() => undefined),
  );
  return current;
}

const LOCK = 'hashtextextended($1, 0)';

/** BEGIN ... COMMIT on a connection of a pool's own, the lock taken first. */
async function onPoolConnection<TValue>(
  pool: PoolLike,
  lockKey: string,
  work: (connection: SqlQueryable) => Promise<TValue>,
): Promise<TValue> {
  const connection = await pool.connect();
  let failed: Error | undefined;
  try {
    await connection.query('BEGIN');
    try {
      await connection.query(`SELECT pg_advisory_xact_lock(${LOCK})`, [lockKey]);
      const value = await work(connection);
      await connection.query('COMMIT');
      return value;
    } catch (error) {
      await connection.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  } catch (error) {
    failed = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    // A connection whose transaction failed oddly (no SQLSTATE) is not given back to others.
    connection.release(failed !== undefined && !('code' in failed) ? failed : undefined);
  }
}

/**
 * Runs `work` holding the advisory lock `lockKey` (every process writing the same chain takes
 * it), on one connection, with nobody else's statements inside:
 *
 * - `transaction` and pool: inside one transaction holding `pg_advisory_xact_lock`;
 * - a single connection without `transaction`: `pg_advisory_lock` ... `pg_advisory_unlock`
 *   around statements that each commit on their own, so `work` must make its one write a
 *   single statement (the sink's insert is).
 */
export function withLock<TValue>(
  db: SqlClient,
  lockKey: string,
  work: (connection: SqlQueryable) => Promise<TValue>,
): Promise<TValue> {
  switch (kindOf(db)) {
    case 'transaction':
      return (db as TransactionLike).transaction(async (tx) => {
        await tx.query(`SELECT pg_advisory_xact_lock(${LOCK})`, [lockKey]);
        return work(tx);
      });
    case 'pool':
      return onPoolConnection(db as PoolLike, lockKey, work);
    case 'single':
      return exclusive(db, async () => {
        await db.query(`SELECT pg_advisory_lock(${LOCK})`, [lockKey]);
        let value: TValue;
        try {
          value = await work(db);
        } catch (error) {
          await db.query(`SELECT pg_advisory_unlock(${LOCK})`, [lockKey]).catch(() => undefined);
          throw error;
        }
        // Left held, the lock would stop every other writer of the chain: a failure here fails
        // the write (its rows are committed; a retry records the events again, never loses them).
        await db.query(`SELECT pg_advisory_unlock(${LOCK})`, [lockKey]);
        return value;
      });
  }
}

/**
 * Runs `statements` in one transaction holding the advisory lock `lockKey`. On a single
 * connection without `transaction`, they go as one multi-statement query, which PostgreSQL runs
 * as one transaction and which no other statement can enter. `lockKey` and `statements` carry no
 * parameters (they are checked identifiers and fixed SQL).
 */
export async function atomically(
  db: SqlClient,
  lockKey: string,
  statements: readonly string[],
): Promise<void> {
  const kind = kindOf(db);
  if (kind === 'single') {
    const lock = `SELECT pg_advisory_xact_lock(hashtextextended('${lockKey.replaceAll("'", "''")}', 0))`;
    await exclusive(db, () => db.query([lock, ...statements].join(';\n')));
    return;
  }
  const run = async (connection: SqlQueryable): Promise<void> => {
    for (const statement of statements) await connection.query(statement);
  };
  await withLock(db, lockKey, run);
}
