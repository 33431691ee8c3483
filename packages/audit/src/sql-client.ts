/** Runs one parameterized statement: what a transaction hands its callback. */
export interface SqlQueryable {
  query(text: string, values?: unknown[]): Promise<{ readonly rows: readonly unknown[] }>;
}

/**
 * What the PostgreSQL sink and the migration need of a database client: `query(text, values)`
 * answering `{ rows }`, and, when the client has one, `transaction(fn)`. A PGlite instance, a
 * pg `Pool` or `Client`, and @prod/db's `SqlClient` (`toSqlClient(pool)`) all fit.
 *
 * How the sink keeps its writes whole depends on what it is given: it runs them through
 * `transaction(fn)` when there is one (PGlite, @prod/db), on a connection checked out of a pg
 * `Pool`, and, on a single connection without `transaction` (a pg `Client`), as single
 * statements under a session-level advisory lock, never as a `BEGIN` ... `COMMIT` that other
 * users of the connection could step into.
 */
export interface SqlClient extends SqlQueryable {
  /** Runs `fn` on one connection between BEGIN and COMMIT (ROLLBACK when it throws), alone. */
  transaction?<TValue>(fn: (tx: SqlQueryable) => Promise<TValue>): Promise<TValue>;
}
