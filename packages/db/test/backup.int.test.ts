import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  backup,
  checkBackup,
  checkConstraints,
  DbErrors,
  listBackups,
  restore,
  verifyBackup,
  verifyIntegrity,
} from '@prod/db';
import { postgresTestDatabase } from '@prod/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDatabase,
  quietPool,
  type ThrowAwayDatabase,
  tempDir,
} from './fixtures/databases.js';

const probe = await postgresTestDatabase();
afterAll(() => probe.drop());

const SCHEMA = `
  CREATE TABLE notes (
    id uuid PRIMARY KEY,
    title text NOT NULL,
    body text,
    created_at timestamptz NOT NULL,
    meta jsonb,
    blob bytea,
    price numeric(10, 2),
    ratio double precision
  );
  CREATE TABLE tags (name text, weight int);
  CREATE TABLE note_tags (note_id uuid REFERENCES notes (id), tag text, PRIMARY KEY (note_id, tag));
  INSERT INTO notes
    SELECT md5(g::text)::uuid, 'title ' || g, repeat('body ', g % 7), timestamptz '2025-01-01 00:00:00+00' + g * interval '1 hour',
           jsonb_build_object('n', g), decode(md5(g::text), 'hex'), g * 1.25, g / 3.0
      FROM generate_series(1, 300) g;
  INSERT INTO tags SELECT 'tag' || (g % 5), g FROM generate_series(1, 40) g;
  INSERT INTO note_tags SELECT md5(g::text)::uuid, 'tag' || (g % 5) FROM generate_series(1, 100) g;`;

describe.skipIf(!probe.available)(
  'backup, restore and verification on PostgreSQL (skipped: PostgreSQL not reachable)',
  () => {
    let source: ThrowAwayDatabase;
    let pool: pg.Pool;
    const dirs: Array<{ remove(): void }> = [];
    const databases: ThrowAwayDatabase[] = [];
    const folder = (): string => {
      const dir = tempDir('prod-db-backup-');
      dirs.push(dir);
      return dir.path;
    };
    const database = async (): Promise<ThrowAwayDatabase> => {
      const db = await createDatabase();
      databases.push(db);
      return db;
    };

    beforeAll(async () => {
      source = await createDatabase();
      pool = quietPool({ connectionString: source.url, max: 3 });
      await pool.query(SCHEMA);
    });
    afterAll(async () => {
      await pool?.end();
      for (const db of [source, ...databases]) await db?.drop();
      for (const dir of dirs) dir.remove();
    });

    it('writes a backup with a manifest: SHA-256 per file, versions, size, duration and table hashes', async () => {
      const dir = folder();
      const result = await backup({ url: source.url, dir });
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      const { manifest, path } = result.value;
      expect(readdirSync(dir)).toEqual([manifest.id]);
      expect(readdirSync(path).sort()).toEqual(['dump.pgdump', 'manifest.json']);
      expect(manifest).toMatchObject({
        format: 'prod-db-backup/1',
        kind: 'pg_dump',
        database: source.name,
        dumpFormat: 'custom',
        jobs: 1,
      });
      expect(manifest.serverVersion).toMatch(/^PostgreSQL \d+/);
      expect(manifest.serverVersionNum).toBeGreaterThan(120000);
      expect(manifest.toolVersion).toMatch(/^pg_dump \(PostgreSQL\) \d+/);
      expect(manifest.durationMs).toBeGreaterThanOrEqual(0);
      expect(manifest.files).toHaveLength(1);
      expect(manifest.files[0]?.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(manifest.size).toBe(manifest.files[0]?.size);
      expect(manifest.tables?.map((t) => `${t.name}:${t.rows}`)).toEqual([
        'note_tags:100',
        'notes:300',
        'tags:40',
      ]);
      expect((await checkBackup(path)).ok).toBe(true);
    });

    it('verifyBackup proves the backup restores, then sees the rows changed since', async () => {
      const dir = folder();
      const taken = await backup({ url: source.url, dir });
      expect(taken.ok).toBe(true);
      if (!taken.ok) return;
      const same = await verifyBackup({ backup: taken.value.path, source: source.url });
      expect(same.ok && same.value.identical).toBe(true);
      expect(same.ok && same.value.matchesManifest).toBe(true);
      await pool.query("UPDATE notes SET title = 'changed' WHERE title = 'title 7'");
      await pool.query("INSERT INTO tags VALUES ('late', 1)");
      try {
        const changed = await verifyBackup({ backup: taken.value.path, source: source.url });
        expect(changed.ok).toBe(true);
        if (!changed.ok) return;
        expect(changed.value.identical).toBe(false);
        expect(changed.value.matchesManifest).toBe(true);
        expect(changed.value.tables.map((t) => [t.table, t.status])).toEqual([
          ['public.note_tags', 'same'],
          ['public.notes', 'content-differs'],
          ['public.tags', 'rows-differ'],
        ]);
        expect(changed.value.tables[2]).toMatchObject({ a: { rows: 40 }, b: { rows: 41 } });
        // The scratch database is gone.
        const left = await pool.query(
          "SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE 'prod_db_verify_%'",
        );
        expect(left.rows[0]).toEqual({ n: 0 });
      } finally {
        await pool.query("UPDATE notes SET title = 'title 7' WHERE title = 'changed'");
        await pool.query("DELETE FROM tags WHERE name = 'late'");
      }
    });

    it('restores a parallel directory-format backup into a new database, identical table by table', async () => {
      const dir = folder();
      const taken = await backup({ url: source.url, dir, format: 'directory', jobs: 2 });
      expect(taken.ok).toBe(true);
      if (!taken.ok) return;
      expect(taken.value.manifest.files.map((f) => f.path)).toContain('dump/toc.dat');
      const target = await database();
      const restored = await restore({ backup: taken.value.path, url: target.url, jobs: 2 });
      expect(restored.ok).toBe(true);
      const copy = quietPool({ connectionString: target.url, max: 2 });
      try {
        const report = await verifyIntegrity(pool, copy);
        expect(report.ok).toBe(true);
        if (!report.ok) return;
        expect(report.value.tables.map((t) => t.status)).toEqual(['same', 'same', 'same']);
        expect(report.value.identical).toBe(true);
        expect(report.value.constraints.b).toMatchObject({ ok: true, checked: { foreignKeys: 1 } });
      } finally {
        await copy.end();
      }
    });

    it('refuses a corrupt backup (a flipped byte, an edited manifest, an extra file) and touches nothing', async () => {
      const dir = folder();
      const taken = await backup({ url: source.url, dir });
      expect(taken.ok).toBe(true);
      if (!taken.ok) return;
      const dump = join(taken.value.path, 'dump.pgdump');
      const original = readFileSync(dump);
      const flipped = Buffer.from(original);
      const at = Math.floor(flipped.length / 2);
      flipped[at] = (flipped[at] ?? 0) ^ 0xff;
      writeFileSync(dump, flipped);
      const target = await database();
      const restored = await restore({ backup: taken.value.path, url: target.url });
      expect(!restored.ok && restored.error.code).toBe('DB_BACKUP_CORRUPT');
      expect(!restored.ok && restored.error.message).toMatch(/dump\.pgdump: SHA-256 mismatch/);
      expect(!restored.ok && restored.error.details).toMatchObject({ file: 'dump.pgdump' });
      const verify = await verifyBackup({ backup: taken.value.path, source: source.url });
      expect(!verify.ok && verify.error.code).toBe('DB_BACKUP_CORRUPT');
      const copy = quietPool({ connectionString: target.url, max: 1 });
      const tables = await copy.query(
        "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'",
      );
      await copy.end();
      expect(tables.rows[0]).toEqual({ n: 0 });
      writeFileSync(dump, original);
      const manifestPath = join(taken.value.path, 'manifest.json');
      const manifest = readFileSync(manifestPath, 'utf8');
      writeFileSync(manifestPath, manifest.replace('"jobs": 1', '"jobs": 2'));
      const edited = await checkBackup(taken.value.path);
      expect(!edited.ok && edited.error.message).toMatch(/manifest\.json: was altered/);
      writeFileSync(manifestPath, manifest);
      writeFileSync(join(taken.value.path, 'stray.sql'), 'DROP TABLE notes;');
      const extra = await checkBackup(taken.value.path);
      expect(!extra.ok && extra.error.message).toMatch(/stray\.sql: is not listed in the manifest/);
    });

    it('reports an unwritable target by name and leaves existing backups as they were', async () => {
      const dir = folder();
      const first = await backup({ url: source.url, dir });
      expect(first.ok).toBe(true);
      const file = join(dir, 'not-a-folder');
      writeFileSync(file, 'x');
      const onFile = await backup({ url: source.url, dir: file });
      expect(!onFile.ok && onFile.error.code).toBe('DB_BACKUP_TARGET_UNWRITABLE');
      expect(!onFile.ok && onFile.error.message).toContain(file);
      const underProc = await backup({ url: source.url, dir: '/proc/prod-db-backups' });
      expect(!underProc.ok && underProc.error.code).toBe('DB_BACKUP_TARGET_UNWRITABLE');
      expect(!underProc.ok && underProc.error.details).toMatchObject({
        path: '/proc/prod-db-backups',
      });
      const listed = await listBackups(dir);
      expect(listed.ok && listed.value.map((b) => b.manifest.id)).toEqual([
        first.ok ? first.value.manifest.id : '',
      ]);
      expect(readdirSync(dir).filter((name) => name.startsWith('.partial-'))).toEqual([]);
      if (first.ok) expect((await checkBackup(first.value.path)).ok).toBe(true);
    });

    const tiny = folder();
    const mounted =
      spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', tiny]).status === 0;
    afterAll(() => {
      if (mounted) spawnSync('umount', [tiny]);
    });
    it.skipIf(!mounted)(
      'reports a full target and keeps the backups already there (skipped: no tmpfs can be mounted here)',
      async () => {
        const first = await backup({ url: source.url, dir: tiny, hashTables: false });
        expect(first.ok).toBe(true);
        await pool.query(
          'CREATE TABLE bulk AS SELECT g, md5(random()::text) || md5(random()::text) AS filler FROM generate_series(1, 40000) g',
        );
        try {
          const full = await backup({ url: source.url, dir: tiny, compress: 0 });
          expect(!full.ok && full.error.code).toBe('DB_BACKUP_TARGET_FULL');
          expect(!full.ok && full.error.message).toContain(tiny);
          expect(readdirSync(tiny).filter((name) => name.startsWith('.partial-'))).toEqual([]);
          if (first.ok) expect((await checkBackup(first.value.path)).ok).toBe(true);
        } finally {
          await pool.query('DROP TABLE bulk');
        }
      },
    );

    it('names a missing pg_dump', async () => {
      const result = await backup({
        url: source.url,
        dir: folder(),
        pgDump: '/nonexistent/pg_dump',
      });
      expect(!result.ok && result.error.code).toBe('DB_TOOL_MISSING');
      expect(!result.ok && result.error.message).toMatch(
        /^\/nonexistent\/pg_dump cannot be started \(ENOENT\)/,
      );
    });

    it('finds broken foreign keys, NOT VALID constraints that do not hold, and runs amcheck', async () => {
      const db = await database();
      const p = quietPool({ connectionString: db.url, max: 2 });
      try {
        await p.query(
          'CREATE TABLE parent (id int PRIMARY KEY); CREATE TABLE child (id int, parent_id int REFERENCES parent (id))',
        );
        await p.query(
          'INSERT INTO parent VALUES (1), (2); INSERT INTO child VALUES (1, 1), (2, NULL)',
        );
        const clean = await checkConstraints(p);
        expect(clean.ok && clean.value).toMatchObject({
          ok: true,
          amcheck: 'checked',
          checked: { foreignKeys: 1, notValid: 0 },
        });
        expect(clean.ok && clean.value.checked.indexes).toBeGreaterThanOrEqual(1);
        // Orphans slipped in with triggers off (as a replica or a careless restore would).
        await p.query(
          'BEGIN; SET LOCAL session_replication_role = replica; INSERT INTO child VALUES (3, 99); COMMIT',
        );
        await p.query('ALTER TABLE child ADD CONSTRAINT positive CHECK (id < 3) NOT VALID');
        const broken = await checkConstraints(p);
        expect(broken.ok && broken.value.ok).toBe(false);
        expect(broken.ok && broken.value.violations).toEqual([
          {
            kind: 'foreign-key',
            table: 'public.child',
            name: 'child_parent_id_fkey',
            rows: 1,
            message: '1 row(s) of public.child reference missing rows of public.parent',
          },
          {
            kind: 'not-valid',
            table: 'public.child',
            name: 'positive',
            message: 'check constraint "positive" of relation "child" is violated by some row',
          },
        ]);
        // The NOT VALID constraint is still NOT VALID, and amcheck was not left installed.
        const state = await p.query(
          "SELECT convalidated FROM pg_constraint WHERE conname = 'positive'",
        );
        expect(state.rows).toEqual([{ convalidated: false }]);
        expect(
          (await p.query("SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'amcheck'"))
            .rows[0],
        ).toEqual({ n: 0 });
      } finally {
        await p.end();
      }
    });

    it('rejects bad options at once', async () => {
      await expect(backup({ url: source.url, dir: folder(), jobs: 2 })).rejects.toSatisfy((error) =>
        DbErrors.DB_INVALID_OPTIONS.is(error),
      );
      await expect(backup({ url: '', dir: folder() })).rejects.toThrow(
        /option url must be a non-empty string/,
      );
      await expect(verifyBackup({ backup: folder() })).resolves.toMatchObject({
        ok: false,
        error: { code: 'DB_BACKUP_NOT_FOUND' },
      });
      mkdirSync(join(folder(), 'x'), { recursive: true });
    });
  },
);
