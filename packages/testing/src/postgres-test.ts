import { randomBytes } from 'node:crypto';
import { serviceUnavailable } from './service-unavailable.js';

/** A throw-away PostgreSQL schema for one test file. */
export interface PostgresTestDatabase {
  /** False when PostgreSQL did not answer (locally only: under CI=true that throws). */
  readonly available: boolean;
  /** The server URL, without a schema. */
  readonly baseUrl: string;
  /** A URL whose connections use `schema` as their search_path. */
  readonly url: string;
  /** The random schema name (`test_<hex>`). */
  readonly schema: string;
  /** Drops the schema and everything in it. */
  drop(): Promise<void>;
}

/** Options for {@link postgresTestDatabase}. */
export interface PostgresTestOptions {
  /** Default: `POSTGRES_TEST_URL`, else `postgres://postgres@127.0.0.1:5432/test`. */
  readonly url?: string;
  /** How long to wait for the connection. Default 2000 ms. */
  readonly timeoutMs?: number;
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
  const schema = `test_${randomBytes(6).toString('hex')}`;
  const separator = baseUrl.includes('?') ? '&' : '?';
  const url = `${baseUrl}${separator}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const { default: pg } = await import('pg');
  const admin = new pg.Client({
    connectionString: baseUrl,
    connectionTimeoutMillis: options.timeoutMs ?? 2000,
  });
  try {
    await admin.connect();
    await admin.query(`CREATE SCHEMA "${schema}"`);
  } catch (error) {
    await admin.end().catch(() => {});
    serviceUnavailable(
      'PostgreSQL',
      baseUrl,
      error instanceof Error ? error.message : String(error),
    );
    return { available: false, baseUrl, url, schema, drop: async () => {} };
  }
  return {
    available: true,
    baseUrl,
    url,
    schema,
    async drop() {
      try {
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await admin.end();
      }
    },
  };
}
