import { readdir, rm, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { err, ok, optionChecks, type ProdError, type Result } from '@prod/core';
import { listBackups } from './backup-manifest.js';
import { DbErrors } from './errors.js';

/** Options of {@link pruneBackups}. */
export interface RetentionOptions {
  /** The folder that holds the backups. */
  readonly dir: string;
  /** Keep the newest backup of each of the last N days that have one (UTC). Default 7. */
  readonly keepDaily?: number;
  /** Keep the newest backup of each of the last M ISO weeks that have one (UTC). Default 4. */
  readonly keepWeekly?: number;
  /** Always keep the N newest backups, whatever their dates. Default 1. */
  readonly keepLast?: number;
  /** Remove `.partial-*` folders (interrupted backups) older than this. Default 24 h. */
  readonly partialMaxAgeMs?: number;
  /** Only report what would be removed. Default false. */
  readonly dryRun?: boolean;
}

/** What {@link pruneBackups} kept and removed (folder names). */
export interface RetentionReport {
  readonly kept: readonly string[];
  readonly removed: readonly string[];
}

const day = (iso: string): string => iso.slice(0, 10);

/** ISO 8601 week of a UTC date, as `2025-W01`. */
export function isoWeek(date: Date): string {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const weekday = d.getUTCDay() === 0 ? 7 : d.getUTCDay();
  d.setUTCDate(d.getUTCDate() + 4 - weekday);
  const yearStart = new Date(Date.UTC(d.getUTCFullYear(), 0, 1));
  const week = Math.ceil(((d.getTime() - yearStart.getTime()) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

/**
 * Applies a retention policy to a backup folder: keeps the newest backup of each of the last
 * `keepDaily` days and of each of the last `keepWeekly` ISO weeks (a backup may count for
 * both), plus the `keepLast` newest, and removes the other backups. Only folders with one of
 * our manifests are ever removed (and stale `.partial-*` folders of interrupted backups);
 * anything else in the folder is left alone.
 *
 * @returns `Ok(RetentionReport)`, or `Err` `DB_BACKUP_NOT_FOUND` (the folder cannot be read)
 *   / `DB_BACKUP_TARGET_UNWRITABLE` (a backup cannot be removed).
 *
 * @example
 * const pruned = await pruneBackups({ dir: '/var/backups/notes', keepDaily: 7, keepWeekly: 4 });
 * if (pruned.ok) console.log(`removed ${pruned.value.removed.length}`);
 */
export async function pruneBackups(
  options: RetentionOptions,
): Promise<Result<RetentionReport, ProdError>> {
  const check = optionChecks(DbErrors.DB_INVALID_OPTIONS);
  check.object('options', options);
  const dir = resolve(check.string('dir', options.dir, '', { nonEmpty: true }));
  const keepDaily = check.integer('keepDaily', options.keepDaily, 7, { max: 10_000 });
  const keepWeekly = check.integer('keepWeekly', options.keepWeekly, 4, { max: 10_000 });
  const keepLast = check.integer('keepLast', options.keepLast, 1, { max: 10_000 });
  const partialMaxAgeMs = check.duration('partialMaxAgeMs', options.partialMaxAgeMs, 86_400_000, {
    allowInfinity: true,
  });
  const dryRun = check.boolean('dryRun', options.dryRun, false);
  const listed = await listBackups(dir);
  if (!listed.ok) return listed;
  const backups = listed.value;
  const keep = new Set<string>();
  for (const b of backups.slice(0, keepLast)) keep.add(b.path);
  const days = new Set<string>();
  const weeks = new Set<string>();
  for (const b of backups) {
    const started = b.manifest.startedAt;
    const d = day(started);
    if (!days.has(d) && days.size < keepDaily) {
      days.add(d);
      keep.add(b.path);
    }
    const w = isoWeek(new Date(started));
    if (!weeks.has(w) && weeks.size < keepWeekly) {
      weeks.add(w);
      keep.add(b.path);
    }
  }
  const removed: string[] = [];
  const remove = async (path: string): Promise<ProdError | undefined> => {
    removed.push(basename(path));
    if (dryRun) return undefined;
    try {
      await rm(path, { recursive: true, force: true });
      return undefined;
    } catch (error) {
      return DbErrors.DB_BACKUP_TARGET_UNWRITABLE({
        message: `cannot remove ${path}: ${(error as Error).message}`,
        details: { path },
        cause: error,
      });
    }
  };
  for (const b of backups) {
    if (keep.has(b.path)) continue;
    const problem = await remove(b.path);
    if (problem !== undefined) return err(problem);
  }
  if (Number.isFinite(partialMaxAgeMs)) {
    try {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        if (!entry.isDirectory() || !entry.name.startsWith('.partial-')) continue;
        const path = join(dir, entry.name);
        const age = Date.now() - (await stat(path)).mtimeMs;
        if (age > partialMaxAgeMs) {
          const problem = await remove(path);
          if (problem !== undefined) return err(problem);
        }
      }
    } catch {
      // The folder vanished meanwhile: nothing left to prune.
    }
  }
  return ok({
    kept: backups.filter((b) => keep.has(b.path)).map((b) => basename(b.path)),
    removed,
  });
}
