import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
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
import { ensureDir, writeError } from './internal/files.js';
import { serverFields } from './internal/pg-errors.js';
import type { SqlClient } from './sql-client.js';
import { compareDigests, type TableDigest } from './table-digest.js';

/** What {@link backupPglite} needs of a PGlite instance (PGlite 0.5 fits). */
export interface PgliteLike extends SqlClient {
  dumpDataDir(compression?: 'none' | 'gzip' | 'auto'): Promise<Blob>;
}

/** Options of {@link backupPglite}. */
export interface PgliteBackupOptions {
  /** The folder that holds the backups; each backup is a new folder in it. Created if missing. */
  readonly dir: string;
  /** A label for the folder name. Default `pglite`. */
  readonly label?: string;
  /** Record every table's row count and content hash in the manifest. Default true. */
  readonly hashTables?: boolean;
}

/** Options of {@link restorePglite}. */
export interface PgliteRestoreOptions {
  /** The backup folder. */
  readonly backup: string;
  /** Where the restored instance keeps its data (a folder, `idb://...`). Default in memory. */
  readonly dataDir?: string;
  /** More options for `PGlite.create` (extensions, start parameters). */
  readonly pgliteOptions?: Readonly<Record<string, unknown>>;
}

/** A restored PGlite: the {@link SqlClient} shape, and `close()`. */
export interface RestoredPglite extends SqlClient {
  close(): Promise<void>;
}

const stamp = (date: Date): string =>
  date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');

/**
 * Backs up a PGlite database: its whole data directory as `pgdata.tar.gz` (PGlite's
 * `dumpDataDir`), with the same manifest as {@link backup}: SHA-256 and size of the file,
 * server version, timings and every table's row count and content hash (read before and
 * after the dump and required to agree, so they describe what the tarball holds). Written to
 * a hidden `.partial-*` folder first: a failure leaves nothing behind.
 *
 * @returns `Ok(BackupInfo)`, or `Err` `DB_BACKUP_TARGET_FULL`, `DB_BACKUP_TARGET_UNWRITABLE`, `DB_BACKUP_FAILED`.
 *
 * @example
 * declare const db: PgliteLike;
 * const saved = await backupPglite(db, { dir: './backups' });
 * if (saved.ok) console.log(saved.value.manifest.files[0]?.sha256);
 */
export async function backupPglite(
  db: PgliteLike,
  options: PgliteBackupOptions,
): Promise<Result<BackupInfo, ProdError>> {
  const check = optionChecks(DbErrors.DB_INVALID_OPTIONS);
  if (
    typeof db !== 'object' ||
    db === null ||
    typeof db.dumpDataDir !== 'function' ||
    typeof db.query !== 'function'
  ) {
    check.fail('db', 'a PGlite instance', db);
  }
  check.object('options', options);
  const dir = resolve(check.string('dir', options.dir, '', { nonEmpty: true }));
  const label = check.string('label', options.label, 'pglite', { nonEmpty: true });
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(label))
    check.fail('label', 'letters, digits, _ . - (at most 64)', label);
  const hashTables = check.boolean('hashTables', options.hashTables, true);
  try {
    await ensureDir(dir);
  } catch (error) {
    return err(writeError(dir, error));
  }
  const started = new Date();
  const id = `${label}-${stamp(started)}-${randomBytes(3).toString('hex')}`;
  const partial = join(dir, `.partial-${id}`);
  try {
    await mkdir(partial);
  } catch (error) {
    return err(writeError(dir, error));
  }
  const fail = async (error: ProdError): Promise<Result<BackupInfo, ProdError>> => {
    await rm(partial, { recursive: true, force: true }).catch(() => {});
    return err(error);
  };
  let tarball: Uint8Array;
  let digests: TableDigest[] | undefined;
  let server: { version: string; num: number };
  try {
    const info = (
      await db.query(
        "SELECT version() AS version, current_setting('server_version_num')::int AS num",
      )
    ).rows[0] as { version: string; num: number };
    server = { version: info.version, num: info.num };
    for (let attempt = 0; ; attempt++) {
      const before = hashTables ? await snapshotDigests(db, undefined) : undefined;
      tarball = new Uint8Array(await (await db.dumpDataDir('gzip')).arrayBuffer());
      if (before === undefined) break;
      const after = await snapshotDigests(db, undefined);
      if (compareDigests(before, after).every((t) => t.status === 'same')) {
        digests = after;
        break;
      }
      if (attempt === 4) {
        return fail(
          DbErrors.DB_BACKUP_FAILED({
            message: 'the PGlite database kept changing during the backup (5 attempts)',
            details: { reason: 'concurrent writes' },
          }),
        );
      }
    }
  } catch (error) {
    return fail(
      DbErrors.DB_BACKUP_FAILED({
        message: `cannot dump the PGlite data directory: ${serverFields(error).message}`,
        details: { reason: serverFields(error).message },
        cause: error,
      }),
    );
  }
  try {
    await writeFile(join(partial, 'pgdata.tar.gz'), tarball);
    const files = await describeFiles(partial);
    const finished = new Date();
    const body: Omit<BackupManifest, 'checksum'> = {
      format: MANIFEST_FORMAT,
      id,
      kind: 'pglite',
      database: 'pglite',
      serverVersion: server.version,
      serverVersionNum: server.num,
      toolVersion: /PGlite [\d.]+/.exec(server.version)?.[0] ?? 'PGlite',
      dumpFormat: 'tar.gz',
      jobs: 1,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationMs: finished.getTime() - started.getTime(),
      size: files.reduce((total, f) => total + f.size, 0),
      files,
      ...(digests === undefined ? {} : { tables: digests }),
    };
    const manifest: BackupManifest = { ...body, checksum: manifestChecksum(body) };
    await writeFile(join(partial, 'manifest.json'), JSON.stringify(manifest, null, 2));
    const final = join(dir, id);
    await rename(partial, final);
    return ok({ path: final, manifest });
  } catch (error) {
    return fail(writeError(dir, error));
  }
}

/**
 * Opens a PGlite backup as a new PGlite instance (in memory, or in `dataDir`), after
 * checking the tarball against the manifest. Needs `@electric-sql/pglite` installed.
 *
 * @returns `Ok(RestoredPglite)`, or `Err` `DB_BACKUP_CORRUPT`, `DB_BACKUP_NOT_FOUND`, `DB_RESTORE_FAILED`.
 */
export async function restorePglite(
  options: PgliteRestoreOptions,
): Promise<Result<RestoredPglite, ProdError>> {
  const check = optionChecks(DbErrors.DB_INVALID_OPTIONS);
  check.object('options', options);
  const path = check.string('backup', options.backup, '', { nonEmpty: true });
  const dataDir =
    options.dataDir === undefined
      ? undefined
      : check.string('dataDir', options.dataDir, '', { nonEmpty: true });
  const extra = check.object<Record<string, unknown>>('pgliteOptions', options.pgliteOptions);
  const checked = await checkBackup(path);
  if (!checked.ok) return checked;
  if (checked.value.manifest.kind !== 'pglite') {
    return err(
      DbErrors.DB_RESTORE_FAILED({
        message: `backup ${checked.value.path} is a ${checked.value.manifest.kind} backup: use restore()`,
        details: { path: checked.value.path },
      }),
    );
  }
  try {
    const bytes = await readFile(join(checked.value.path, 'pgdata.tar.gz'));
    const { PGlite } = (await import('@electric-sql/pglite')) as unknown as {
      PGlite: { create(options: Record<string, unknown>): Promise<RestoredPglite> };
    };
    const db = await PGlite.create({
      ...extra,
      ...(dataDir === undefined ? {} : { dataDir }),
      loadDataDir: new Blob([bytes]),
    });
    return ok(db);
  } catch (error) {
    return err(
      DbErrors.DB_RESTORE_FAILED({
        message: `cannot open the PGlite backup ${checked.value.path}: ${error instanceof Error ? error.message : String(error)}`,
        details: { path: checked.value.path },
        cause: error,
      }),
    );
  }
}
