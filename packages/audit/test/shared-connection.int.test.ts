import { postgresTestDatabase } from '@prod/testing';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { recordBesideOtherTraffic } from './fixtures/shared-traffic.js';

const database = await postgresTestDatabase();
afterAll(() => database.drop());

describe.skipIf(!database.available)(
  'PostgreSQL sink on one pg Client shared with other code (skipped: PostgreSQL not reachable)',
  () => {
    it('keeps its writes out of reach of the other code: every record written, the chain valid, no foreign statement inside', async () => {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        const outcome = await recordBesideOtherTraffic(client, 'other_work');
        expect(outcome).toMatchObject({
          recorded: 60,
          auditErrors: [],
          storedEvents: 60,
          verified: { ok: true, issues: 0 },
          otherFailures: ['division by zero'],
          otherErrors: [],
          sharedTransactions: 0,
        });
        expect(outcome.otherInserts.ok).toBe(outcome.otherInserts.sent);
        expect(outcome.otherInserts.stored).toBe(outcome.otherInserts.sent);
        expect(outcome.otherInserts.sent).toBeGreaterThan(30);
        // No advisory lock of audit's is left on the shared session.
        const locks = await client.query(
          `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()`,
        );
        expect(locks.rows[0]?.n).toBe(0);
      } finally {
        await client.end();
      }
    }, 60_000);
  },
);
