import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMigrator, DbErrors, type MigratorOptions, toSqlClient } from '@prod/db';
import { type FixtureProcess, postgresTestDatabase, spawnFixture } from '@prod/testing';
import type pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { quietPool, tempDir, until, writeFiles } from './fixtures/databases.js';

const probe = await postgresTestDatabase();
afterAll(() => probe.drop());

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Fixture {
  readonly url: string;
  readonly schema: string;
  readonly pool: pg.Pool;
  readonly dir: string;
  migrator(options?: Partial<MigratorOptions>): ReturnType<typeof createMigrator>;
  one<TRow>(text: string, values?: unknown[]): Promise<TRow>;
  /** A client in an open transaction that wrote to notes: an index build on notes waits for it. */
  blocker(): Promise<pg.PoolClient>;
}

/** A fresh schema, a pool whose search_path is it, and an empty migrations folder. */
async function fixture(files: Record<string, string> = {}): Promise<Fixture> {
  const database = await postgresTestDatabase();
  cleanups.push(() => database.drop());
  const pool = quietPool({ connectionString: database.url, max: 4 });
  cleanups.push(() => pool.end().catch(() => {}));
  const dir = tempDir();
  cleanups.push(() => dir.remove());
  writeFiles(dir.path, files);
  return {
    url: database.url,
    schema: database.schema,
    pool,
    dir: dir.path,
    migrator: (options = {}) =>
      createMigrator({ client: pool, migrations: dir.path, runner: 'test', ...options }),
    async one<TRow>(text: string, values?: unknown[]) {
      return (await pool.query(text, values)).rows[0] as TRow;
    },
    async blocker() {
      const client = await pool.connect();
      cleanups.push(() => client.release(true));
      await client.query('BEGIN');
      await client.query("INSERT INTO notes (title) VALUES ('blocker')");
      return client;
    },
  };
}

const V1 = 'CREATE TABLE notes (id serial PRIMARY KEY, title text NOT NULL);\n';
const V2 = "INSERT INTO notes (title) VALUES ('first'), ('second');\n";

describe.skipIf(!probe.available)(
  'migrations on PostgreSQL (skipped: PostgreSQL not reachable)',
  () => {
    it('applies versioned then repeatable migrations once, and records checksum, duration, who and when', async () => {
      const f = await fixture({
        'V1__create_notes.sql': V1,
        'V2__seed.sql': V2,
        'R__note_titles.sql': 'CREATE OR REPLACE VIEW note_titles AS SELECT title FROM notes;\n',
        'README.md': 'ignored',
      });
      const first = await f.migrator().migrate();
      expect(first.ok && first.value.applied.map((m) => m.id)).toEqual([
        'V1__create_notes.sql',
        'V2__seed.sql',
        'R__note_titles.sql',
      ]);
      expect(first.ok && first.value.version).toBe('2');
      const history = await f.pool.query(
        'SELECT version, script, kind, checksum, state, installed_by, runner, installed_on, duration_ms FROM prod_db_migrations ORDER BY rank',
      );
      expect(history.rows).toHaveLength(3);
      for (const row of history.rows) {
        expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
        expect(row.state).toBe('applied');
        expect(row.installed_by).toBe('postgres');
        expect(row.runner).toBe('test');
        expect(row.installed_on).toBeInstanceOf(Date);
        expect(row.duration_ms).toBeGreaterThanOrEqual(0);
      }
      expect(await f.one('SELECT count(*)::int AS n FROM note_titles')).toEqual({ n: 2 });
      const again = await f.migrator().migrate();
      expect(again.ok && again.value.applied).toEqual([]);
      const status = await f.migrator().status();
      expect(status.ok && status.value.map((s) => [s.id, s.state])).toEqual([
        ['V1__create_notes.sql', 'applied'],
        ['V2__seed.sql', 'applied'],
        ['R__note_titles.sql', 'applied'],
      ]);
      // No advisory lock outlives a call: nothing session-scoped, so a transaction pooler is safe.
      expect(
        await f.one("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'"),
      ).toEqual({ n: 0 });
    });

    it('re-applies a repeatable migration when its checksum changes', async () => {
      const f = await fixture({
        'V1__create_notes.sql': V1,
        'R__view.sql': 'CREATE OR REPLACE VIEW v AS SELECT 1 AS one;',
      });
      expect((await f.migrator().migrate()).ok).toBe(true);
      writeFileSync(
        join(f.dir, 'R__view.sql'),
        'CREATE OR REPLACE VIEW v AS SELECT 1 AS one, 2 AS two;',
      );
      const status = await f.migrator().status();
      expect(status.ok && status.value.find((s) => s.id === 'R__view.sql')?.state).toBe('outdated');
      const again = await f.migrator().migrate();
      expect(again.ok && again.value.applied.map((m) => m.id)).toEqual(['R__view.sql']);
      expect(await f.one('SELECT two FROM v')).toEqual({ two: 2 });
    });

    it('detects a changed applied migration and runs nothing', async () => {
      const f = await fixture({ 'V1__create_notes.sql': V1 });
      expect((await f.migrator().migrate()).ok).toBe(true);
      writeFileSync(join(f.dir, 'V1__create_notes.sql'), V1.replace('NOT NULL', ''));
      writeFiles(f.dir, { 'V2__seed.sql': V2 });
      const result = await f.migrator().migrate();
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(DbErrors.DB_MIGRATION_CHECKSUM_MISMATCH.is(result.error)).toBe(true);
      expect(result.error.message).toContain('V1__create_notes.sql');
      expect(result.error.details).toMatchObject({ file: 'V1__create_notes.sql' });
      expect(await f.one('SELECT count(*)::int AS n FROM notes')).toEqual({ n: 0 });
      const validate = await f.migrator().validate();
      expect(!validate.ok && validate.error.code).toBe('DB_MIGRATION_CHECKSUM_MISMATCH');
      // CRLF line endings are not a change.
      writeFileSync(join(f.dir, 'V1__create_notes.sql'), V1.replace(/\n/g, '\r\n'));
      expect((await f.migrator().validate()).ok).toBe(true);
    });

    it('rolls a failing migration back whole and names the statement, its line and the reason', async () => {
      const f = await fixture({
        'V1__create_notes.sql': V1,
        'V2__broken.sql':
          'CREATE TABLE tags (id int);\n\nALTER TABLE notes\n  ADD COLUMN body text,\n  ADD COLUMN nope int REFERENCES missing_table (id);\n',
        'V3__later.sql': 'CREATE TABLE later (id int);',
      });
      const result = await f.migrator().migrate();
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error.code).toBe('DB_MIGRATION_FAILED');
      expect(result.error.message).toMatch(
        /^V2__broken\.sql statement 2 \(line 3\) failed: relation "missing_table" does not exist \[42P01\]/,
      );
      expect(result.error.details).toMatchObject({
        file: 'V2__broken.sql',
        statement: 2,
        line: 3,
        sqlState: '42P01',
        appliedBefore: ['V1__create_notes.sql'],
      });
      // Statement 1 of V2 was rolled back with it, V3 never ran, the history has V1 only.
      expect(await f.one("SELECT to_regclass('tags') AS t, to_regclass('later') AS l")).toEqual({
        t: null,
        l: null,
      });
      expect(
        await f.one(
          "SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'notes' AND column_name = 'body'",
        ),
      ).toEqual({ n: 0 });
      expect((await f.pool.query('SELECT script FROM prod_db_migrations')).rows).toEqual([
        { script: 'V1__create_notes.sql' },
      ]);
    });

    it('reports a syntax error with file, line and column before running anything', async () => {
      const f = await fixture({
        'V1__create_notes.sql': V1,
        'V2__typo.sql': "-- a comment\nINSERT INTO notes (title) VALUES ('x');\nSELEC 1;\n",
      });
      const result = await f.migrator().migrate();
      expect(!result.ok && result.error.code).toBe('DB_MIGRATION_SYNTAX');
      if (result.ok) return;
      expect(result.error.message).toBe(
        'V2__typo.sql: syntax error at or near "SELEC" at line 3, column 1',
      );
      expect(result.error.details).toMatchObject({ file: 'V2__typo.sql', line: 3, column: 1 });
      expect(
        await f.one("SELECT to_regclass('notes') AS t, to_regclass('prod_db_migrations') AS h"),
      ).toEqual({ t: null, h: null });
    });

    it('refuses a concurrent-index statement in a transactional file, and BEGIN/COMMIT in any', async () => {
      const f = await fixture({
        'V1__index.sql': `${V1}CREATE INDEX CONCURRENTLY notes_title ON notes (title);`,
      });
      const result = await f.migrator().migrate();
      expect(!result.ok && result.error.code).toBe('DB_MIGRATION_INVALID');
      expect(!result.ok && result.error.message).toMatch(
        /V1__index\.sql: statement 2 \(line 2\): CREATE INDEX CONCURRENTLY cannot run inside a transaction/,
      );
      const g = await fixture({ 'V1__tx.sql': `BEGIN;\n${V1}COMMIT;` });
      const tx = await g.migrator().migrate();
      expect(!tx.ok && tx.error.message).toMatch(/transaction control/);
      const h = await fixture({ 'V1_bad_name.sql': V1 });
      const named = await h.migrator().migrate();
      expect(!named.ok && named.error.message).toMatch(
        /^V1_bad_name\.sql: a migration file is named/,
      );
    });

    it('gives DB_MIGRATION_LOCKED to a second runner while the first holds the lock', async () => {
      const f = await fixture({
        'V1__slow.sql': 'CREATE TABLE slow (id int);\nSELECT pg_sleep(1.5);\n',
      });
      const first = f.migrator().migrate();
      await until(
        async () =>
          (
            await f.one<{ n: number }>(
              "SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(1.5)%'",
            )
          ).n > 0,
      );
      const other = quietPool({ connectionString: f.url, max: 2 });
      cleanups.push(() => other.end());
      const second = await createMigrator({
        client: other,
        migrations: f.dir,
        lockTimeoutMs: 200,
      }).migrate();
      expect(!second.ok && second.error.code).toBe('DB_MIGRATION_LOCKED');
      expect(!second.ok && second.error.message).toMatch(
        /V1__slow\.sql: backend \d+ .*held the migration lock on ".+"\."prod_db_migrations" for more than 200 ms/,
      );
      expect(!second.ok && second.error.retryable).toBe(true);
      const done = await first;
      expect(done.ok && done.value.applied.map((m) => m.id)).toEqual(['V1__slow.sql']);
      expect(await f.one('SELECT count(*)::int AS n FROM prod_db_migrations')).toEqual({ n: 1 });
    });

    it('survives a connection killed mid-migration: typed error, nothing applied, the next run succeeds', async () => {
      const f = await fixture({
        'V1__create_notes.sql': V1,
        'V2__long.sql': 'CREATE TABLE long_one (id int);\nSELECT pg_sleep(30);\n',
      });
      const running = f.migrator().migrate();
      await until(
        async () =>
          (
            await f.one<{ n: number }>(
              "SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%'",
            )
          ).n > 0,
      );
      await f.pool.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%'",
      );
      const result = await running;
      expect(!result.ok && result.error.code).toBe('DB_MIGRATION_INTERRUPTED');
      expect(!result.ok && result.error.message).toMatch(
        /^V2__long\.sql statement 2 \(line 2\): the connection was lost \(terminating connection due to administrator command\)/,
      );
      expect(!result.ok && result.error.retryable).toBe(true);
      expect(await f.one("SELECT to_regclass('long_one') AS t")).toEqual({ t: null });
      writeFileSync(join(f.dir, 'V2__long.sql'), 'CREATE TABLE long_one (id int);\n');
      const again = await f.migrator().migrate();
      expect(again.ok && again.value.applied.map((m) => m.id)).toEqual(['V2__long.sql']);
    });

    it('runs a CREATE INDEX CONCURRENTLY migration outside a transaction while a peer waits without deadlock', async () => {
      const f = await fixture({
        'V1__create_notes.sql': V1,
        'V2__index.sql':
          '-- prod-db: no-transaction\nCREATE INDEX CONCURRENTLY notes_title ON notes (title);\n',
        'V3__column.sql': 'ALTER TABLE notes ADD COLUMN body text;',
      });
      expect((await f.migrator().migrate({ target: '1' })).ok).toBe(true);
      // An open transaction that read the table: the index build must wait for it.
      const blocker = await f.blocker();
      const a = f.migrator({ runner: 'a' }).migrate();
      await until(
        async () =>
          (
            await f.one<{ n: number }>(
              "SELECT count(*)::int AS n FROM prod_db_migrations WHERE state = 'running'",
            )
          ).n === 1,
      );
      const other = quietPool({ connectionString: f.url, max: 2 });
      cleanups.push(() => other.end());
      const b = createMigrator({ client: other, migrations: f.dir, runner: 'b' }).migrate();
      await new Promise((resolve) => setTimeout(resolve, 300));
      await blocker.query('COMMIT');
      const [ra, rb] = await Promise.all([a, b]);
      expect(ra.ok && rb.ok).toBe(true);
      const ids = [...(ra.ok ? ra.value.applied : []), ...(rb.ok ? rb.value.applied : [])]
        .map((m) => m.id)
        .sort();
      expect(ids).toEqual(['V2__index.sql', 'V3__column.sql']);
      expect(
        await f.one("SELECT indisvalid FROM pg_index WHERE indexrelid = 'notes_title'::regclass"),
      ).toEqual({ indisvalid: true });
      expect(
        (
          await f.pool.query(
            "SELECT version, state FROM prod_db_migrations WHERE kind = 'versioned' ORDER BY rank",
          )
        ).rows,
      ).toEqual([
        { version: '1', state: 'applied' },
        { version: '2', state: 'applied' },
        { version: '3', state: 'applied' },
      ]);
    });

    it('cleans up after an index build killed mid-way and builds it on the next run', async () => {
      const f = await fixture({
        'V1__create_notes.sql': V1,
        'V2__index.sql':
          '-- prod-db: no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS notes_title ON notes (title);\n',
      });
      expect((await f.migrator().migrate({ target: '1' })).ok).toBe(true);
      const blocker = await f.blocker();
      const running = f.migrator().migrate();
      await until(
        async () =>
          (
            await f.one<{ n: number }>(
              "SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE '%prod-db:claim=%CREATE INDEX CONCURRENTLY%' AND pid <> pg_backend_pid()",
            )
          ).n > 0,
      );
      await f.pool.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%prod-db:claim=%CREATE INDEX CONCURRENTLY%' AND pid <> pg_backend_pid()",
      );
      await blocker.query('COMMIT');
      const result = await running;
      expect(!result.ok && result.error.code).toBe('DB_MIGRATION_INTERRUPTED');
      expect(!result.ok && result.error.details).toMatchObject({ file: 'V2__index.sql' });
      // No invalid index left behind, no claim left behind.
      expect(await f.one("SELECT to_regclass('notes_title') AS i")).toEqual({ i: null });
      expect(
        await f.one("SELECT count(*)::int AS n FROM prod_db_migrations WHERE state = 'running'"),
      ).toEqual({ n: 0 });
      const again = await f.migrator().migrate();
      expect(again.ok && again.value.applied.map((m) => m.id)).toEqual(['V2__index.sql']);
      expect(
        await f.one("SELECT indisvalid FROM pg_index WHERE indexrelid = 'notes_title'::regclass"),
      ).toEqual({ indisvalid: true });
    });

    it('takes over a no-transaction migration whose runner process died', async () => {
      const f = await fixture({
        'V1__create_notes.sql': V1,
        'V2__index.sql':
          '-- prod-db: no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS notes_title ON notes (title);\n',
      });
      expect((await f.migrator().migrate({ target: '1' })).ok).toBe(true);
      const blocker = await f.blocker();
      const child = runChild(f.url, f.dir, { staleClaimMs: 300 });
      await until(
        async () =>
          (
            await f.one<{ n: number }>(
              "SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE '%prod-db:claim=%CREATE INDEX CONCURRENTLY%' AND pid <> pg_backend_pid()",
            )
          ).n > 0,
        20_000,
      );
      child.kill('SIGKILL');
      await child.exited;
      // The server still runs the dead runner's build: a peer must wait, not take over.
      const waiting = await f.migrator({ staleClaimMs: 300, lockTimeoutMs: 800 }).migrate();
      expect(!waiting.ok && waiting.error.code).toBe('DB_MIGRATION_LOCKED');
      expect(!waiting.ok && waiting.error.message).toMatch(
        /V2__index\.sql: still being applied by/,
      );
      // Once the server drops that build too (the invalid index stays), the claim is abandoned.
      await f.pool.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%prod-db:claim=%CREATE INDEX CONCURRENTLY%' AND pid <> pg_backend_pid()",
      );
      await blocker.query('COMMIT');
      await until(
        async () =>
          (
            await f.one<{ n: number }>(
              "SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE '%prod-db:claim=%' AND pid <> pg_backend_pid()",
            )
          ).n === 0,
      );
      const result = await f.migrator({ staleClaimMs: 300 }).migrate();
      expect(result.ok && result.value.applied.map((m) => m.id)).toEqual(['V2__index.sql']);
      expect(
        await f.one("SELECT indisvalid FROM pg_index WHERE indexrelid = 'notes_title'::regclass"),
      ).toEqual({ indisvalid: true });
      expect(
        (await f.pool.query("SELECT state, runner FROM prod_db_migrations WHERE version = '2'"))
          .rows,
      ).toEqual([{ state: 'applied', runner: 'test' }]);
    }, 40_000);

    it('five migrators in five processes apply each migration exactly once', async () => {
      const f = await fixture({
        'V1__create_notes.sql': V1,
        'V2__seed.sql': V2,
        'V3__index.sql':
          '-- prod-db: no-transaction\nCREATE INDEX CONCURRENTLY notes_title ON notes (title);\n',
        'V4__column.sql': 'ALTER TABLE notes ADD COLUMN body text;\nUPDATE notes SET body = title;',
        'R__view.sql': 'CREATE OR REPLACE VIEW note_bodies AS SELECT body FROM notes;',
      });
      const children = Array.from({ length: 5 }, () => runChild(f.url, f.dir, {}));
      const outputs = await Promise.all(children.map((child) => child.exited));
      const reports = outputs.map(
        (output) => JSON.parse(output.stdout) as { ok: boolean; applied?: string[]; code?: string },
      );
      expect(reports.every((report) => report.ok)).toBe(true);
      const applied = reports.flatMap((report) => report.applied ?? []).sort();
      expect(applied).toEqual([
        'R__view.sql',
        'V1__create_notes.sql',
        'V2__seed.sql',
        'V3__index.sql',
        'V4__column.sql',
      ]);
      expect(await f.one('SELECT count(*)::int AS n FROM notes')).toEqual({ n: 2 });
      expect(
        (await f.pool.query('SELECT script, state FROM prod_db_migrations ORDER BY rank')).rows,
      ).toHaveLength(5);
    }, 60_000);

    it('reverts with down(n) newest first, and refuses when a step has no down', async () => {
      const f = await fixture({
        'V1__create_notes.sql': V1,
        'V2__tags.sql': 'CREATE TABLE tags (id int);',
        'U2__tags.sql': 'DROP TABLE tags;',
        'V3__column.sql': 'ALTER TABLE notes ADD COLUMN body text;',
        'U3__column.sql': 'ALTER TABLE notes DROP COLUMN body;',
      });
      expect((await f.migrator().migrate()).ok).toBe(true);
      const plan = await f.migrator().plan({ down: 2 });
      expect(plan.ok && plan.value.script).toBe(
        '-- revert V3__column.sql\nBEGIN;\nALTER TABLE notes DROP COLUMN body;\nCOMMIT;\n\n-- revert V2__tags.sql\nBEGIN;\nDROP TABLE tags;\nCOMMIT;',
      );
      const reverted = await f.migrator().down(2);
      expect(reverted.ok && reverted.value).toEqual(['V3__column.sql', 'V2__tags.sql']);
      expect(await f.one("SELECT to_regclass('tags') AS t")).toEqual({ t: null });
      const none = await f.migrator().down(1);
      expect(!none.ok && none.error.code).toBe('DB_MIGRATION_NO_DOWN');
      expect(!none.ok && none.error.message).toMatch(/^V1__create_notes\.sql has no down step/);
      const status = await f.migrator().status();
      expect(status.ok && status.value.map((s) => s.state)).toEqual([
        'applied',
        'pending',
        'pending',
      ]);
      const again = await f.migrator().migrate();
      expect(again.ok && again.value.applied.map((m) => m.id)).toEqual([
        'V2__tags.sql',
        'V3__column.sql',
      ]);
    });

    it('baselines an existing database, plans only what is after it', async () => {
      const f = await fixture({
        'V1__create_notes.sql': V1,
        'V2__seed.sql': V2,
        'V3__column.sql': 'ALTER TABLE notes ADD COLUMN body text;',
      });
      await f.pool.query(V1);
      await f.pool.query(V2);
      expect((await f.migrator().baseline({ version: '2' })).ok).toBe(true);
      const plan = await f.migrator().plan();
      expect(plan.ok && plan.value.steps.map((s) => s.id)).toEqual(['V3__column.sql']);
      expect(plan.ok && plan.value.script).toBe(
        '-- apply V3__column.sql\nBEGIN;\nALTER TABLE notes ADD COLUMN body text;\nCOMMIT;',
      );
      const result = await f.migrator().migrate();
      expect(result.ok && result.value.applied.map((m) => m.id)).toEqual(['V3__column.sql']);
      const status = await f.migrator().status();
      expect(status.ok && status.value.map((s) => `${s.id}:${s.state}`)).toEqual([
        'B2__baseline 2:applied',
        'V1__create_notes.sql:below-baseline',
        'V2__seed.sql:below-baseline',
        'V3__column.sql:applied',
      ]);
      const twice = await f.migrator().baseline({ version: '3' });
      expect(!twice.ok && twice.error.code).toBe('DB_MIGRATION_BASELINE_REFUSED');
    });

    it('validate names missing and out-of-order migrations', async () => {
      const f = await fixture({
        'V1__create_notes.sql': V1,
        'V3__column.sql': 'ALTER TABLE notes ADD COLUMN body text;',
      });
      expect((await f.migrator().migrate()).ok).toBe(true);
      writeFiles(f.dir, { 'V2__late.sql': 'SELECT 1;' });
      const late = await f.migrator().validate();
      expect(!late.ok && late.error.code).toBe('DB_MIGRATION_OUT_OF_ORDER');
      expect(!late.ok && late.error.message).toMatch(
        /^V2__late\.sql is pending but older than the newest applied version 3/,
      );
      const allowed = await f.migrator({ outOfOrder: true }).migrate();
      expect(allowed.ok && allowed.value.applied.map((m) => m.id)).toEqual(['V2__late.sql']);
      const { rmSync } = await import('node:fs');
      rmSync(join(f.dir, 'V3__column.sql'));
      const missing = await f.migrator().validate();
      expect(!missing.ok && missing.error.code).toBe('DB_MIGRATION_MISSING');
      expect(!missing.ok && missing.error.details).toMatchObject({ file: 'V3__column.sql' });
    });

    it('detects drift: a manual change to the live schema, and none after a clean run', async () => {
      const f = await fixture({
        'V1__create_notes.sql': V1,
        'V2__index.sql':
          '-- prod-db: no-transaction\nCREATE INDEX CONCURRENTLY notes_title ON notes (title);\n',
        'R__view.sql': 'CREATE OR REPLACE VIEW note_titles AS SELECT title FROM notes;',
      });
      expect((await f.migrator().migrate()).ok).toBe(true);
      const clean = await f.migrator().drift();
      expect(clean.ok ? clean.value.differences : clean.error).toEqual([]);
      expect(clean.ok && clean.value.drifted).toBe(false);
      await f.pool.query('ALTER TABLE notes ADD COLUMN secret text');
      await f.pool.query('DROP INDEX notes_title');
      await f.pool.query('ALTER TABLE notes ALTER COLUMN title DROP NOT NULL');
      const drift = await f.migrator().drift();
      expect(drift.ok && drift.value.drifted).toBe(true);
      expect(drift.ok && drift.value.differences).toEqual([
        { object: 'column', name: 'notes.secret', change: 'unexpected', actual: 'text' },
        {
          object: 'column',
          name: 'notes.title',
          change: 'changed',
          expected: 'text NOT NULL',
          actual: 'text',
        },
        {
          object: 'index',
          name: 'notes_title',
          change: 'missing',
          expected: 'CREATE INDEX notes_title ON notes USING btree (title)',
        },
      ]);
      // The scratch schema was rolled back.
      expect(
        await f.one(
          "SELECT count(*)::int AS n FROM pg_namespace WHERE nspname LIKE 'prod_db_drift_%'",
        ),
      ).toEqual({ n: 0 });
    });

    it('takes code migrations and a SqlClient', async () => {
      const f = await fixture();
      const migrator = createMigrator({
        client: toSqlClient(f.pool),
        table: 'history',
        migrations: [
          { version: '1', name: 'notes', up: V1, down: 'DROP TABLE notes' },
          {
            version: '2',
            name: 'seed',
            up: async (db) => {
              await db.query('INSERT INTO notes (title) VALUES ($1)', ['from code']);
            },
          },
          {
            version: '3',
            name: 'fails',
            up: async (db) => {
              await db.query('INSERT INTO notes (title) VALUES ($1)', ['rolled back']);
              await db.query('INSERT INTO notes (title) VALUES (NULL)');
            },
          },
        ],
      });
      const result = await migrator.migrate();
      expect(!result.ok && result.error.code).toBe('DB_MIGRATION_FAILED');
      expect(!result.ok && result.error.message).toMatch(
        /^V3__fails at "INSERT INTO notes \(title\) VALUES \(NULL\)" failed: null value in column "title"/,
      );
      expect((await f.pool.query('SELECT title FROM notes')).rows).toEqual([
        { title: 'from code' },
      ]);
      expect(await f.one('SELECT count(*)::int AS n FROM history')).toEqual({ n: 2 });
    });
  },
);

/** Runs one migrator in a child process (test/fixtures/migrate-child.ts); its stdout is its report. */
function runChild(url: string, dir: string, options: Record<string, unknown>): FixtureProcess {
  const child = spawnFixture(join(import.meta.dirname, 'fixtures', 'migrate-child.ts'), {
    args: [url, dir, JSON.stringify(options)],
    conditions: ['@prod/source'],
  });
  cleanups.push(async () => {
    child.kill();
    await child.exited;
  });
  return child;
}
