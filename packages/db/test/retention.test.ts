import { mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BackupManifest, MANIFEST_FORMAT, pruneBackups } from '@prod/db';
import { afterEach, describe, expect, it } from 'vitest';
// The fixture writes manifests by hand: the checksum helper is not public API.
import { manifestChecksum } from '../src/backup-manifest.js';
import { tempDir } from './fixtures/databases.js';

const dirs: Array<{ remove(): void }> = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.remove();
});

/** A backup folder with a valid manifest started at `iso`. */
function fakeBackup(dir: string, iso: string): string {
  const id = `db-${iso.replace(/[-:]/g, '')}`;
  mkdirSync(join(dir, id));
  const body: Omit<BackupManifest, 'checksum'> = {
    format: MANIFEST_FORMAT,
    id,
    kind: 'pg_dump',
    database: 'db',
    serverVersion: 'PostgreSQL 15',
    serverVersionNum: 150000,
    toolVersion: 'pg_dump (PostgreSQL) 15',
    dumpFormat: 'custom',
    jobs: 1,
    startedAt: iso,
    finishedAt: iso,
    durationMs: 1,
    size: 0,
    files: [],
  };
  writeFileSync(
    join(dir, id, 'manifest.json'),
    JSON.stringify({ ...body, checksum: manifestChecksum(body) }, null, 2),
  );
  return id;
}

describe('pruneBackups', () => {
  it('keeps the newest of each of the last N days and M ISO weeks, removes the rest', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const ids = [
      '2025-03-10T02:00:00.000Z', // Monday, week 11
      '2025-03-10T14:00:00.000Z',
      '2025-03-09T02:00:00.000Z', // Sunday, week 10
      '2025-03-08T02:00:00.000Z',
      '2025-03-02T02:00:00.000Z', // week 9
      '2025-02-20T02:00:00.000Z', // week 8
      '2025-01-01T02:00:00.000Z', // week 1
    ].map((iso) => fakeBackup(dir.path, iso));
    mkdirSync(join(dir.path, 'not-a-backup'));
    mkdirSync(join(dir.path, '.partial-old'));
    const old = new Date(Date.now() - 3 * 86_400_000);
    utimesSync(join(dir.path, '.partial-old'), old, old);
    mkdirSync(join(dir.path, '.partial-running'));
    const dry = await pruneBackups({ dir: dir.path, keepDaily: 2, keepWeekly: 3, dryRun: true });
    expect(dry.ok && dry.value.removed.length).toBe(5);
    expect(readdirSync(dir.path)).toHaveLength(10);
    const result = await pruneBackups({ dir: dir.path, keepDaily: 2, keepWeekly: 3 });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    // Days kept: 03-10 (its newest), 03-09. Weeks kept: W11 (03-10 14:00), W10 (03-09), W09 (03-02).
    expect(result.value.kept).toEqual([ids[1], ids[2], ids[4]]);
    expect([...result.value.removed].sort()).toEqual(
      [ids[0], ids[3], ids[5], ids[6], '.partial-old'].sort(),
    );
    expect(readdirSync(dir.path).sort()).toEqual(
      [ids[1], ids[2], ids[4], '.partial-running', 'not-a-backup'].sort(),
    );
  });

  it('always keeps the newest keepLast, and rejects bad options', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const only = fakeBackup(dir.path, '2020-01-01T00:00:00.000Z');
    const result = await pruneBackups({ dir: dir.path, keepDaily: 0, keepWeekly: 0 });
    expect(result.ok && result.value).toEqual({ kept: [only], removed: [] });
    await expect(pruneBackups({ dir: dir.path, keepDaily: -1 })).rejects.toThrow(
      /option keepDaily must be an integer >= 0/,
    );
    const missing = await pruneBackups({ dir: join(dir.path, 'nothing-here') });
    expect(missing.ok && missing.value).toEqual({ kept: [], removed: [] });
  });
});
