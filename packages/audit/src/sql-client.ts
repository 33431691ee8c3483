/**
 * What the PostgreSQL sink and the migration need of a database client: `query(text, values)`
 * answering `{ rows }`. A pg `Pool` or `Client` and a PGlite instance all fit.
 */
export interface SqlClient {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}
