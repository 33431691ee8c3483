export { DbErrors } from './errors.js';
export type { QueryFingerprint } from './fingerprint.js';
export { fingerprintQuery } from './fingerprint.js';
export type {
  Migration,
  MigrationDefinition,
  MigrationFunction,
  MigrationSource,
  MigrationStep,
  RepeatableDefinition,
} from './migration.js';
export { defineMigration, defineRepeatable, loadMigrations } from './migration.js';
export type {
  DriftOptions,
  DriftReport,
  MigrateReport,
  MigrationLogger,
  MigrationPlan,
  MigrationStatus,
  Migrator,
  MigratorOptions,
  PlannedStep,
  ValidationIssue,
} from './migrator.js';
export { createMigrator } from './migrator.js';
export type { SchemaDifference } from './internal/catalog.js';
export type { SqlStatement } from './internal/sql-parser.js';
export type {
  PgPoolClientLike,
  PgPoolLike,
  SqlClient,
  SqlQueryable,
  SqlResult,
  SqlSource,
} from './sql-client.js';
export { isSqlClient, toSqlClient } from './sql-client.js';
