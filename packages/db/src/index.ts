export type {
  BackupOptions,
  BackupVerification,
  RestoreOptions,
  VerifyBackupOptions,
} from './backup.js';
export { backup, restore, verifyBackup } from './backup.js';
export type { BackupFile, BackupInfo, BackupManifest } from './backup-manifest.js';
export { checkBackup, listBackups, MANIFEST_FORMAT, readManifest } from './backup-manifest.js';
export { DbErrors } from './errors.js';
export type { QueryFingerprint } from './fingerprint.js';
export { fingerprintQuery } from './fingerprint.js';
export type {
  DbEvent,
  DbMetricsTarget,
  ExplainOptions,
  Instrumentation,
  InstrumentLogger,
  InstrumentOptions,
  RequestQueryStats,
  RequestRef,
} from './instrument.js';
export { instrument, requestQueryStats } from './instrument.js';
export type {
  ConstraintOptions,
  ConstraintReport,
  ConstraintViolation,
  IntegrityReport,
} from './integrity.js';
export { checkConstraints, verifyIntegrity } from './integrity.js';
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
export type {
  PgliteBackupOptions,
  PgliteLike,
  PgliteRestoreOptions,
  RestoredPglite,
} from './pglite-backup.js';
export { backupPglite, restorePglite } from './pglite-backup.js';
export type { RetentionOptions, RetentionReport } from './retention.js';
export { pruneBackups } from './retention.js';
export type {
  PgPoolClientLike,
  PgPoolLike,
  SqlClient,
  SqlQueryable,
  SqlResult,
  SqlSource,
} from './sql-client.js';
export { isSqlClient, toSqlClient } from './sql-client.js';
export type { DigestOptions, TableComparison, TableDigest } from './table-digest.js';
export { compareDigests, digestTables } from './table-digest.js';
export type { MetricsRegistryLike, SchemaDifference, SqlStatement } from './types.js';
