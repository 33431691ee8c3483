import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { runWithContext } from '@prod/core';
import {
  backupPglite,
  createMigrator,
  type DbEvent,
  instrument,
  isSqlClient,
  restorePglite,
  toSqlClient,
  verifyBackup,
  verifyIntegrity,
} from '@prod/db';
import { createMetrics } from '@prod/metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, writeFiles } from './fixtures/databases.js';

// One PGlite for the file (it takes seconds to start); each test uses its own tables and
// history table.
let db: PGlite;
const dirs: Array<{ remove(): void }> = [];
const folder = (files: Record<string, string> = {}): string => {
  const dir = tempDir('prod-db-pglite-');
  dirs.push(dir);
  writeFiles(dir.path, files);
  return dir.path;
};

beforeAll(async () => {
  db = await PGlite.create();
}, 60_000);
afterAll(async () => {
  await db?.close();
  for (const dir of dirs) dir.remove();
});

describe('PGlite as the embedded default', () => {
  it('is a SqlClient as it is', () => {
    expect(isSqlClient(db)).toBe(true);
    expect(toSqlClient(db)).toBe(db);
  });

  it('migrates: versioned, no-transaction index, repeatable; then reports a checksum change', async () => {
    const dir = folder({
      'V1__create.sql': 'CREATE TABLE p_notes (id int PRIMARY KEY, title text NOT NULL);',
      'V2__index.sql':
        '-- prod-db: no-transaction\nCREATE INDEX CONCURRENTLY p_notes_title ON p_notes (title);',
      'R__view.sql': 'CREATE OR REPLACE VIEW p_titles AS SELECT title FROM p_notes;',
    });
    const migrator = createMigrator({ client: db, migrations: dir, table: 'history_a' });
    const result = await migrator.migrate();
    expect(result.ok && result.value.applied.map((m) => m.id)).toEqual([
      'V1__create.sql',
      'V2__index.sql',
      'R__view.sql',
    ]);
    const index = await db.query<{ valid: boolean }>(
      "SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = 'p_notes_title'::regclass",
    );
    expect(index.rows).toEqual([{ valid: true }]);
    const drift = await migrator.drift();
    expect(drift.ok && drift.value.differences).toEqual([]);
    writeFileSync(
      join(dir, 'V1__create.sql'),
      'CREATE TABLE p_notes (id int PRIMARY KEY, title text);',
    );
    const changed = await migrator.migrate();
    expect(!changed.ok && changed.error.code).toBe('DB_MIGRATION_CHECKSUM_MISMATCH');
    expect(!changed.ok && changed.error.details).toMatchObject({ file: 'V1__create.sql' });
  });

  it('rolls a failing migration back and names the statement', async () => {
    const dir = folder({
      'V1__ok.sql': 'CREATE TABLE p_ok (id int);',
      'V2__fails.sql':
        'CREATE TABLE p_gone (id int);\nINSERT INTO p_ok VALUES (1);\nINSERT INTO p_ok VALUES (1 / 0);',
    });
    const result = await createMigrator({
      client: db,
      migrations: dir,
      table: 'history_b',
    }).migrate();
    expect(!result.ok && result.error.code).toBe('DB_MIGRATION_FAILED');
    expect(!result.ok && result.error.message).toMatch(
      /^V2__fails\.sql statement 3 \(line 3\) failed: division by zero \[22012\]/,
    );
    const left = await db.query<{ gone: string | null; rows: number }>(
      "SELECT to_regclass('p_gone')::text AS gone, (SELECT count(*)::int FROM p_ok) AS rows",
    );
    expect(left.rows).toEqual([{ gone: null, rows: 0 }]);
  });

  it('reverts with down and detects drift after a manual change', async () => {
    const dir = folder({
      'V1__create.sql': 'CREATE TABLE p_items (id int PRIMARY KEY);',
      'U1__create.sql': 'DROP TABLE p_items;',
    });
    const migrator = createMigrator({ client: db, migrations: dir, table: 'history_c' });
    expect((await migrator.migrate()).ok).toBe(true);
    await db.query('ALTER TABLE p_items ADD COLUMN extra text');
    const drift = await migrator.drift();
    expect(drift.ok && drift.value.differences).toContainEqual({
      object: 'column',
      name: 'p_items.extra',
      change: 'unexpected',
      actual: 'text',
    });
    const down = await migrator.down();
    expect(down.ok && down.value).toEqual(['V1__create.sql']);
    expect((await db.query("SELECT to_regclass('p_items')::text AS t")).rows).toEqual([
      { t: null },
    ]);
  });

  it('backs up the data directory with a manifest, restores it identical, and verifies it', async () => {
    await db.exec(`CREATE TABLE p_data (id int PRIMARY KEY, body text, at timestamptz);
      INSERT INTO p_data SELECT g, repeat('x', g % 13), timestamptz '2025-01-01' + g * interval '1 minute' FROM generate_series(1, 500) g;`);
    const dir = folder();
    const saved = await backupPglite(db, { dir });
    expect(saved.ok).toBe(true);
    if (!saved.ok) return;
    const { manifest } = saved.value;
    expect(manifest).toMatchObject({
      kind: 'pglite',
      dumpFormat: 'tar.gz',
      files: [{ path: 'pgdata.tar.gz' }],
    });
    expect(manifest.serverVersion).toMatch(/PGlite/);
    expect(manifest.tables?.find((t) => t.name === 'p_data')?.rows).toBe(500);
    const restored = await restorePglite({ backup: saved.value.path });
    expect(restored.ok).toBe(true);
    if (!restored.ok) return;
    try {
      const report = await verifyIntegrity(db, restored.value, { amcheck: false });
      expect(report.ok && report.value.identical).toBe(true);
      await db.query('DELETE FROM p_data WHERE id = 7');
      const verified = await verifyBackup({ backup: saved.value.path, source: db });
      expect(verified.ok && verified.value.matchesManifest).toBe(true);
      expect(verified.ok && verified.value.identical).toBe(false);
      expect(
        verified.ok && verified.value.tables.find((t) => t.table === 'public.p_data'),
      ).toMatchObject({ status: 'rows-differ', a: { rows: 500 }, b: { rows: 499 } });
    } finally {
      await restored.value.close();
    }
    const tarball = join(saved.value.path, 'pgdata.tar.gz');
    const bytes = readFileSync(tarball);
    bytes[100] = (bytes[100] ?? 0) ^ 1;
    writeFileSync(tarball, bytes);
    const corrupt = await restorePglite({ backup: saved.value.path });
    expect(!corrupt.ok && corrupt.error.code).toBe('DB_BACKUP_CORRUPT');
    expect(!corrupt.ok && corrupt.error.message).toMatch(/pgdata\.tar\.gz: SHA-256 mismatch/);
  }, 60_000);

  it('instruments PGlite queries and transactions', async () => {
    const events: DbEvent[] = [];
    const metrics = createMetrics({ runtime: false });
    const instrumentation = instrument(db, {
      slowMs: 40,
      metrics,
      onEvent: (e) => events.push(e),
      explain: false,
      nPlusOne: { threshold: 2 },
    });
    try {
      await runWithContext({ requestId: 'p-1', route: '/p' }, async () => {
        await db.query('SELECT pg_sleep(0.06)');
        await db.transaction(async (tx) => {
          for (let i = 0; i < 3; i++) await tx.query('SELECT $1::int AS n', [i]);
        });
      });
      expect(events.map((e) => e.kind)).toEqual(['slow-query', 'n-plus-one']);
      expect(events[0]).toMatchObject({
        fingerprint: 'SELECT pg_sleep($1)',
        requestId: 'p-1',
        route: '/p',
      });
      const scraped = await metrics.scrape();
      expect(scraped.ok && scraped.value.body).toContain(
        'db_client_operation_duration_seconds_count{db_system_name="postgresql",db_operation_name="SELECT"} 4',
      );
    } finally {
      instrumentation.stop();
    }
  });
});
