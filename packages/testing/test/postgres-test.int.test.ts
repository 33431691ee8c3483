import { postgresTestDatabase } from '@prod/testing';
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';

const db = await postgresTestDatabase();

describe.skipIf(!db.available)('postgresTestDatabase (skipped: PostgreSQL not reachable)', () => {
  it('gives a URL whose connections live in a fresh schema, dropped afterwards', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ schema: string }>('SELECT current_schema() AS schema');
      expect(rows[0]?.schema).toBe(db.schema);
      await client.query('CREATE TABLE t (id int)');
      await client.query('INSERT INTO t VALUES (1)');
    } finally {
      await client.end();
    }
    await db.drop();
    const check = new pg.Client({ connectionString: db.baseUrl });
    await check.connect();
    try {
      const { rowCount } = await check.query(
        'SELECT 1 FROM information_schema.schemata WHERE schema_name = $1',
        [db.schema],
      );
      expect(rowCount).toBe(0);
    } finally {
      await check.end();
    }
  });
});

describe.skipIf(!db.available)('postgresTestDatabase({ database: true })', () => {
  it('gives a whole throw-away database, dropped even while a connection is still open', async () => {
    const whole = await postgresTestDatabase({ database: true });
    expect(whole.database).toMatch(/^test_[0-9a-f]{12}$/);
    const client = new pg.Client({ connectionString: whole.url });
    client.on('error', () => {});
    await client.connect();
    const { rows } = await client.query<{ name: string }>('SELECT current_database() AS name');
    expect(rows[0]?.name).toBe(whole.database);
    await client.query('CREATE TABLE t (id int)');
    // Left open on purpose: drop() must not wait for it.
    await whole.drop();
    const check = new pg.Client({ connectionString: whole.baseUrl });
    await check.connect();
    try {
      const { rowCount } = await check.query('SELECT 1 FROM pg_database WHERE datname = $1', [
        whole.database,
      ]);
      expect(rowCount).toBe(0);
    } finally {
      await check.end();
      await client.end().catch(() => {});
    }
  });
});

describe('postgresTestDatabase against a port nothing listens on', () => {
  const savedCi = process.env.CI;
  afterEach(() => {
    if (savedCi === undefined) delete process.env.CI;
    else process.env.CI = savedCi;
  });

  it('throws under CI=true instead of skipping', async () => {
    process.env.CI = 'true';
    await expect(
      postgresTestDatabase({ url: 'postgres://postgres@127.0.0.1:1/test', timeoutMs: 300 }),
    ).rejects.toThrow(/refusing to skip under CI=true/);
  });

  it('reports unavailable locally, with one warning line (captured here)', async () => {
    process.env.CI = 'false';
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const target = await postgresTestDatabase({
      url: 'postgres://postgres@127.0.0.1:1/test',
      timeoutMs: 300,
    });
    expect(target.available).toBe(false);
    // One line per service and process: none when the real server was already found missing.
    if (db.available) {
      expect(warn).toHaveBeenCalledOnce();
      expect(String(warn.mock.calls[0]?.[0])).toMatch(/PostgreSQL at .*:1\/test is not reachable/);
    }
  });
});
