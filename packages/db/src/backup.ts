import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { err, ok, optionChecks, type ProdError, type Result } from '@prod/core';
import {
  type BackupInfo,
  type BackupManifest,
  checkBackup,
  describeFiles,
  MANIFEST_FORMAT,
  manifestChecksum,
} from './backup-manifest.js';
import { DbErrors } from './errors.js';
import { snapshotDigests } from './integrity.js';
import {
  connectionFor,
  ensureDir,
  runTool,
  type ToolRun,
  toolWriteProblem,
  writeError,
} from './internal/files.js';
import { isConnectionError, serverFields } from './internal/pg-errors.js';
import { quoteIdent } from './internal/sql.js';
import type { PgPoolLike, SqlClient, SqlSource } from './sql-client.js';
import { toSqlClient } from './sql-client.js';
import {
  compareDigests,
  digestTables,
  type TableComparison,
  type TableDigest,
} from './table-digest.js';

/** Options of {@link backup}. */
export interface BackupOptions {
  /** The source database (a libpq URL; a password in it is passed through PGPASSWORD). */
  readonly url: string;
  /** The folder that holds the backups; each backup is a new folder in it. Created if missing. */
  readonly dir: string;
  /** pg_dump's `custom` (one file, the default) or `directory` (one file per table, parallel dumps). */
  readonly format?: 'custom' | 'directory';
  /** Parallel dump jobs (`directory` format only). Default 1. */
  readonly jobs?: number;
  /** Compression level 0-9. Default pg_dump's. */
  readonly compress?: number;
  /** Only these schemas (`--schema`). Default the whole database. */
  readonly schemas?: readonly string[];
  /** Record every table's row count and content hash in the manifest (read in the dump's snapshot). Default true. */
  readonly hashTables?: boolean;
  /** A label for the folder name. Default the database name. */
  readonly label?: string;
  /** The pg_dump to run. Default `pg_dump` from PATH. */
  readonly pgDump?: string;
}

/** Options of {@link restore}. */
export interface RestoreOptions {
  /** The backup folder. */
  readonly backup: string;
  /** The target database (must exist). */
  readonly url: string;
  /** Parallel restore jobs. Default 1, in a single transaction (all or nothing). */
  readonly jobs?: number;
  /** Drop the objects before recreating them (`--clean --if-exists`). Default false. */
  readonly clean?: boolean;
  /** The pg_restore to run. Default `pg_restore` from PATH. */
  readonly pgRestore?: string;
}

/** Options of {@link verifyBackup}. */
export interface VerifyBackupOptions {
  /** The backup folder. */
  readonly backup: string;
  /**
   * The database to compare the restored copy with: a URL, a pg Pool or a PGlite instance.
   * Default: none, the restored copy is compared with the manifest's table hashes only.
   */
  readonly source?: string | SqlSource;
  /**
   * A URL of the server where the scratch database is created (any database of it; the user
   * needs CREATEDB). Default `source` when it is a URL. Not used for PGlite backups.
   */
  readonly server?: string;
  /** The pg_restore to run. Default `pg_restore` from PATH. */
  readonly pgRestore?: string;
}

/** What {@link verifyBackup} found. */
export interface BackupVerification {
  /** The restored copy equals the source (or, without a source, the manifest's hashes). */
  readonly identical: boolean;
  /** The restored copy equals the table hashes recorded at backup time; undefined when none were recorded. */
  readonly matchesManifest: boolean | undefined;
  /** Restored copy (`a`) vs the source now (`b`), or vs the manifest without a source. */
  readonly tables: readonly TableComparison[];
  readonly manifest: BackupManifest;
}

const stamp = (date: Date): string =>
  date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');

function toolMissing(tool: string, run: ToolRun): ProdError {
  return DbErrors.DB_TOOL_MISSING({
    message: `${tool} cannot be started (${run.spawnError?.code ?? 'error'}): install the PostgreSQL client tools, or pass its path`,
    details: { tool, reason: run.spawnError?.code ?? 'error' },
    cause: run.spawnError,
  });
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-5).join('\n');
}

function dbFailure(what: string, error: unknown): ProdError {
  const fields = serverFields(error);
  if (
    isConnectionError(error) ||
    /ECONNREFUSED|does not exist|password authentication/i.test(fields.message)
  ) {
    return DbErrors.DB_UNAVAILABLE({
      message: `${what}: ${fields.message}`,
      details: { reason: fields.message },
      cause: error,
    });
  }
  return DbErrors.DB_QUERY_FAILED({
    message: `${what}: ${fields.message}`,
    details: { reason: fields.message },
    cause: error,
  });
}

async function pgModule(): Promise<{
  Client: new (config: {
    connectionString: string;
    connectionTimeoutMillis?: number;
  }) => PgClientLike;
  Pool: new (config: {
    connectionString: string;
    max?: number;
  }) => PgPoolLike & { end(): Promise<void>; on(event: 'error', fn: () => void): unknown };
}> {
  const imported = (await import('pg')) as unknown as { default?: unknown };
  return (imported.default ?? imported) as Awaited<ReturnType<typeof pgModule>>;
}

interface PgClientLike {
  connect(): Promise<void>;
  query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/**
 * Dumps a PostgreSQL database with pg_dump into a new folder of `dir`, with a manifest
 * (`manifest.json`): SHA-256 and size of every file, server and pg_dump versions, timings
 * and, read in the very snapshot pg_dump used (`--snapshot`), every table's row count and
 * content hash. The backup is written to a hidden `.partial-*` folder and renamed into place
 * only when complete, so a failure (disk full, unwritable target, dump error) leaves nothing
 * behind and no existing backup is touched.
 *
 * @returns `Ok(BackupInfo)`, or `Err` `DB_BACKUP_TARGET_FULL`, `DB_BACKUP_TARGET_UNWRITABLE`,
 *   `DB_BACKUP_FAILED`, `DB_TOOL_MISSING`, `DB_UNAVAILABLE`.
 *
 * @example
 * const result = await backup({ url: 'postgres://app@db/notes', dir: '/var/backups/notes', format: 'directory', jobs: 2 });
 * if (result.ok) console.log(result.value.path, result.value.manifest.size);
 */
export async function backup(options: BackupOptions): Promise<Result<BackupInfo, ProdError>> {
  const check = optionChecks(DbErrors.DB_INVALID_OPTIONS);
  check.object('options', options);
  const url = check.string('url', options.url, '', { nonEmpty: true });
  const dir = resolve(check.string('dir', options.dir, '', { nonEmpty: true }));
  const format = check.oneOf('format', options.format, ['custom', 'directory'], 'custom');
  const jobs = check.integer('jobs', options.jobs, 1, { min: 1, max: 64 });
  if (jobs > 1 && format !== 'directory')
    check.fail(
      'jobs',
      '1 unless format is "directory" (pg_dump dumps in parallel only to a directory)',
      jobs,
    );
  const compress =
    options.compress === undefined
      ? undefined
      : check.integer('compress', options.compress, 6, { min: 0, max: 9 });
  const hashTables = check.boolean('hashTables', options.hashTables, true);
  const pgDump = check.string('pgDump', options.pgDump, 'pg_dump', { nonEmpty: true });
  const schemas = options.schemas === undefined ? undefined : [...options.schemas];
  if (
    schemas !== undefined &&
    (schemas.length === 0 || schemas.some((s) => typeof s !== 'string' || s === ''))
  ) {
    check.fail('schemas', 'a non-empty array of schema names', schemas);
  }
  const label = check.string('label', options.label, '', {});
  if (label !== '' && !/^[A-Za-z0-9_.-]{1,64}$/.test(label))
    check.fail('label', 'letters, digits, _ . - (at most 64)', label);

  const connection = connectionFor(url);
  const version = await runTool(pgDump, ['--version'], connection.env);
  if (version.spawnError !== undefined) return err(toolMissing(pgDump, version));

  try {
    await ensureDir(dir);
  } catch (error) {
    return err(writeError(dir, error));
  }
  const started = new Date();
  const id = `${(label || connection.database).replace(/[^A-Za-z0-9_.-]/g, '_')}-${stamp(started)}-${randomBytes(3).toString('hex')}`;
  const partial = join(dir, `.partial-${id}`);
  const final = join(dir, id);
  try {
    await mkdir(partial);
  } catch (error) {
    return err(writeError(dir, error));
  }
  const fail = async (error: ProdError): Promise<Result<BackupInfo, ProdError>> => {
    await rm(partial, { recursive: true, force: true }).catch(() => {});
    return err(error);
  };

  const { Client } = await pgModule();
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    return fail(dbFailure(`cannot connect to ${connection.database}`, error));
  }
  let digests: TableDigest[] | undefined;
  let server: { version: string; num: number };
  let dumped: ToolRun;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    const info = (
      await client.query(
        "SELECT pg_export_snapshot() AS snapshot, version() AS version, current_setting('server_version_num')::int AS num",
      )
    ).rows[0] as {
      snapshot: string;
      version: string;
      num: number;
    };
    server = { version: info.version, num: info.num };
    const target = format === 'custom' ? join(partial, 'dump.pgdump') : join(partial, 'dump');
    const args = [
      `--format=${format}`,
      `--file=${target}`,
      `--snapshot=${info.snapshot}`,
      '--no-password',
      ...(format === 'directory' ? [`--jobs=${jobs}`] : []),
      ...(compress === undefined ? [] : [`--compress=${compress}`]),
      ...(schemas ?? []).map((schema) => `--schema=${schema}`),
      `--dbname=${connection.url}`,
    ];
    // The dump and the table hashes read the same snapshot, at the same time.
    const dumping = runTool(pgDump, args, connection.env);
    if (hashTables) {
      digests = await digestTables(
        client as unknown as Parameters<typeof digestTables>[0],
        schemas === undefined ? {} : { schemas },
      );
    }
    dumped = await dumping;
    await client.query('COMMIT');
  } catch (error) {
    await client.end().catch(() => {});
    return fail(dbFailure(`cannot read ${connection.database} for the backup`, error));
  }
  await client.end().catch(() => {});
  if (dumped.spawnError !== undefined) return fail(toolMissing(pgDump, dumped));
  if (dumped.code !== 0) {
    const problem = toolWriteProblem(dumped.stderr);
    const stderr = lastLines(dumped.stderr);
    if (problem === 'full') {
      return fail(
        DbErrors.DB_BACKUP_TARGET_FULL({
          message: `backup target ${dir} is full: ${stderr}`,
          details: { path: dir, reason: stderr },
        }),
      );
    }
    if (problem === 'unwritable') {
      return fail(
        DbErrors.DB_BACKUP_TARGET_UNWRITABLE({
          message: `backup target ${dir} is not writable: ${stderr}`,
          details: { path: dir, reason: stderr },
        }),
      );
    }
    return fail(
      DbErrors.DB_BACKUP_FAILED({
        message: `pg_dump of ${connection.database} failed (exit ${dumped.code ?? dumped.signal}): ${stderr}`,
        details: { database: connection.database, exitCode: dumped.code, reason: stderr },
      }),
    );
  }
  try {
    const files = await describeFiles(partial);
    const finished = new Date();
    const body: Omit<BackupManifest, 'checksum'> = {
      format: MANIFEST_FORMAT,
      id,
      kind: 'pg_dump',
      database: connection.database,
      serverVersion: server.version,
      serverVersionNum: server.num,
      toolVersion: version.stdout.trim(),
      dumpFormat: format,
      jobs,
      ...(schemas === undefined ? {} : { schemas }),
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationMs: finished.getTime() - started.getTime(),
      size: files.reduce((total, f) => total + f.size, 0),
      files,
      ...(digests === undefined ? {} : { tables: digests }),
    };
    const manifest: BackupManifest = { ...body, checksum: manifestChecksum(body) };
    await writeFile(join(partial, 'manifest.json'), JSON.stringify(manifest, null, 2));
    await rename(partial, final);
    return ok({ path: final, manifest });
  } catch (error) {
    return fail(writeError(dir, error));
  }
}

/**
 * Restores a backup with pg_restore into an existing database, after checking every file
 * against the manifest (a corrupt backup is refused before the target is touched). With one
 * job the restore is a single transaction: it lands whole or not at all. Owners are not
 * restored (`--no-owner`): the objects belong to the user you connect as.
 *
 * @returns `Ok(BackupInfo)`, or `Err` `DB_BACKUP_CORRUPT`, `DB_BACKUP_NOT_FOUND`,
 *   `DB_RESTORE_FAILED`, `DB_TOOL_MISSING`, `DB_UNAVAILABLE`.
 */
export async function restore(options: RestoreOptions): Promise<Result<BackupInfo, ProdError>> {
  const check = optionChecks(DbErrors.DB_INVALID_OPTIONS);
  check.object('options', options);
  const path = check.string('backup', options.backup, '', { nonEmpty: true });
  const url = check.string('url', options.url, '', { nonEmpty: true });
  const jobs = check.integer('jobs', options.jobs, 1, { min: 1, max: 64 });
  const clean = check.boolean('clean', options.clean, false);
  const pgRestore = check.string('pgRestore', options.pgRestore, 'pg_restore', { nonEmpty: true });
  const checked = await checkBackup(path);
  if (!checked.ok) return checked;
  const { manifest } = checked.value;
  if (manifest.kind !== 'pg_dump') {
    return err(
      DbErrors.DB_RESTORE_FAILED({
        message: `backup ${checked.value.path} is a ${manifest.kind} backup: use restorePglite()`,
        details: { path: checked.value.path, kind: manifest.kind },
      }),
    );
  }
  const connection = connectionFor(url);
  const dump = join(checked.value.path, manifest.dumpFormat === 'custom' ? 'dump.pgdump' : 'dump');
  const args = [
    `--dbname=${connection.url}`,
    '--no-owner',
    '--no-password',
    '--exit-on-error',
    ...(jobs === 1 ? ['--single-transaction'] : [`--jobs=${jobs}`]),
    ...(clean ? ['--clean', '--if-exists'] : []),
    dump,
  ];
  const run = await runTool(pgRestore, args, connection.env);
  if (run.spawnError !== undefined) return err(toolMissing(pgRestore, run));
  if (run.code !== 0) {
    const stderr = lastLines(run.stderr);
    if (
      /could not connect|connection to server|does not exist|password authentication/i.test(
        stderr,
      ) &&
      !/pg_restore: error: could not execute query/.test(stderr)
    ) {
      return err(
        DbErrors.DB_UNAVAILABLE({
          message: `cannot restore into ${connection.database}: ${stderr}`,
          details: { database: connection.database, reason: stderr },
        }),
      );
    }
    return err(
      DbErrors.DB_RESTORE_FAILED({
        message: `pg_restore of ${manifest.id} into ${connection.database} failed${jobs === 1 ? ' and was rolled back' : ''}: ${stderr}`,
        details: {
          path: checked.value.path,
          database: connection.database,
          exitCode: run.code,
          reason: stderr,
        },
      }),
    );
  }
  return ok(checked.value);
}

/** Where a restored copy can be read: a pg scratch database or a PGlite instance. */
interface Scratch {
  readonly client: SqlClient;
  close(): Promise<void>;
}

async function scratchPostgres(
  server: string,
  info: BackupInfo,
  pgRestore: string,
): Promise<Result<Scratch, ProdError>> {
  const { Client, Pool } = await pgModule();
  const admin = new Client({ connectionString: server, connectionTimeoutMillis: 10_000 });
  admin.on('error', () => {});
  const name = `prod_db_verify_${randomBytes(6).toString('hex')}`;
  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
  } catch (error) {
    await admin.end().catch(() => {});
    return err(dbFailure('cannot create the scratch database', error));
  }
  const drop = async (): Promise<void> => {
    await admin
      .query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`)
      .catch(async () => {
        await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`).catch(() => {});
      });
    await admin.end().catch(() => {});
  };
  const target = new URL(connectionFor(server).url);
  target.pathname = `/${name}`;
  target.searchParams.delete('options');
  const password = connectionFor(server).env.PGPASSWORD;
  if (password !== undefined) target.password = encodeURIComponent(password);
  const restored = await restore({ backup: info.path, url: target.toString(), pgRestore });
  if (!restored.ok) {
    await drop();
    return restored;
  }
  const pool = new Pool({ connectionString: target.toString(), max: 1 });
  pool.on('error', () => {});
  return ok({
    client: toSqlClient(pool),
    async close() {
      await pool.end().catch(() => {});
      await drop();
    },
  });
}

/**
 * Proves a backup can be restored and says what it holds: checks the files against the
 * manifest, restores into a scratch database (PostgreSQL: created on `server` and dropped
 * afterwards whatever happens; PGlite: a fresh in-memory instance), digests every table of the
 * copy and compares it with the hashes recorded at backup time and, when given, with the
 * source database as it is now: row counts and a content hash per table.
 *
 * @returns `Ok(BackupVerification)` (differences are data: `identical: false` with the
 *   tables that differ), or `Err` `DB_BACKUP_CORRUPT`, `DB_BACKUP_NOT_FOUND`,
 *   `DB_RESTORE_FAILED`, `DB_UNAVAILABLE`, `DB_INVALID_OPTIONS`.
 */
export async function verifyBackup(
  options: VerifyBackupOptions,
): Promise<Result<BackupVerification, ProdError>> {
  const check = optionChecks(DbErrors.DB_INVALID_OPTIONS);
  check.object('options', options);
  const path = check.string('backup', options.backup, '', { nonEmpty: true });
  const pgRestore = check.string('pgRestore', options.pgRestore, 'pg_restore', { nonEmpty: true });
  const source = options.source;
  if (
    source !== undefined &&
    typeof source !== 'string' &&
    (typeof source !== 'object' ||
      source === null ||
      typeof (source as { query?: unknown }).query !== 'function')
  ) {
    check.fail('source', 'a URL, a pg Pool, a PGlite instance or a SqlClient', source);
  }
  const checked = await checkBackup(path);
  if (!checked.ok) return checked;
  const info = checked.value;
  let scratch: Result<Scratch, ProdError>;
  if (info.manifest.kind === 'pglite') {
    const { restorePglite } = await import('./pglite-backup.js');
    const db = await restorePglite({ backup: info.path });
    scratch = db.ok ? ok({ client: db.value, close: () => db.value.close() }) : db;
  } else {
    const server = options.server ?? (typeof source === 'string' ? source : undefined);
    if (server === undefined)
      check.fail(
        'server',
        'a PostgreSQL URL where the scratch database can be created (or a URL as source)',
        server,
      );
    scratch = await scratchPostgres(server as string, info, pgRestore);
  }
  if (!scratch.ok) return scratch;
  try {
    let restored: TableDigest[];
    try {
      restored = await snapshotDigests(scratch.value.client, info.manifest.schemas);
    } catch (error) {
      return err(dbFailure('cannot digest the restored copy', error));
    }
    const recorded = info.manifest.tables;
    const matchesManifest =
      recorded === undefined
        ? undefined
        : compareDigests(restored, recorded).every((t) => t.status === 'same');
    let tables: TableComparison[];
    if (source !== undefined) {
      let live: TableDigest[];
      let closeSource: (() => Promise<void>) | undefined;
      try {
        let client: SqlClient;
        if (typeof source === 'string') {
          const { Pool } = await pgModule();
          const pool = new Pool({ connectionString: source, max: 1 });
          pool.on('error', () => {});
          closeSource = () => pool.end();
          client = toSqlClient(pool);
        } else client = toSqlClient(source);
        live = await snapshotDigests(client, info.manifest.schemas);
      } catch (error) {
        return err(dbFailure('cannot digest the source database', error));
      } finally {
        await closeSource?.().catch(() => {});
      }
      tables = compareDigests(restored, live);
    } else if (recorded !== undefined) {
      tables = compareDigests(restored, recorded);
    } else {
      tables = restored.map((d) => ({
        table: `${d.schema}.${d.name}`,
        status: 'same',
        a: { rows: d.rows, sha256: d.sha256 },
      }));
    }
    return ok({
      identical: tables.every((t) => t.status === 'same'),
      matchesManifest,
      tables,
      manifest: info.manifest,
    });
  } finally {
    await scratch.value.close();
  }
}
