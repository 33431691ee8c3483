import { defineErrors } from '@prod/core';

/**
 * The error codes of @prod/db. Every one names the file or database it is about in its
 * message and `details`, and none of them leaves a partial change behind.
 *
 * - `DB_INVALID_OPTIONS`: an option of a factory is invalid (thrown at construction).
 * - `DB_UNAVAILABLE`: the database cannot be reached or the connection broke (retryable).
 * - `DB_QUERY_FAILED`: a query of ours (catalog, hashes, history) failed on the server.
 * - `DB_MIGRATION_INVALID`: a migration source is malformed: file name, duplicate version,
 *   no `up`, BEGIN/COMMIT inside a migration, a statement that needs `no-transaction`.
 * - `DB_MIGRATION_SYNTAX`: a SQL migration does not parse (file, line, column).
 * - `DB_MIGRATION_FAILED`: a migration statement failed; the migration was rolled back.
 * - `DB_MIGRATION_INTERRUPTED`: the connection died during a migration (killed, restarted);
 *   the server rolled it back and the migration is still pending (retryable).
 * - `DB_MIGRATION_LOCKED`: another runner held the migration lock past `lockTimeoutMs`.
 * - `DB_MIGRATION_CHECKSUM_MISMATCH`: an applied migration's file changed since.
 * - `DB_MIGRATION_MISSING`: the history has an applied migration that no source provides.
 * - `DB_MIGRATION_OUT_OF_ORDER`: a pending migration is older than the newest applied one.
 * - `DB_MIGRATION_NO_DOWN`: `down(n)` reached a migration without a down step.
 * - `DB_MIGRATION_BASELINE_REFUSED`: `baseline()` on a database that already has history.
 * - `DB_TOOL_MISSING`: `pg_dump` / `pg_restore` was not found.
 * - `DB_BACKUP_FAILED`: pg_dump (or the PGlite dump) failed.
 * - `DB_BACKUP_TARGET_UNWRITABLE`: the backup folder cannot be created or written.
 * - `DB_BACKUP_TARGET_FULL`: the backup folder ran out of space (ENOSPC, quota, file size).
 * - `DB_BACKUP_NOT_FOUND`: no backup (manifest) at the given path.
 * - `DB_BACKUP_CORRUPT`: a backup file is missing or does not match its manifest hash, or
 *   the manifest itself was altered.
 * - `DB_RESTORE_FAILED`: pg_restore (or loading a PGlite data directory) failed.
 */
export const DbErrors = defineErrors({
  DB_INVALID_OPTIONS: { status: 500, title: 'Invalid db options' },
  DB_UNAVAILABLE: { status: 503, title: 'Database unavailable', retryable: true },
  DB_QUERY_FAILED: { status: 500, title: 'Database query failed' },
  DB_MIGRATION_INVALID: { status: 500, title: 'Invalid migration' },
  DB_MIGRATION_SYNTAX: { status: 500, title: 'Migration syntax error' },
  DB_MIGRATION_FAILED: { status: 500, title: 'Migration failed' },
  DB_MIGRATION_INTERRUPTED: {
    status: 503,
    title: 'Migration interrupted',
    retryable: true,
  },
  DB_MIGRATION_LOCKED: {
    status: 503,
    title: 'Migrations locked by another runner',
    retryable: true,
  },
  DB_MIGRATION_CHECKSUM_MISMATCH: { status: 500, title: 'Applied migration changed' },
  DB_MIGRATION_MISSING: { status: 500, title: 'Applied migration missing' },
  DB_MIGRATION_OUT_OF_ORDER: { status: 500, title: 'Migration out of order' },
  DB_MIGRATION_NO_DOWN: { status: 500, title: 'Migration has no down step' },
  DB_MIGRATION_BASELINE_REFUSED: { status: 500, title: 'Baseline refused' },
  DB_TOOL_MISSING: { status: 500, title: 'PostgreSQL client tool missing' },
  DB_BACKUP_FAILED: { status: 500, title: 'Backup failed' },
  DB_BACKUP_TARGET_UNWRITABLE: { status: 500, title: 'Backup target unwritable' },
  DB_BACKUP_TARGET_FULL: { status: 507, title: 'Backup target full' },
  DB_BACKUP_NOT_FOUND: { status: 404, title: 'Backup not found' },
  DB_BACKUP_CORRUPT: { status: 500, title: 'Backup corrupt' },
  DB_RESTORE_FAILED: { status: 500, title: 'Restore failed' },
});
