import { PGlite } from '@electric-sql/pglite';
import type { SqlClient, SqlQueryable } from '@prod/audit';
import { afterAll, describe, expect, it } from 'vitest';
import { recordBesideOtherTraffic } from './fixtures/shared-traffic.js';

const db = new PGlite();
afterAll(() => db.close());

const clean = {
  recorded: 60,
  auditErrors: [],
  storedEvents: 60,
  verified: { ok: true, issues: 0 },
  otherFailures: ['division by zero'],
  otherErrors: [],
  sharedTransactions: 0,
};

describe('PostgreSQL sink on a single connection shared with other code', () => {
  it('PGlite: its transactions run through db.transaction(); every record written, the chain valid, no foreign statement inside', async () => {
    const outcome = await recordBesideOtherTraffic(db, 'other_work');
    expect(outcome).toMatchObject(clean);
    // The other code's inserts all committed on their own, none rolled back with audit's.
    expect(outcome.otherInserts.ok).toBe(outcome.otherInserts.sent);
    expect(outcome.otherInserts.stored).toBe(outcome.otherInserts.sent);
    // Its traffic really ran alongside audit's writes.
    expect(outcome.otherInserts.sent).toBeGreaterThan(30);
  }, 60_000);

  it("@prod/db's SqlClient shape: { query, transaction(fn) } is used for every transaction, never BEGIN through query()", async () => {
    const sent: string[] = [];
    let transactions = 0;
    // What toSqlClient() of @prod/db gives, structurally (audit does not depend on @prod/db).
    const client: SqlClient = {
      query: (text, values) => {
        sent.push(text.trim().split(/\s+/)[0] ?? '');
        return db.query(text, values);
      },
      transaction<TValue>(fn: (tx: SqlQueryable) => Promise<TValue>): Promise<TValue> {
        transactions += 1;
        return db.transaction((tx) => fn(tx));
      },
    };
    const outcome = await recordBesideOtherTraffic(client, 'other_work_db');
    expect(outcome).toMatchObject(clean);
    expect(outcome.otherInserts.stored).toBe(outcome.otherInserts.sent);
    // The migration and the locked writes of two contending writers.
    expect(transactions).toBeGreaterThan(2);
    expect(sent.filter((verb) => /^(BEGIN|COMMIT|ROLLBACK)$/i.test(verb))).toEqual([]);
  }, 60_000);
});
