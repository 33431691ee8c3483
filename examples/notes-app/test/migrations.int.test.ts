import { applyAuditMigration } from '@prod/audit';
import { createMigrator } from '@prod/db';
import { postgresTestDatabase } from '@prod/testing';
import { NOTES_MIGRATIONS, openPglite } from 'example-notes-app';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';

// What the history of every database migrated so far holds. A package that changes the SQL of
// its table (@prod/audit's, @prod/security's, @prod/queue's) changes these: such a change goes into a new
// migration, never into an applied one, or every database would refuse the next start with
// DB_MIGRATION_CHECKSUM_MISMATCH.
const CHECKSUMS: Record<string, string> = {
  V1__notes: 'a78aa2bad9d114d4829ab7a4faca3bf81d14982c685ed2d9632a88c2ba2e25ec',
  'V2__audit log': 'bfcaead6bc9ed266b6206c07b83e7e77593343596f2a31a3f2ebc02f51eebd2e',
  'V3__api keys': 'effc699fb82c61d9928feb5f4162df0d024aecf77e06a691bcd616586b0ed749',
  'V4__job outbox': 'b455b6a6c87b421de3ff7cb16d9ba0d134775190e6e861a3989952611d9527a7',
};

describe('NOTES_MIGRATIONS on PGlite', () => {
  it('creates the notes, audit, API key and job outbox tables, one history, checksums unchanged', async () => {
    const db = await openPglite();
    try {
      const migrator = createMigrator({ client: db, migrations: NOTES_MIGRATIONS });
      const first = await migrator.migrate();
      if (!first.ok) throw first.error;
      expect(first.value.applied.map((step) => step.id)).toEqual(Object.keys(CHECKSUMS));
      const again = await migrator.migrate();
      expect(again.ok && again.value.applied).toEqual([]);
      const status = await migrator.status();
      if (!status.ok) throw status.error;
      expect(Object.fromEntries(status.value.map((step) => [step.id, step.checksum]))).toEqual(
        CHECKSUMS,
      );
      const tables = await db.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
      );
      expect(tables.rows.map((row) => row.table_name)).toEqual([
        'api_keys',
        'audit_log',
        'notes',
        'prod_db_migrations',
        'prod_queue_outbox',
      ]);
      const drift = await migrator.drift();
      expect(drift.ok && drift.value.drifted).toBe(false);
    } finally {
      await db.close();
    }
  }, 60_000);
});

const first = await postgresTestDatabase();
const second = await postgresTestDatabase();

afterAll(async () => {
  await first.drop();
  await second.drop();
});

describe.skipIf(!first.available)('NOTES_MIGRATIONS on PostgreSQL (skipped: not reachable)', () => {
  it('applies each migration exactly once when five instances start at once', async () => {
    const pools = Array.from(
      { length: 5 },
      () => new pg.Pool({ connectionString: first.url, max: 2 }),
    );
    try {
      const reports = await Promise.all(
        pools.map((pool) =>
          createMigrator({ client: pool, migrations: NOTES_MIGRATIONS }).migrate(),
        ),
      );
      const applied = reports.flatMap((report) => {
        if (!report.ok) throw report.error;
        return report.value.applied.map((step) => step.id);
      });
      expect(applied.sort()).toEqual(Object.keys(CHECKSUMS).sort());
      const history = await pools[0]?.query(
        `SELECT version, count(*)::int AS n FROM "${first.schema}".prod_db_migrations GROUP BY version ORDER BY version`,
      );
      expect(history?.rows).toEqual([
        { version: '1', n: 1 },
        { version: '2', n: 1 },
        { version: '3', n: 1 },
        { version: '4', n: 1 },
      ]);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  }, 60_000);

  it('adopts a database whose tables an earlier version created, without a baseline', async () => {
    const pool = new pg.Pool({ connectionString: second.url, max: 2 });
    try {
      // What the examples ran at each start before @prod/db: the table, its index, the audit log.
      await pool.query(`CREATE TABLE notes (
        id uuid PRIMARY KEY, title text NOT NULL, body text NOT NULL,
        created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL)`);
      await pool.query('CREATE INDEX notes_created_at ON notes (created_at, id)');
      await pool.query(
        `INSERT INTO notes VALUES ('00000000-0000-4000-8000-000000000001', 'kept', 'x', now(), now())`,
      );
      const audited = await applyAuditMigration(pool);
      if (!audited.ok) throw audited.error;
      const migrated = await createMigrator({
        client: pool,
        migrations: NOTES_MIGRATIONS,
      }).migrate();
      if (!migrated.ok) throw migrated.error;
      expect(migrated.value.applied.map((step) => step.id)).toEqual(Object.keys(CHECKSUMS));
      const kept = await pool.query('SELECT title FROM notes');
      expect(kept.rows).toEqual([{ title: 'kept' }]);
    } finally {
      await pool.end();
    }
  }, 60_000);
});
