/** What a query answers: its rows and, when the driver says, how many rows it touched. */
export interface SqlResult {
  readonly rows: ReadonlyArray<Record<string, unknown>>;
  /** Rows returned or changed (pg's `rowCount`, PGlite's `rowCount`); null or absent when unknown. */
  readonly rowCount?: number | null;
}

/**
 * Anything that runs one parameterized statement: a pg `Pool`, a pg `Client` or `PoolClient`,
 * a PGlite instance or one of its transactions. `values` bind to `$1`, `$2`...
 */
export interface SqlQueryable {
  query(text: string, values?: unknown[]): Promise<SqlResult>;
}

/**
 * The one SQL client shape of @prod: {@link SqlQueryable} plus `transaction(fn)`, which runs
 * `fn` on one connection between BEGIN and COMMIT (ROLLBACK when `fn` throws, rethrowing).
 * PGlite fits as it is; a pg `Pool` or `Client` fits through {@link toSqlClient}.
 * @prod/queue's outbox and @prod/audit's PostgreSQL sink take the same shape.
 */
export interface SqlClient extends SqlQueryable {
  transaction<TValue>(fn: (tx: SqlQueryable) => Promise<TValue>): Promise<TValue>;
}

/** A pg `Pool`, structurally: `query`, `connect()` handing out releasable clients, counters. */
export interface PgPoolLike extends SqlQueryable {
  connect(): Promise<PgPoolClientLike>;
  readonly totalCount: number;
}

/** A client checked out of a pg `Pool`. */
export interface PgPoolClientLike extends SqlQueryable {
  /** Returns the client to the pool; with an error, the pool destroys it instead. */
  release(error?: Error | boolean): void;
  /** pg's EventEmitter methods: a checked-out client has no error listener of the pool's. */
  on?(event: 'error', listener: (error: Error) => void): unknown;
  removeListener?(event: 'error', listener: (error: Error) => void): unknown;
}

/** What {@link toSqlClient} accepts. */
export type SqlSource = SqlClient | PgPoolLike | SqlQueryable;

const WRAPPED = Symbol.for('@prod/db/sql-client');

function isPool(source: SqlSource): source is PgPoolLike {
  const candidate = source as Partial<PgPoolLike>;
  return typeof candidate.connect === 'function' && typeof candidate.totalCount === 'number';
}

/** Tells whether `source` already has a `transaction(fn)` (PGlite, or a wrapped client). */
export function isSqlClient(source: unknown): source is SqlClient {
  const candidate = source as Partial<SqlClient> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.query === 'function' &&
    typeof candidate.transaction === 'function'
  );
}

async function rollback(client: SqlQueryable): Promise<Error | undefined> {
  try {
    await client.query('ROLLBACK');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

function poolClient(pool: PgPoolLike): SqlClient {
  return {
    [WRAPPED]: pool,
    query: (text, values) => (values === undefined ? pool.query(text) : pool.query(text, values)),
    async transaction<TValue>(fn: (tx: SqlQueryable) => Promise<TValue>): Promise<TValue> {
      const client = await pool.connect();
      let broken: Error | undefined;
      // A backend terminated while the client is checked out makes it emit 'error' after the
      // query's own rejection; without a listener that would crash the process.
      const onError = (error: Error): void => {
        broken = error;
      };
      client.on?.('error', onError);
      try {
        await client.query('BEGIN');
        const value = await fn(client);
        await client.query('COMMIT');
        return value;
      } catch (error) {
        // A failed ROLLBACK means the connection is unusable: the pool must not reuse it.
        broken = (await rollback(client)) ?? broken;
        throw error;
      } finally {
        client.removeListener?.('error', onError);
        client.release(broken ?? false);
      }
    },
  } as SqlClient;
}

// One connection: queries and transactions take turns, so a query issued while a
// transaction runs never lands inside it.
function singleClient(connection: SqlQueryable): SqlClient {
  let tail: Promise<unknown> = Promise.resolve();
  const exclusive = <TValue>(work: () => Promise<TValue>): Promise<TValue> => {
    const run = tail.then(work, work);
    tail = run.catch(() => {});
    return run;
  };
  return {
    [WRAPPED]: connection,
    query: (text, values) =>
      exclusive(() =>
        values === undefined ? connection.query(text) : connection.query(text, values),
      ),
    transaction<TValue>(fn: (tx: SqlQueryable) => Promise<TValue>): Promise<TValue> {
      return exclusive(async () => {
        await connection.query('BEGIN');
        try {
          const value = await fn(connection);
          await connection.query('COMMIT');
          return value;
        } catch (error) {
          await rollback(connection);
          throw error;
        }
      });
    },
  } as SqlClient;
}

/**
 * The {@link SqlClient} of a pg `Pool` (each transaction on its own checked-out client, which
 * is destroyed rather than reused when ROLLBACK fails), of a single pg `Client` (queries and
 * transactions take turns on it), or `source` itself when it already has `transaction`
 * (PGlite, or a client this function made).
 *
 * @example
 * declare const pool: PgPoolLike;
 * const db = toSqlClient(pool);
 * const count = await db.transaction(async (tx) => {
 *   await tx.query('INSERT INTO notes (title) VALUES ($1)', ['hello']);
 *   return (await tx.query('SELECT count(*)::int AS n FROM notes')).rows[0]?.n;
 * });
 */
export function toSqlClient(source: SqlSource): SqlClient {
  if (isSqlClient(source)) return source;
  if (isPool(source)) return poolClient(source);
  return singleClient(source);
}
