import { type AuditEntry, type AuditLog, auditAction, type VerifyReport } from '@prod/audit';
import type { ProdError, Result } from '@prod/core';
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
});
