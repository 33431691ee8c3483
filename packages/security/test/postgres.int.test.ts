// The PostgreSQL key store against the real server, in a throw-away schema: the store suite,
// concurrent migrations from several "instances", and revocation seen by two instances.
import { applyApiKeyMigration, createApiKeys, postgresKeyStore } from '@prod/security';
import { postgresTestDatabase } from '@prod/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeKeyStore } from './support/store-cases.js';

const database = await postgresTestDatabase();
let pool: pg.Pool;
let tables = 0;

beforeAll(() => {
  if (database.available) pool = new pg.Pool({ connectionString: database.url, max: 6 });
});
afterAll(async () => {
  if (!database.available) return;
  await pool.end();
  await database.drop();
});

describe.skipIf(!database.available)('PostgreSQL (skipped: PostgreSQL not reachable)', () => {
  describeKeyStore('PostgreSQL', async () => {
    const table = `api_keys_${++tables}`;
    const migrated = await applyApiKeyMigration(pool, { table });
    if (!migrated.ok) throw migrated.error;
    return postgresKeyStore({ db: pool, table });
  });

  it('migrates from five instances at once without a race', async () => {
    const clients = Array.from(
      { length: 5 },
      () => new pg.Client({ connectionString: database.url }),
    );
    await Promise.all(clients.map((client) => client.connect()));
    try {
      const results = await Promise.all(
        clients.map((client) => applyApiKeyMigration(client, { table: 'raced' })),
      );
      expect(results.every((result) => result.ok)).toBe(true);
      const { rows } = await pool.query(
        `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'raced'`,
      );
      expect(rows[0]?.n).toBe(1);
    } finally {
      await Promise.all(clients.map((client) => client.end()));
    }
  });

  it('shares keys between instances; a revocation reaches the other within its cache TTL', async () => {
    const migrated = await applyApiKeyMigration(pool, { table: 'shared' });
    expect(migrated.ok).toBe(true);
    let now = Date.now();
    const secret = 'a-server-secret-of-at-least-32-bytes!!';
    const a = createApiKeys({
      secret,
      store: postgresKeyStore({ db: pool, table: 'shared' }),
      now: () => now,
      cacheTtl: 5000,
    });
    const b = createApiKeys({
      secret,
      store: postgresKeyStore({ db: pool, table: 'shared' }),
      now: () => now,
      cacheTtl: 5000,
    });
    const issued = await a.issue({ owner: 'svc', scopes: ['notes:write'], expiresIn: 3_600_000 });
    if (!issued.ok) throw issued.error;
    expect((await b.verify(issued.value.token)).ok).toBe(true);
    expect((await a.revoke(issued.value.key.id)).ok).toBe(true);
    expect((await b.verify(issued.value.token)).ok).toBe(true);
    now += 5000;
    const after = await b.verify(issued.value.token);
    expect(!after.ok && after.error.code).toBe('SECURITY_TOKEN_REVOKED');
    const { rows } = await pool.query('SELECT key_hash, revoked_at FROM shared');
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(issued.value.token);
  });

  it('answers 503 when the database is gone, and recovers', async () => {
    const broken = new pg.Pool({
      connectionString: 'postgres://postgres@127.0.0.1:1/test',
      connectionTimeoutMillis: 200,
    });
    const apiKeys = createApiKeys({
      secret: 'a-server-secret-of-at-least-32-bytes!!',
      store: postgresKeyStore({ db: broken }),
    });
    const result = await apiKeys.verify(apiKeys.format.generate().token);
    expect(!result.ok && result.error.code).toBe('SECURITY_KEY_STORE_UNAVAILABLE');
    await broken.end();
  });
});
