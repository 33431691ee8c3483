export type { AuditPartOptions, AuditRouteMeta } from './audit-part.js';
export { auditAction, auditPart } from './audit-part.js';
export type { AuditLog, AuditLogOptions } from './create-audit-log.js';
export { createAuditLog } from './create-audit-log.js';
export { AuditErrors } from './errors.js';
export type { AuditMigrationOptions } from './migration.js';
export { applyAuditMigration, auditMigrationSql } from './migration.js';
export type { RedactOptions } from './redact.js';
export { DEFAULT_REDACTED_KEYS, REDACTED, redact } from './redact.js';
export type { FileSinkOptions } from './sinks/file-sink.js';
export { fileSink } from './sinks/file-sink.js';
export type { MemorySink } from './sinks/memory-sink.js';
export { memorySink } from './sinks/memory-sink.js';
export type { PinoLike, PinoSinkOptions } from './sinks/pino-sink.js';
export { pinoSink, processChain } from './sinks/pino-sink.js';
export type { PostgresSinkOptions } from './sinks/postgres-sink.js';
export { postgresSink } from './sinks/postgres-sink.js';
export type { SqlClient, SqlQueryable } from './sql-client.js';
export type {
  AppendContext,
  AuditActor,
  AuditApp,
  AuditCheckpoint,
  AuditEntry,
  AuditEvent,
  AuditIssue,
  AuditIssueKind,
  AuditOutcome,
  AuditRecord,
  AuditResource,
  AuditSink,
  AuditWhere,
  ChainReport,
  ChainTail,
  VerifyReport,
} from './types.js';
export type { VerifyOptions } from './verify.js';
export { verifyRecords } from './verify.js';
