import { PGlite } from '@electric-sql/pglite';
import { applyAuditMigration, auditMigrationSql, createAuditLog, postgresSink } from '@prod/audit';
import { afterAll, describe, expect, it } from 'vitest';

const KEY = 'audit-signing-key-of-at-least-32-bytes!';
const db = new PGlite();
afterAll(() => db.close());

describe('PostgreSQL sink on PGlite (the embedded default)', () => {
  it('migrates, records, verifies, and refuses UPDATE and DELETE', async () => {
    const migrated = await applyAuditMigration(db);
    expect(migrated).toEqual({ ok: true, value: undefined });
    expect((await applyAuditMigration(db)).ok).toBe(true);
    const log = createAuditLog({
      sink: postgresSink({ db }),
      signingKey: KEY,
      checkpointEvery: 10,
      checkpointInterval: 0,
    });
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) => log.record({ action: 'lite.write', details: { i } })),
    );
    expect(results.every((result) => result.ok)).toBe(true);
    await log.close();
    const report = await log.verify();
    expect(report).toMatchObject({ ok: true, value: { ok: true, records: 28 } });
    const update = await db.query('UPDATE audit_log SET action = $1', ['x']).then(
      () => 'updated',
      (error: Error) => error.message,
    );
    expect(update).toContain('append-only');
    const remove = await db.query('DELETE FROM audit_log').then(
      () => 'deleted',
      (error: Error) => error.message,
    );
    expect(remove).toContain('append-only');
  }, 30_000);

  it('refuses identifiers that are not plain', () => {
    expect(() => auditMigrationSql({ table: 'audit; DROP TABLE x' })).toThrow(/table/);
    expect(() => auditMigrationSql({ writerRole: 'Robert"); --' })).toThrow(/writerRole/);
    expect(() => postgresSink({ db: {} as never })).toThrow(/db/);
  });
});
