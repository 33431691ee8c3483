import { Writable } from 'node:stream';
import { createAuditLog, pinoSink, processChain, verifyRecords } from '@prod/audit';
import pino from 'pino';
import { describe, expect, it } from 'vitest';

const KEY = 'audit-signing-key-of-at-least-32-bytes!';

describe('pinoSink', () => {
  it('writes each record as a log line that the offline verifier reads back', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).trimEnd().split('\n'));
        done();
      },
    });
    const logger = pino({ level: 'info' }, destination);
    const chain = processChain('api');
    expect(chain).toMatch(/^api\.[A-Za-z0-9_.:-]+\.\d+\.[a-z0-9]+$/);
    const log = createAuditLog({
      sink: pinoSink(logger),
      chain,
      signingKey: KEY,
      checkpointEvery: 10,
      checkpointInterval: 0,
    });
    for (let i = 0; i < 12; i++) await log.record({ action: 'pino.test', details: { i } });
    await log.close();
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.length).toBe(14);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      msg: 'audit',
      level: 30,
      audit: { chain, seq: 1, action: 'pino.test' },
    });
    const report = await verifyRecords(lines, { keys: [KEY] });
    expect(report).toMatchObject({ ok: true, records: 14 });
    const unreadable = await log.verify();
    expect(!unreadable.ok && unreadable.error.code).toBe('AUDIT_SINK_FAILED');
    lines.splice(3, 1);
    expect(
      (await verifyRecords(lines, { keys: [KEY] })).issues.map((issue) => [issue.kind, issue.seq]),
    ).toEqual([['deleted', 4]]);
  });

  it('checks its options', () => {
    expect(() => pinoSink({} as never)).toThrow(/logger/);
    expect(() => pinoSink(pino(), { level: 'fatal' as 'info' })).toThrow(/level/);
  });
});
