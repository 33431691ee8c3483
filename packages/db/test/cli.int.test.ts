import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { postgresTestDatabase } from '@prod/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createDatabase, quietPool, tempDir, writeFiles } from './fixtures/databases.js';

const probe = await postgresTestDatabase();
afterAll(() => probe.drop());

const CLI = join(import.meta.dirname, '..', 'src', 'bin', 'prod-db.ts');
const cli = (args: string[], env: Record<string, string> = {}) => {
  const run = spawnSync(
    process.execPath,
    ['--conditions=@prod/source', '--import', 'tsx', CLI, ...args],
    {
      encoding: 'utf8',
      env: { ...process.env, ...env },
      timeout: 60_000,
    },
  );
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
};

describe.skipIf(!probe.available)('the prod-db CLI (skipped: PostgreSQL not reachable)', () => {
  it('migrates, reports status and plan, detects drift, with exit codes', async () => {
    const database = await postgresTestDatabase();
    const dir = tempDir();
    try {
      writeFiles(dir.path, {
        'V1__notes.sql': 'CREATE TABLE notes (id int PRIMARY KEY, title text NOT NULL);',
        'V2__index.sql':
          '-- prod-db: no-transaction\nCREATE INDEX CONCURRENTLY notes_title ON notes (title);',
      });
      const env = { DATABASE_URL: database.url };
      const plan = cli(['plan', '--dir', dir.path], env);
      expect(plan.code).toBe(0);
      expect(plan.stdout).toContain(
        '-- apply V2__index.sql (outside a transaction)\nCREATE INDEX CONCURRENTLY notes_title ON notes (title);',
      );
      const migrate = cli(['migrate', '--dir', dir.path], env);
      expect(migrate.stdout).toMatch(
        /applied V1__notes\.sql \(\d+ ms\)\napplied V2__index\.sql \(\d+ ms\)\nnow at version 2/,
      );
      expect(migrate.code).toBe(0);
      const status = cli(['status', '--dir', dir.path, '--json'], env);
      expect(
        JSON.parse(status.stdout).value.map(
          (s: { id: string; state: string }) => `${s.id}:${s.state}`,
        ),
      ).toEqual(['V1__notes.sql:applied', 'V2__index.sql:applied']);
      expect(cli(['drift', '--dir', dir.path], env)).toMatchObject({
        code: 0,
        stdout: expect.stringContaining('matches the migrations'),
      });
      const pool = quietPool({ connectionString: database.url, max: 1 });
      await pool.query('ALTER TABLE notes ADD COLUMN rogue int');
      await pool.end();
      const drift = cli(['drift', '--dir', dir.path], env);
      expect(drift.code).toBe(1);
      expect(drift.stdout).toContain('unexpected column notes.rogue');
      writeFiles(dir.path, { 'V1__notes.sql': 'CREATE TABLE notes (id int PRIMARY KEY);' });
      const validate = cli(['validate', '--dir', dir.path], env);
      expect(validate.code).toBe(1);
      expect(validate.stderr).toMatch(
        /^DB_MIGRATION_CHECKSUM_MISMATCH: V1__notes\.sql was applied with checksum/,
      );
      expect(cli(['frobnicate'], env).code).toBe(2);
      expect(cli(['migrate', '--no-such-flag'], env).code).toBe(2);
      expect(cli(['migrate', '--dir', dir.path], { DATABASE_URL: '' })).toMatchObject({
        code: 2,
        stderr: expect.stringContaining('no database'),
      });
    } finally {
      dir.remove();
      await database.drop();
    }
  }, 90_000);

  it('backs up, verifies and prunes', async () => {
    const source = await createDatabase();
    const out = tempDir();
    try {
      const pool = quietPool({ connectionString: source.url, max: 1 });
      await pool.query(
        'CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 10)',
      );
      await pool.end();
      const taken = cli(['backup', '--url', source.url, '--out', out.path, '--json']);
      expect(taken.code).toBe(0);
      const path = JSON.parse(taken.stdout).value.path as string;
      const verify = cli(['verify', '--url', source.url, '--from', path]);
      expect(verify.code).toBe(0);
      expect(verify.stdout).toContain('same            public.t backup 10 rows, now 10 rows');
      expect(cli(['prune', '--out', out.path, '--keep-daily', '1']).stdout).toContain('kept 1');
    } finally {
      out.remove();
      await source.drop();
    }
  }, 90_000);
});
