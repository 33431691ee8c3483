import { join } from 'node:path';
import {
  createMigrator,
  DbErrors,
  defineMigration,
  defineRepeatable,
  loadMigrations,
  type SqlQueryable,
} from '@prod/db';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir, writeFiles } from './fixtures/databases.js';

const dirs: Array<{ remove(): void }> = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.remove();
});
const folder = (files: Record<string, string>): string => {
  const dir = tempDir();
  dirs.push(dir);
  writeFiles(dir.path, files);
  return dir.path;
};

describe('loadMigrations', () => {
  it('orders versions numerically, repeatables last by name, and ignores other files', async () => {
    const dir = folder({
      'V1.10__ten.sql': 'SELECT 10;',
      'V1.9__nine.sql': 'SELECT 9;',
      'V2__two.sql': 'SELECT 2;',
      'V1_2__underscore.sql': 'SELECT 12;',
      'R__b.sql': 'SELECT 1;',
      'R__a.sql': 'SELECT 1;',
      'README.md': '# notes',
      '.hidden.sql': 'garbage',
    });
    const loaded = await loadMigrations(dir);
    expect(loaded.ok && loaded.value.map((m) => `${m.id}@${m.version ?? '-'}`)).toEqual([
      'V1_2__underscore.sql@1.2',
      'V1.9__nine.sql@1.9',
      'V1.10__ten.sql@1.10',
      'V2__two.sql@2',
      'R__a.sql@-',
      'R__b.sql@-',
    ]);
  });

  it('splits statements with PostgreSQL parser: dollar quotes, comments, semicolons in strings', async () => {
    const dir = folder({
      'V1__fn.sql': `-- héllo
CREATE FUNCTION f() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'a;b'; END $$;
/* a ; comment */ SELECT ';' AS semi;
SELECT 1`,
    });
    const loaded = await loadMigrations(dir);
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    const step = loaded.value[0]?.up;
    expect(
      step?.kind === 'sql' && step.statements.map((s) => [s.index, s.line, s.column, s.node]),
    ).toEqual([
      [1, 2, 1, 'CreateFunctionStmt'],
      [2, 3, 19, 'SelectStmt'],
      [3, 4, 1, 'SelectStmt'],
    ]);
    expect(step?.kind === 'sql' && step.statements[1]?.text).toBe("SELECT ';' AS semi");
  });

  it('names the file, line and column of a syntax error, after non-ASCII text too', async () => {
    const dir = folder({
      'V1__ok.sql': 'SELECT 1;',
      'V2__bad.sql': "SELECT 'é';\n  CREAT TABLE x ();",
    });
    const loaded = await loadMigrations(dir);
    expect(!loaded.ok && loaded.error.code).toBe('DB_MIGRATION_SYNTAX');
    expect(!loaded.ok && loaded.error.details).toMatchObject({
      file: 'V2__bad.sql',
      line: 2,
      column: 3,
    });
  });

  it('checksums ignore line endings and a byte-order mark, nothing else', async () => {
    const a = await loadMigrations(folder({ 'V1__x.sql': 'SELECT 1;\nSELECT 2;\n' }));
    const b = await loadMigrations(folder({ 'V1__x.sql': '\uFEFFSELECT 1;\r\nSELECT 2;\r\n' }));
    const c = await loadMigrations(folder({ 'V1__x.sql': 'SELECT 1;\nSELECT 3;\n' }));
    expect(a.ok && b.ok && a.value[0]?.checksum === b.value[0]?.checksum).toBe(true);
    expect(a.ok && c.ok && a.value[0]?.checksum !== c.value[0]?.checksum).toBe(true);
  });

  it.each([
    [{ 'V1_x.sql': 'SELECT 1;' }, /V1_x\.sql: a migration file is named/],
    [{ 'V1__a.sql': 'SELECT 1;', 'V01__b.sql': 'SELECT 1;' }, /version 1 is also used by/],
    [
      { 'U3__x.sql': 'SELECT 1;' },
      /U3__x\.sql: a down step for version 3, which has no V3__ migration/,
    ],
    [{ 'V1__a.sql': 'BEGIN; SELECT 1; COMMIT;' }, /transaction control/],
    [{ 'V1__a.sql': 'VACUUM;' }, /VACUUM cannot run inside a transaction/],
    [
      {
        'V1__a.sql': '-- prod-db: no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a); SELECT 1;',
      },
      /must hold exactly one statement \(it holds 2\)/,
    ],
    [{ 'V1__a.mjs': 'export const nothing = 1;' }, /the module must export up/],
  ])('refuses %j', async (files, message) => {
    const loaded = await loadMigrations(folder(files as Record<string, string>));
    expect(!loaded.ok && loaded.error.code).toBe('DB_MIGRATION_INVALID');
    expect(!loaded.ok && loaded.error.message).toMatch(message);
  });

  it('loads JavaScript migrations with up, down and transaction = false', async () => {
    const dir = folder({
      'V1__js.mjs':
        "export async function up(db) { await db.query('SELECT 1'); }\nexport const down = 'SELECT 2';\nexport const transaction = false;",
    });
    const loaded = await loadMigrations(dir);
    expect(loaded.ok && loaded.value[0]).toMatchObject({
      id: 'V1__js.mjs',
      version: '1',
      transaction: false,
      up: { kind: 'code' },
      down: { kind: 'sql' },
    });
  });

  it('reports an unreadable folder', async () => {
    const loaded = await loadMigrations(join(folder({}), 'missing'));
    expect(!loaded.ok && loaded.error.code).toBe('DB_MIGRATION_INVALID');
    expect(!loaded.ok && loaded.error.message).toMatch(/cannot read the migrations folder/);
  });
});

describe('definitions in code', () => {
  it('are checked like files', async () => {
    const fake: SqlQueryable = { query: async () => ({ rows: [] }) };
    const bad = createMigrator({
      client: fake,
      migrations: [defineMigration({ version: 'one', name: 'x', up: 'SELECT 1' })],
    });
    const result = await bad.migrate();
    expect(!result.ok && result.error.message).toMatch(/version must be dotted numbers/);
    const twice = createMigrator({
      client: fake,
      migrations: [
        defineRepeatable({ name: 'v', up: 'SELECT 1' }),
        defineRepeatable({ name: 'v', up: 'SELECT 2' }),
      ],
    });
    const dup = await twice.status();
    expect(!dup.ok && dup.error.message).toMatch(/two repeatable migrations are named v/);
    const syntax = createMigrator({
      client: fake,
      migrations: [{ version: '1', name: 'bad', up: 'SELEC 1' }],
    });
    const parsed = await syntax.plan();
    expect(!parsed.ok && parsed.error.code).toBe('DB_MIGRATION_SYNTAX');
  });

  it('rejects bad options at construction with DB_INVALID_OPTIONS', () => {
    const fake: SqlQueryable = { query: async () => ({ rows: [] }) };
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ client: undefined, migrations: 'x' }, /option client must be a pg Pool/],
      [{ client: fake, migrations: 42 }, /option migrations must be a folder path/],
      [{ client: fake, migrations: 'x', lockTimeoutMs: -1 }, /option lockTimeoutMs/],
      [{ client: fake, migrations: 'x', table: '' }, /option table must be a non-empty string/],
      [
        { client: fake, migrations: 'x', table: 'x'.repeat(51) },
        /option table must be a name of at most 50 characters/,
      ],
      [{ client: fake, migrations: 'x', staleClaimMs: 10 }, /option staleClaimMs/],
      [{ client: fake, migrations: 'x', logger: { info: 1 } }, /option logger/],
    ];
    for (const [options, message] of cases) {
      let thrown: unknown;
      try {
        createMigrator(options as never);
      } catch (error) {
        thrown = error;
      }
      expect(DbErrors.DB_INVALID_OPTIONS.is(thrown)).toBe(true);
      expect((thrown as Error).message).toMatch(message);
    }
  });

  it('keeps a prototype-key file name as plain data', async () => {
    const dir = folder({ 'V1____proto__.sql': 'SELECT 1;' });
    const loaded = await loadMigrations(dir);
    expect(loaded.ok && loaded.value[0]?.name).toBe('__proto__');
    expect(Object.getPrototypeOf(loaded.ok ? loaded.value[0] : {})).toBe(Object.prototype);
  });
});
