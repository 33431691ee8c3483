import type { PGlite } from '@electric-sql/pglite';
import {
  type AuditEntry,
  type AuditLog,
  type AuditRecord,
  type AuditSink,
  auditAction,
  memorySink,
  type SqlClient,
  type VerifyReport,
} from '@prod/audit';
import type { ProdError, Result } from '@prod/core';
import type pg from 'pg';
import { describe, expectTypeOf, it } from 'vitest';

describe('types', () => {
  it('record and verify results', () => {
    expectTypeOf<AuditLog['record']>().returns.resolves.toEqualTypeOf<
      Result<AuditEntry, ProdError>
    >();
    expectTypeOf<AuditLog['verify']>().returns.resolves.toEqualTypeOf<
      Result<VerifyReport, ProdError>
    >();
    expectTypeOf(auditAction({ action: 'note.update' })).not.toBeAny();
    // @ts-expect-error an action is required
    auditAction({ resource: 'note' });
  });

  it('every sink reads back records, and every SQL client fits', () => {
    expectTypeOf<ReturnType<NonNullable<AuditSink['read']>>>().toEqualTypeOf<
      AsyncIterable<AuditRecord>
    >();
    expectTypeOf(memorySink().read).toEqualTypeOf<AuditSink['read']>();
    expectTypeOf<PGlite>().toMatchTypeOf<SqlClient>();
    expectTypeOf<pg.Pool>().toMatchTypeOf<SqlClient>();
    expectTypeOf<pg.Client>().toMatchTypeOf<SqlClient>();
  });
});
