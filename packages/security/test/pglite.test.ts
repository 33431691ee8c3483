// The PostgreSQL key store on PGlite, the embedded default: the store suite, the migration,
// and the whole of createApiKeys on it.
import { PGlite } from '@electric-sql/pglite';
import { apiKeyMigrationSql, applyApiKeyMigration, postgresKeyStore } from '@prod/security';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeKeyStore } from './support/store-cases.js';

const db = new PGlite();
// PGlite takes 2.5-5 s to start: wait for it here, not inside the first case's timeout.
beforeAll(() => db.waitReady, 30_000);
afterAll(() => db.close());
let tables = 0;

describeKeyStore('PGlite', async () => {
  const table = `api_keys_${++tables}`;
  const migrated = await applyApiKeyMigration(db, { table });
  if (!migrated.ok) throw migrated.error;
  return postgresKeyStore({ db, table });
});

describe('the key store migration on PGlite', () => {
  it('is idempotent, and the table refuses a hash that is not one', async () => {
    expect(await applyApiKeyMigration(db)).toEqual({ ok: true, value: undefined });
    expect((await applyApiKeyMigration(db)).ok).toBe(true);
    const refused = await db
      .query(
        `INSERT INTO api_keys (id, key_hash, hint, owner, created_at) VALUES ('x', 'not-hex', 'h', 'o', now())`,
      )
      .then(
        () => 'inserted',
        (error: Error) => error.message,
      );
    expect(refused).toMatch(/check constraint/);
  }, 30_000);

  it('refuses identifiers that are not plain, and clients that are not', () => {
    expect(() => apiKeyMigrationSql({ table: 'keys; DROP TABLE x' })).toThrow(/table/);
    expect(() => apiKeyMigrationSql({ schema: 'Public' })).toThrow(/schema/);
    expect(() => postgresKeyStore({ db: {} as never })).toThrow(/db/);
    expect(apiKeyMigrationSql({ schema: 'auth', table: 'keys' })[0]).toContain('"auth"."keys"');
  });
});
