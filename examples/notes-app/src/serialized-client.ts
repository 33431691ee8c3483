import type { SqlQueryable, SqlResult } from '@prod/db';

/** A connection lent by {@link serializedClient}: the only one in use until it is released. */
export interface LentConnection extends SqlQueryable {
  release(error?: unknown): void;
}

/** A single-connection client shaped like a pg `Pool`: `query`, and `connect` for transactions. */
export interface SerializedClient extends SqlQueryable {
  connect(): Promise<LentConnection>;
  /** One connection, as pg's `Pool.totalCount` counts them. */
  readonly totalCount: number;
  /** The database's own `closed` (PGlite has one; the readiness check reads it). */
  readonly closed: boolean | undefined;
}

/**
 * Puts a single-connection database (PGlite) behind a pool's interface, so that several users
 * of it cannot step into each other's transactions: `connect()` lends the connection to one
 * caller until `release()`, and every `query()` waits its turn meanwhile.
 *
 * Why: a transaction run as separate `BEGIN` ... `COMMIT` queries on a PGlite instance (what
 * @prod/audit's PostgreSQL sink does for its first write, and @prod/db's migrator for each
 * migration) lets a query of the notes store run in between, inside that transaction. Through
 * this, the audit sink and the migrator see a pool and take the connection for the whole
 * transaction, and the notes store waits.
 */
export function serializedClient(db: SqlQueryable): SerializedClient {
  let tail: Promise<void> = Promise.resolve();
  const acquire = (): Promise<() => void> => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const turn = tail.then(() => release);
    tail = tail.then(() => held);
    return turn;
  };
  const run = (text: string, values?: unknown[]): Promise<SqlResult> =>
    values === undefined ? db.query(text) : db.query(text, values);
  return {
    totalCount: 1,
    get closed() {
      return (db as { readonly closed?: boolean }).closed;
    },
    async query(text, values) {
      const release = await acquire();
      try {
        return await run(text, values);
      } finally {
        release();
      }
    },
    async connect() {
      const release = await acquire();
      let released = false;
      return {
        query: run,
        release() {
          if (released) return;
          released = true;
          release();
        },
      };
    },
  };
}
