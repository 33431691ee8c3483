/**
 * What the PostgreSQL key store needs of a database client: `query(text, values)` answering
 * `{ rows }`. A pg `Pool` or `Client` and a PGlite instance all fit (and @prod/db's clients).
 */
export interface SqlClient {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}
