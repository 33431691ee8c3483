import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { err, ok, type ProdError, type Result } from '@prod/core';
import { DbErrors } from './errors.js';
import { hashFile, listFiles } from './internal/files.js';
import type { TableDigest } from './table-digest.js';

/** The format tag of our manifests. */
export const MANIFEST_FORMAT = 'prod-db-backup/1';

/** One file of a backup. */
export interface BackupFile {
  /** Relative to the backup folder, `/`-separated. */
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

/** `manifest.json` of a backup: what was dumped, from where, and the hash of every file. */
export interface BackupManifest {
  readonly format: typeof MANIFEST_FORMAT;
  /** The backup folder's name. */
  readonly id: string;
  /** `pg_dump` (a logical dump of PostgreSQL) or `pglite` (a PGlite data directory). */
  readonly kind: 'pg_dump' | 'pglite';
  readonly database: string;
  /** `SELECT version()` of the source. */
  readonly serverVersion: string;
  /** `server_version_num`, e.g. 150020. */
  readonly serverVersionNum: number;
  /** `pg_dump --version`, or the PGlite version. */
  readonly toolVersion: string;
  /** `custom` or `directory` for pg_dump; `tar.gz` for PGlite. */
  readonly dumpFormat: 'custom' | 'directory' | 'tar.gz';
  readonly jobs: number;
  readonly schemas?: readonly string[];
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  /** Bytes of all files. */
  readonly size: number;
  readonly files: readonly BackupFile[];
  /** Row counts and content hashes of every table, read in the dump's own snapshot. */
  readonly tables?: readonly TableDigest[];
  /** SHA-256 of this manifest without this field: a changed manifest is detected too. */
  readonly checksum: string;
}

/** A backup on disk. */
export interface BackupInfo {
  /** The backup folder. */
  readonly path: string;
  readonly manifest: BackupManifest;
}

/** The manifest's checksum: SHA-256 of its JSON (2-space indent) without `checksum`. */
export function manifestChecksum(manifest: Omit<BackupManifest, 'checksum'>): string {
  const { checksum: _ignored, ...rest } = manifest as BackupManifest;
  return createHash('sha256')
    .update(JSON.stringify(rest, null, 2))
    .digest('hex');
}

function corrupt(path: string, file: string, reason: string): ProdError {
  return DbErrors.DB_BACKUP_CORRUPT({
    message: `backup ${path}: ${file}: ${reason}`,
    details: { path, file, reason },
  });
}

/** Reads `manifest.json` of a backup folder without checking the files. */
export async function readManifest(path: string): Promise<Result<BackupManifest, ProdError>> {
  const folder = resolve(path);
  let text: string;
  try {
    text = await readFile(join(folder, 'manifest.json'), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return err(
      DbErrors.DB_BACKUP_NOT_FOUND({
        message: `no backup at ${folder}: manifest.json ${code === 'ENOENT' ? 'is missing' : `cannot be read (${code ?? 'error'})`}`,
        details: { path: folder, file: 'manifest.json', reason: code ?? 'unreadable' },
        cause: error,
      }),
    );
  }
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(text) as BackupManifest;
  } catch {
    return err(corrupt(folder, 'manifest.json', 'is not valid JSON'));
  }
  if (
    typeof manifest !== 'object' ||
    manifest === null ||
    manifest.format !== MANIFEST_FORMAT ||
    !Array.isArray(manifest.files)
  ) {
    return err(corrupt(folder, 'manifest.json', `is not a ${MANIFEST_FORMAT} manifest`));
  }
  if (manifest.checksum !== manifestChecksum(manifest)) {
    return err(
      corrupt(folder, 'manifest.json', 'was altered: its checksum does not match its content'),
    );
  }
  return ok(manifest);
}

/**
 * Checks a backup folder against its manifest, the way pg_verifybackup does for base
 * backups: the manifest's own checksum, then every file's presence, size and SHA-256, and no
 * file the manifest does not list. Reads every byte; changes nothing.
 *
 * @returns `Ok(BackupInfo)`, or `Err` `DB_BACKUP_NOT_FOUND` / `DB_BACKUP_CORRUPT` naming the
 *   file and what is wrong with it.
 *
 * @example
 * const checked = await checkBackup('/var/backups/notes/notes-20250101T020000Z-1a2b');
 * if (!checked.ok) console.error(checked.error.message); // "...: dump.pgdump: SHA-256 mismatch ..."
 */
export async function checkBackup(path: string): Promise<Result<BackupInfo, ProdError>> {
  const folder = resolve(path);
  const read = await readManifest(folder);
  if (!read.ok) return read;
  const manifest = read.value;
  for (const file of manifest.files) {
    if (typeof file.path !== 'string' || file.path.includes('..') || file.path.startsWith('/')) {
      return err(corrupt(folder, String(file.path), 'is not a path inside the backup'));
    }
    let actual: { sha256: string; size: number };
    try {
      actual = await hashFile(join(folder, file.path));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return err(
        corrupt(
          folder,
          file.path,
          code === 'ENOENT' ? 'is missing' : `cannot be read (${code ?? 'error'})`,
        ),
      );
    }
    if (actual.size !== file.size) {
      return err(
        corrupt(
          folder,
          file.path,
          `size mismatch (manifest ${file.size} bytes, found ${actual.size})`,
        ),
      );
    }
    if (actual.sha256 !== file.sha256) {
      return err(
        corrupt(
          folder,
          file.path,
          `SHA-256 mismatch (manifest ${file.sha256.slice(0, 16)}..., found ${actual.sha256.slice(0, 16)}...)`,
        ),
      );
    }
  }
  const listed = new Set(manifest.files.map((f) => f.path));
  const present = (await listFiles(folder)).filter((f) => f !== 'manifest.json');
  const extra = present.find((f) => !listed.has(f));
  if (extra !== undefined) return err(corrupt(folder, extra, 'is not listed in the manifest'));
  return ok({ path: folder, manifest });
}

/** The backups (folders with a readable manifest) directly under `dir`, newest first. */
export async function listBackups(dir: string): Promise<Result<BackupInfo[], ProdError>> {
  const folder = resolve(dir);
  let names: string[];
  try {
    names = (await readdir(folder, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return ok([]);
    return err(
      DbErrors.DB_BACKUP_NOT_FOUND({
        message: `cannot list backups in ${folder}: ${code ?? 'error'}`,
        details: { path: folder, reason: code ?? 'unreadable' },
        cause: error,
      }),
    );
  }
  const out: BackupInfo[] = [];
  for (const name of names) {
    const path = join(folder, name);
    const manifest = await readManifest(path);
    if (manifest.ok) out.push({ path, manifest: manifest.value });
  }
  return ok(
    out.sort((a, b) =>
      a.manifest.startedAt < b.manifest.startedAt
        ? 1
        : a.manifest.startedAt > b.manifest.startedAt
          ? -1
          : 0,
    ),
  );
}

/** Size and hash of every file of a finished backup folder (but manifest.json). */
export async function describeFiles(folder: string): Promise<BackupFile[]> {
  const files: BackupFile[] = [];
  for (const path of await listFiles(folder)) {
    if (path === 'manifest.json') continue;
    const { sha256, size } = await hashFile(join(folder, path));
    files.push({ path, size, sha256 });
  }
  return files;
}

/** Whether `path` exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
