import {
  type SqlClient as AuditSqlClient,
  applyAuditMigration,
  createAuditLog,
  postgresSink,
} from '@prod/audit';
import { openPglite, serializedClient } from 'example-notes-app';
import { describe, expect, it } from 'vitest';

describe('serializedClient', () => {
  it('keeps every query out of a lent connection until it is released', async () => {
    const seen: string[] = [];
    const db = {
      closed: false,
      query: async (text: string) => {
        seen.push(text);
        return { rows: [] };
      },
    };
    const client = serializedClient(db);
    expect(client.totalCount).toBe(1);
    const connection = await client.connect();
    await connection.query('BEGIN');
    const outside = client.query('SELECT outside');
    await connection.query('INSERT inside');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen).toEqual(['BEGIN', 'INSERT inside']);
    await connection.query('COMMIT');
    connection.release();
    connection.release(); // twice is harmless
    await outside;
    expect(seen).toEqual(['BEGIN', 'INSERT inside', 'COMMIT', 'SELECT outside']);
    db.closed = true;
    expect(client.closed).toBe(true);
  });

  it('releases its turn when a query fails', async () => {
    const client = serializedClient({
      query: async (text: string) => {
        if (text === 'bad') throw new Error('syntax error');
        return { rows: [{ text }] };
      },
    });
    await expect(client.query('bad')).rejects.toThrow('syntax error');
    expect((await client.query('good')).rows).toEqual([{ text: 'good' }]);
  });

  it("keeps the audit sink's transactions whole on a PGlite the notes store shares", async () => {
    const pglite = await openPglite();
    // @prod/audit types its client's rows as a mutable array; @prod/db's are read-only.
    const db = serializedClient(pglite) as unknown as AuditSqlClient;
    try {
      expect((await applyAuditMigration(db)).ok).toBe(true);
      // The first write of each log runs BEGIN ... COMMIT as separate queries; a failing
      // statement of another user, issued some microtasks later, must not land inside it.
      for (let depth = 0; depth < 20; depth++) {
        const log = createAuditLog({
          sink: postgresSink({ db }),
          signingKey: 'a-signing-key-of-at-least-32-chars',
          checkpointInterval: 0,
          chain: `probe-${depth}`,
        });
        const recorded = log.record({ action: 'note.create' });
        let later: Promise<unknown> = Promise.resolve();
        for (let turn = 0; turn < depth; turn++) later = later.then(() => undefined);
        await later.then(() => db.query('SELECT 1/0')).catch(() => undefined);
        const result = await recorded;
        expect(result.ok, `depth ${depth}`).toBe(true);
        await log.close();
      }
    } finally {
      await pglite.close();
    }
  }, 60_000);
});
