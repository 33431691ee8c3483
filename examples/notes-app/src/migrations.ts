import { auditMigrationSql } from '@prod/audit';
import { defineMigration, type MigrationDefinition } from '@prod/db';
import { outboxMigrationSql } from '@prod/queue';
import { apiKeyMigrationSql } from '@prod/security';

/**
 * Every table of the notes service, as one migration history of @prod/db (table
 * `prod_db_migrations`), applied at start on PGlite and PostgreSQL:
 *
 * | version | what | down |
 * | --- | --- | --- |
 * | 1 | `notes` and its paging index | drops `notes` |
 * | 2 | `audit_log`, the append-only table of @prod/audit (`auditMigrationSql()`) | none: a migration never drops the audit trail |
 * | 3 | `api_keys`, the key store of @prod/security (`apiKeyMigrationSql()`) | drops `api_keys` |
 * | 4 | `prod_queue_outbox`, the job outbox of @prod/queue (`outboxMigrationSql()`) | drops it |
 *
 * Versions 2 to 4 are the SQL those packages export, so the history records (and checksums)
 * exactly what they create. Their statements are idempotent (`IF NOT EXISTS`), as version 1's
 * are: a database whose tables an earlier start created (`createNotesTable`,
 * `applyAuditMigration`) adopts the history without a baseline. A package release that changes
 * its SQL changes that migration's checksum: `test/migrations.int.test.ts` pins them, so that
 * shows in CI as a failing test rather than as `DB_MIGRATION_CHECKSUM_MISMATCH` at a start;
 * the change then goes into a new migration.
 */
export const NOTES_MIGRATIONS: readonly MigrationDefinition[] = [
  defineMigration({
    version: '1',
    name: 'notes',
    up: `CREATE TABLE IF NOT EXISTS notes (
  id uuid PRIMARY KEY,
  title text NOT NULL,
  body text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS notes_created_at ON notes (created_at, id);`,
    down: 'DROP TABLE notes',
  }),
  defineMigration({
    version: '2',
    name: 'audit log',
    up: `${auditMigrationSql().join(';\n')};`,
  }),
  defineMigration({
    version: '3',
    name: 'api keys',
    up: `${apiKeyMigrationSql().join(';\n')};`,
    down: 'DROP TABLE api_keys',
  }),
  defineMigration({
    version: '4',
    name: 'job outbox',
    up: `${outboxMigrationSql().join(';\n')};`,
    down: 'DROP TABLE prod_queue_outbox',
  }),
];
