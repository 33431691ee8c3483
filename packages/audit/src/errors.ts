import { defineErrors } from '@prod/core';

/**
 * The error codes of @prod/audit.
 *
 * - `AUDIT_INVALID_ENTRY`: an event that cannot be recorded (no action, an unknown outcome,
 *   the wrong types); nothing was written.
 * - `AUDIT_SINK_FAILED`: the sink could not write or read (the database is down, the disk is
 *   full); the event is not recorded. Retryable.
 * - `AUDIT_CLOSED`: `record()` after `close()`.
 * - `AUDIT_INVALID_OPTIONS`: an option of `createAuditLog`, a sink, `auditPart` or
 *   `applyAuditMigration` is invalid (thrown at construction).
 */
export const AuditErrors = defineErrors({
  AUDIT_INVALID_ENTRY: { status: 400, title: 'Invalid audit event' },
  AUDIT_SINK_FAILED: { status: 503, title: 'Audit sink failed', retryable: true },
  AUDIT_CLOSED: { status: 500, title: 'Audit log closed' },
  AUDIT_INVALID_OPTIONS: { status: 500, title: 'Invalid audit options' },
});
