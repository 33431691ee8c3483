#!/usr/bin/env node
// prod-db: migrations, backups and verification from the command line.
import { parseArgs } from 'node:util';
import type { ProdError, Result } from '@prod/core';
import { backup, restore, verifyBackup } from '../backup.js';
import { createMigrator, type MigrationStatus } from '../migrator.js';
import { pruneBackups } from '../retention.js';
import type { SqlClient } from '../sql-client.js';

const USAGE = `usage: prod-db <command> [options]

commands:
  migrate [--target V]            apply the pending migrations (up to version V)
  status                          list every migration and its state
  validate                        check applied migrations against the files
  baseline --version V            adopt an existing database at version V
  down [N]                        revert the N newest migrations (default 1)
  plan [--target V | --down N]    print the SQL that migrate (or down) would run
  drift                           compare the live schema with what the migrations produce
  backup --out DIR                pg_dump into a new folder of DIR, with a manifest
         [--format custom|directory] [--jobs N]
  restore --from BACKUP [--jobs N] [--clean]
                                  pg_restore a backup into --url
  verify --from BACKUP            restore into a scratch database and compare with --url
  prune --out DIR [--keep-daily N] [--keep-weekly M] [--keep-last K] [--dry-run]

options:
  --url URL            PostgreSQL (default: $DATABASE_URL)
  --pglite DIR         a PGlite data directory instead (migrations only)
  --dir DIR            the migrations folder (default ./migrations)
  --table NAME         the history table (default prod_db_migrations)
  --schema NAME        its schema (default the connection's current schema)
  --lock-timeout MS    wait at most this long for another runner (default 30000)
  --json               print the result as JSON

exit status: 0 done, 1 failed (or drift found, or validation failed), 2 usage error`;

type Values = Record<string, string | boolean | undefined>;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

const number = (values: Values, name: string): number | undefined => {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const parsed = Number(raw);
  if (typeof raw !== 'string' || !Number.isInteger(parsed) || parsed < 0)
    fail(`--${name} must be a whole number`);
  return parsed;
};

interface Connection {
  readonly client: SqlClient;
  close(): Promise<void>;
}

async function connect(values: Values): Promise<Connection> {
  if (typeof values.pglite === 'string') {
    const { PGlite } = (await import('@electric-sql/pglite')) as unknown as {
      PGlite: {
        create(options: { dataDir: string }): Promise<SqlClient & { close(): Promise<void> }>;
      };
    };
    const db = await PGlite.create({ dataDir: values.pglite });
    return { client: db, close: () => db.close() };
  }
  const url = urlOf(values);
  const imported = (await import('pg')) as unknown as { default?: unknown };
  const pg = (imported.default ?? imported) as {
    Pool: new (config: {
      connectionString: string;
      max: number;
      application_name: string;
    }) => SqlClient & {
      end(): Promise<void>;
      on(event: 'error', fn: () => void): unknown;
    };
  };
  const pool = new pg.Pool({ connectionString: url, max: 3, application_name: 'prod-db' });
  pool.on('error', () => {});
  return { client: pool, close: () => pool.end() };
}

function urlOf(values: Values): string {
  const url = typeof values.url === 'string' ? values.url : process.env.DATABASE_URL;
  if (url === undefined || url === '') fail('no database: pass --url or set DATABASE_URL');
  return url;
}

function print(values: Values, human: string, data: unknown): void {
  process.stdout.write(values.json === true ? `${JSON.stringify(data, null, 2)}\n` : `${human}\n`);
}

function report<TValue>(
  values: Values,
  result: Result<TValue, ProdError>,
  human: (value: TValue) => string,
): number {
  if (!result.ok) {
    if (values.json === true)
      process.stdout.write(
        `${JSON.stringify({ ok: false, code: result.error.code, message: result.error.message, details: result.error.details }, null, 2)}\n`,
      );
    else process.stderr.write(`${result.error.code}: ${result.error.message}\n`);
    return 1;
  }
  print(values, human(result.value), { ok: true, value: result.value });
  return 0;
}

function table(statuses: readonly MigrationStatus[]): string {
  if (statuses.length === 0) return 'no migrations';
  const rows = statuses.map((s) => [
    s.state,
    s.id,
    s.appliedAt === undefined ? '' : s.appliedAt.toISOString(),
    s.durationMs === undefined ? '' : `${s.durationMs} ms`,
  ]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => (i < 3 ? cell.padEnd(widths[i] as number) : cell))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        url: { type: 'string' },
        pglite: { type: 'string' },
        dir: { type: 'string' },
        table: { type: 'string' },
        schema: { type: 'string' },
        'lock-timeout': { type: 'string' },
        target: { type: 'string' },
        version: { type: 'string' },
        down: { type: 'string' },
        out: { type: 'string' },
        from: { type: 'string' },
        format: { type: 'string' },
        jobs: { type: 'string' },
        clean: { type: 'boolean' },
        'keep-daily': { type: 'string' },
        'keep-weekly': { type: 'string' },
        'keep-last': { type: 'string' },
        'dry-run': { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }) as { values: Values; positionals: string[] };
  } catch (error) {
    fail((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help === true || command === undefined || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined && values.help !== true ? 2 : 0;
  }
  const migrationCommands = new Set([
    'migrate',
    'status',
    'validate',
    'baseline',
    'down',
    'plan',
    'drift',
  ]);
  if (migrationCommands.has(command)) {
    const connection = await connect(values);
    try {
      const lockTimeoutMs = number(values, 'lock-timeout');
      const migrator = createMigrator({
        client: connection.client,
        migrations: typeof values.dir === 'string' ? values.dir : './migrations',
        ...(typeof values.table === 'string' ? { table: values.table } : {}),
        ...(typeof values.schema === 'string' ? { schema: values.schema } : {}),
        ...(lockTimeoutMs === undefined ? {} : { lockTimeoutMs }),
      });
      switch (command) {
        case 'migrate': {
          const result = await migrator.migrate(
            typeof values.target === 'string' ? { target: values.target } : {},
          );
          return report(values, result, (r) =>
            r.applied.length === 0
              ? `nothing to apply (version ${r.version ?? 'none'})`
              : [
                  ...r.applied.map((m) => `applied ${m.id} (${m.durationMs} ms)`),
                  `now at version ${r.version}`,
                ].join('\n'),
          );
        }
        case 'status':
          return report(values, await migrator.status(), table);
        case 'validate':
          return report(
            values,
            await migrator.validate(),
            (s) =>
              `valid: ${s.filter((m) => m.state === 'applied').length} applied, ${s.filter((m) => m.state === 'pending').length} pending`,
          );
        case 'baseline': {
          if (typeof values.version !== 'string') fail('baseline needs --version');
          return report(
            values,
            await migrator.baseline({ version: values.version }),
            () => `baseline recorded at version ${values.version}`,
          );
        }
        case 'down': {
          const count = rest[0] === undefined ? 1 : Number(rest[0]);
          if (!Number.isInteger(count) || count < 1) fail('down takes a count >= 1');
          return report(values, await migrator.down(count), (ids) =>
            ids.map((id) => `reverted ${id}`).join('\n'),
          );
        }
        case 'plan': {
          const down = number(values, 'down');
          const result = await migrator.plan({
            ...(typeof values.target === 'string' ? { target: values.target } : {}),
            ...(down === undefined ? {} : { down }),
          });
          return report(values, result, (p) => p.script);
        }
        default: {
          const result = await migrator.drift();
          const code = report(values, result, (d) =>
            d.drifted
              ? [
                  `schema ${d.schema} drifted from the migrations:`,
                  ...d.differences.map(
                    (x) =>
                      `  ${x.change} ${x.object} ${x.name}${x.expected === undefined ? '' : `\n    expected: ${x.expected}`}${x.actual === undefined ? '' : `\n    actual:   ${x.actual}`}`,
                  ),
                ].join('\n')
              : `schema ${d.schema} matches the migrations`,
          );
          return code === 0 && result.ok && result.value.drifted ? 1 : code;
        }
      }
    } finally {
      await connection.close();
    }
  }
  switch (command) {
    case 'backup': {
      if (typeof values.out !== 'string') fail('backup needs --out DIR');
      const format = values.format === undefined ? undefined : values.format;
      if (format !== undefined && format !== 'custom' && format !== 'directory')
        fail('--format is custom or directory');
      const jobs = number(values, 'jobs');
      const result = await backup({
        url: urlOf(values),
        dir: values.out,
        ...(format === undefined ? {} : { format }),
        ...(jobs === undefined ? {} : { jobs }),
      });
      return report(
        values,
        result,
        (b) =>
          `backup ${b.path} (${b.manifest.size} bytes, ${b.manifest.durationMs} ms, ${b.manifest.tables?.length ?? 0} tables hashed)`,
      );
    }
    case 'restore': {
      if (typeof values.from !== 'string') fail('restore needs --from BACKUP');
      const jobs = number(values, 'jobs');
      const result = await restore({
        backup: values.from,
        url: urlOf(values),
        clean: values.clean === true,
        ...(jobs === undefined ? {} : { jobs }),
      });
      return report(values, result, (b) => `restored ${b.manifest.id}`);
    }
    case 'verify': {
      if (typeof values.from !== 'string') fail('verify needs --from BACKUP');
      const result = await verifyBackup({ backup: values.from, source: urlOf(values) });
      const code = report(values, result, (v) =>
        [
          `backup ${v.manifest.id} restores${v.matchesManifest === false ? ', but NOT as recorded in its manifest' : ''}`,
          ...v.tables.map(
            (t) =>
              `  ${t.status.padEnd(15)} ${t.table}${t.a === undefined ? '' : ` backup ${t.a.rows} rows`}${t.b === undefined ? '' : `, now ${t.b.rows} rows`}`,
          ),
        ].join('\n'),
      );
      return code === 0 &&
        result.ok &&
        (!result.value.identical || result.value.matchesManifest === false)
        ? 1
        : code;
    }
    case 'prune': {
      if (typeof values.out !== 'string') fail('prune needs --out DIR');
      const keepDaily = number(values, 'keep-daily');
      const keepWeekly = number(values, 'keep-weekly');
      const keepLast = number(values, 'keep-last');
      const result = await pruneBackups({
        dir: values.out,
        dryRun: values['dry-run'] === true,
        ...(keepDaily === undefined ? {} : { keepDaily }),
        ...(keepWeekly === undefined ? {} : { keepWeekly }),
        ...(keepLast === undefined ? {} : { keepLast }),
      });
      return report(values, result, (r) =>
        [...r.removed.map((id) => `removed ${id}`), `kept ${r.kept.length}`].join('\n'),
      );
    }
    default:
      fail(`unknown command ${command}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`prod-db: ${message}\n`);
    process.exitCode = 1;
  },
);
