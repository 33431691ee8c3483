import type { SqlClient } from './sql-notes-store.js';

/** A connection lent by {@link serializedClient}: the only one in use until it is released. */
export interface LentConnection extends SqlClient {
  release(error?: unknown): void;
}

/** A single-connection client shaped like a pg `Pool`: `query`, and `connect` for transactions. */
export interface SerializedClient extends SqlClient {
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
 * @prod/audit's PostgreSQL sink does for its first write and its migration) lets a query of
 * the notes store run in between, inside that transaction. Through this, the audit sink sees a
 * pool and takes the connection for the whole transaction, and the notes store waits.
 */
export function serializedClient(db: SqlClient): SerializedClient {
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
  return {
    totalCount: 1,
    get closed() {
      return (db as { readonly closed?: boolean }).closed;
    },
    async query(text, params) {
      const release = await acquire();
      try {
        return await db.query(text, params);
      } finally {
        release();
      }
    },
    async connect() {
      const release = await acquire();
      let released = false;
      return {
        query: (text, params) => db.query(text, params),
        release() {
          if (released) return;
          released = true;
          release();
        },
      };
    },
  };
}
