import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import {
  type AuditRecord,
  applyAuditMigration,
  createAuditLog,
  fileSink,
  memorySink,
  postgresSink,
  verifyRecords,
} from '@prod/audit';
import { afterAll, describe, expect, it } from 'vitest';
import { expectSameRecords, KEY, writeAndReadBack } from './fixtures/read-back.js';

const dir = mkdtempSync(join(tmpdir(), 'prod-audit-read-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function all(records: AsyncIterable<AuditRecord>): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  for await (const record of records) out.push(record);
  return out;
}

describe('read(chain) gives the documented record objects on every sink', () => {
  it('memory', async () => {
    const sink = memorySink();
    const result = await writeAndReadBack(sink, 'mem');
    expectSameRecords(result, 'mem');
    expect((await verifyRecords(result.read, { keys: [KEY] })).ok).toBe(true);
  });

  it('file (JSON lines): only the chain asked for, parsed', async () => {
    const sink = fileSink({ path: join(dir, 'read.jsonl') });
    const result = await writeAndReadBack(sink, 'file');
    expectSameRecords(result, 'file');
    expect((await verifyRecords(result.read, { keys: [KEY] })).ok).toBe(true);
    await sink.close?.();
  });

  it('PostgreSQL on PGlite', async () => {
    const db = new PGlite();
    try {
      expect((await applyAuditMigration(db)).ok).toBe(true);
      const result = await writeAndReadBack(postgresSink({ db, pageSize: 7 }), 'lite');
      expectSameRecords(result, 'lite');
    } finally {
      await db.close();
    }
  }, 30_000);

  it('a line that is not a record is not given by read(), and verify() still reports it where it is', async () => {
    const path = join(dir, 'cut.jsonl');
    const sink = fileSink({ path });
    const log = createAuditLog({ sink, signingKey: KEY, checkpointInterval: 0 });
    expect((await log.record({ action: 'before.cut' })).ok).toBe(true);
    await sink.close?.();
    writeFileSync(path, `${readFileSync(path, 'utf8')}{"v":1,"chain":"def\n["not a record"]\n`);
    const resumedSink = fileSink({ path });
    const resumed = createAuditLog({ sink: resumedSink, signingKey: KEY, checkpointInterval: 0 });
    expect((await resumed.record({ action: 'after.cut' })).ok).toBe(true);
    const read = await all((resumedSink.read as NonNullable<typeof resumedSink.read>)('default'));
    expect(read.map((record) => [record.seq, record.kind === 'event' && record.action])).toEqual([
      [1, 'before.cut'],
      [2, 'after.cut'],
    ]);
    const report = await resumed.verify();
    expect(report.ok && report.value.issues.map((issue) => [issue.kind, issue.position])).toEqual([
      ['malformed', 1],
      ['malformed', 2],
    ]);
    await resumedSink.close?.();
  });
});
