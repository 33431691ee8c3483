import { randomBytes } from 'node:crypto';
import { serviceUnavailable } from './service-unavailable.js';

/** A throw-away PostgreSQL schema (or database) for one test file. */
export interface PostgresTestDatabase {
  /** False when PostgreSQL did not answer (locally only: under CI=true that throws). */
  readonly available: boolean;
  /** The server URL, without a schema. */
  readonly baseUrl: string;
  /** A URL whose connections use `schema` as their search_path (or the throw-away database). */
  readonly url: string;
  /** The random schema name (`test_<hex>`); `public` for a throw-away database. */
  readonly schema: string;
  /** The database `url` connects to: the test database, or the throw-away one. */
  readonly database: string;
  /** Drops the schema (or the database, even with connections still open) and everything in it. */
  drop(): Promise<void>;
}

/** Options for {@link postgresTestDatabase}. */
export interface PostgresTestOptions {
  /** Default: `POSTGRES_TEST_URL`, else `postgres://postgres@127.0.0.1:5432/test`. */
  readonly url?: string;
  /** How long to wait for the connection. Default 2000 ms. */
  readonly timeoutMs?: number;
  /**
   * A whole throw-away database (`test_<hex>`) instead of a schema, for tests that need one
   * (backup and restore, `CREATE DATABASE` comparisons, extensions). Default false.
   */
  readonly database?: boolean;
}

/**
 * Creates a fresh schema in the test database (the server is shared, so every test file
 * gets its own) and gives a URL that uses it.
 *
 * @example
 * import { afterAll, describe, it } from 'vitest';
 * const pg = await postgresTestDatabase();
 * describe.skipIf(!pg.available)('migrations (skipped: PostgreSQL not reachable)', () => {
 *   it('creates the tables', async () => {});
 * });
 * afterAll(() => pg.drop());
 */
export async function postgresTestDatabase(
  options: PostgresTestOptions = {},
): Promise<PostgresTestDatabase> {
  const baseUrl =
    options.url ?? process.env.POSTGRES_TEST_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const name = `test_${randomBytes(6).toString('hex')}`;
  const whole = options.database === true;
  const schema = whole ? 'public' : name;
  const separator = baseUrl.includes('?') ? '&' : '?';
  const target = new URL(baseUrl);
  if (whole) target.pathname = `/${name}`;
  const url = whole
    ? target.toString()
    : `${baseUrl}${separator}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const database = whole ? name : decodeURIComponent(new URL(baseUrl).pathname.slice(1));
  const { default: pg } = await import('pg');
  const admin = new pg.Client({
    connectionString: baseUrl,
    connectionTimeoutMillis: options.timeoutMs ?? 2000,
  });
  try {
    await admin.connect();
    await admin.query(whole ? `CREATE DATABASE "${name}"` : `CREATE SCHEMA "${schema}"`);
  } catch (error) {
    await admin.end().catch(() => {});
    serviceUnavailable(
      'PostgreSQL',
      baseUrl,
      error instanceof Error ? error.message : String(error),
    );
    return { available: false, baseUrl, url, schema, database, drop: async () => {} };
  }
  return {
    available: true,
    baseUrl,
    url,
    schema,
    database,
    async drop() {
      try {
        await admin.query(
          whole
            ? `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`
            : `DROP SCHEMA IF EXISTS "${schema}" CASCADE`,
        );
      } finally {
        await admin.end();
      }
    },
  };
}
