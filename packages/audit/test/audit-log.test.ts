import {
  type AuditCheckpoint,
  AuditErrors,
  createAuditLog,
  memorySink,
  REDACTED,
  verifyRecords,
} from '@prod/audit';
import { runWithContext } from '@prod/core';
import { describe, expect, it } from 'vitest';

const KEY = 'audit-signing-key-of-at-least-32-bytes!';

describe('createAuditLog', () => {
  it('records who, what, when, where, outcome and reason, from the request context', async () => {
    const sink = memorySink();
    const log = createAuditLog({
      sink,
      signingKey: KEY,
      app: { service: 'notes', version: '1.2.3', host: 'h1' },
      now: () => new Date('2026-01-02T03:04:05.000Z'),
    });
    const recorded = await runWithContext(
      { requestId: 'req-1', traceId: 'trace-1', actor: { id: 'user-42', type: 'user' } },
      () =>
        log.record({
          action: 'note.update',
          resource: { type: 'note', id: 'n1' },
          outcome: 'denied',
          reason: 'NOTE_LOCKED',
          where: { ip: '203.0.113.7' },
          details: {
            title: 'x',
            password: 'hunter2',
            nested: { Authorization: 'Bearer abc', keep: 1 },
          },
        }),
    );
    expect(recorded.ok).toBe(true);
    if (!recorded.ok) return;
    const entry = recorded.value;
    expect(entry).toMatchObject({
      v: 1,
      chain: 'default',
      seq: 1,
      kind: 'event',
      time: '2026-01-02T03:04:05.000Z',
      action: 'note.update',
      outcome: 'denied',
      reason: 'NOTE_LOCKED',
      actor: { id: 'user-42', type: 'user' },
      resource: { type: 'note', id: 'n1' },
      where: { requestId: 'req-1', traceId: 'trace-1', ip: '203.0.113.7' },
      app: { service: 'notes', version: '1.2.3', host: 'h1' },
      details: { title: 'x', password: REDACTED, nested: { Authorization: REDACTED, keep: 1 } },
      prevHash: '0'.repeat(64),
    });
    expect(entry.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(entry.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(sink.records).toEqual([entry]);
  });

  it('chains every record onto the previous and checkpoints every N, signed and chained', async () => {
    const sink = memorySink();
    const log = createAuditLog({
      sink,
      signingKey: KEY,
      checkpointEvery: 10,
      checkpointInterval: 0,
    });
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        log.record({ action: 'item.create', resource: { type: 'item', id: String(i) } }),
      ),
    );
    expect(results.every((result) => result.ok)).toBe(true);
    await log.close();
    const records = sink.records;
    expect(records.map((record) => record.seq)).toEqual(records.map((_, i) => i + 1));
    for (let i = 1; i < records.length; i++)
      expect(records[i]?.prevHash).toBe(records[i - 1]?.hash);
    const checkpoints = records.filter(
      (record): record is AuditCheckpoint => record.kind === 'checkpoint',
    );
    expect(checkpoints.length).toBe(3); // after 10 and 20 unsealed records, and the last 5 at close()
    expect(checkpoints[0]).toMatchObject({ seq: 11, from: 1, to: 10, prevSignature: null });
    expect(checkpoints[0]?.digests).toHaveLength(10);
    expect(checkpoints[1]).toMatchObject({
      from: 12,
      to: 21,
      prevSignature: checkpoints[0]?.signature,
    });
    expect(checkpoints[2]).toMatchObject({ from: 23, to: 27 });
    const report = await log.verify();
    expect(report).toMatchObject({
      ok: true,
      value: { ok: true, records: 28, issues: [], signaturesChecked: true },
    });
    if (report.ok)
      expect(report.value.chains[0]).toMatchObject({ lastSeq: 28, sealedThrough: 28, unsealed: 0 });
  });

  it('keeps records in order under a burst of concurrent callers', async () => {
    const sink = memorySink();
    const log = createAuditLog({ sink, signingKey: KEY, checkpointInterval: 0, maxBatch: 7 });
    const entries = await Promise.all(
      Array.from({ length: 300 }, (_, i) => log.record({ action: 'burst', details: { i } })),
    );
    const seqs = entries.map((result) => (result.ok ? result.value.seq : -1));
    expect(new Set(seqs).size).toBe(300);
    expect((await verifyRecords(sink.records, { keys: [KEY] })).ok).toBe(true);
  });

  it('checkpoints on a timer when records wait unsealed', async () => {
    const sink = memorySink();
    const log = createAuditLog({ sink, signingKey: KEY, checkpointInterval: 50 });
    await log.record({ action: 'quiet' });
    await new Promise((resolve) => setTimeout(resolve, 160));
    const checkpoints = sink.records.filter((record) => record.kind === 'checkpoint');
    expect(checkpoints.length).toBe(1); // only once: nothing new since
    await log.close();
  });

  it('refuses bad events with AUDIT_INVALID_ENTRY and writes nothing', async () => {
    const sink = memorySink();
    const log = createAuditLog({ sink, signingKey: KEY, checkpointInterval: 0 });
    const bad: unknown[] = [
      null,
      {},
      { action: '' },
      { action: 'a b' },
      { action: 'x'.repeat(129) },
      { action: 'ok', outcome: 'maybe' },
      { action: 'ok', actor: { id: 5 } },
      { action: 'ok', resource: 'note' },
      { action: 'ok', reason: 5 },
      { action: 'ok', details: [1] },
      { action: 'ok', time: 'not a date' },
    ];
    for (const event of bad) {
      const result = await log.record(event as never);
      expect(!result.ok && result.error.code).toBe('AUDIT_INVALID_ENTRY');
    }
    expect(sink.records).toEqual([]);
  });

  it('bounds what it keeps: long strings, huge or hostile details', async () => {
    const sink = memorySink();
    const log = createAuditLog({ sink, signingKey: KEY, checkpointInterval: 0, redact: ['email'] });
    const hostile = JSON.parse(
      '{"__proto__": {"polluted": true}, "email": "a@b.c", "deep": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}}}',
    );
    const recorded = await log.record({ action: 'x', reason: 'r'.repeat(5000), details: hostile });
    if (!recorded.ok) throw recorded.error;
    expect(recorded.value.reason?.length).toBe(1025);
    expect(recorded.value.details).toMatchObject({ email: REDACTED });
    expect(JSON.stringify(recorded.value.details)).toContain('[Truncated]');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const huge = await log.record({
      action: 'x',
      details: { blob: Array.from({ length: 100 }, () => 'y'.repeat(500)) },
    });
    expect(huge.ok && huge.value.details).toEqual({ truncated: true });
  });

  it('a failing sink gives AUDIT_SINK_FAILED (retryable); after close, AUDIT_CLOSED', async () => {
    const log = createAuditLog({
      sink: { name: 'broken', append: () => Promise.reject(new Error('disk full')) },
      signingKey: KEY,
      checkpointInterval: 0,
      onError: () => {},
    });
    const failed = await log.record({ action: 'x' });
    expect(!failed.ok && [failed.error.code, failed.error.retryable]).toEqual([
      'AUDIT_SINK_FAILED',
      true,
    ]);
    const unreadable = await log.verify();
    expect(!unreadable.ok && unreadable.error.code).toBe('AUDIT_SINK_FAILED');
    await log.close();
    const closed = await log.record({ action: 'x' });
    expect(!closed.ok && closed.error.code).toBe('AUDIT_CLOSED');
  });

  it('verifies checkpoints signed with a previous key after a rotation', async () => {
    const sink = memorySink();
    const oldKey = 'the-old-signing-key-of-at-least-32-bytes';
    const first = createAuditLog({
      sink,
      signingKey: oldKey,
      checkpointInterval: 0,
      checkpointEvery: 10,
    });
    for (let i = 0; i < 12; i++) await first.record({ action: 'before' });
    await first.close();
    const second = createAuditLog({
      sink,
      signingKey: KEY,
      previousKeys: [oldKey],
      checkpointInterval: 0,
      checkpointEvery: 10,
    });
    for (let i = 0; i < 12; i++) await second.record({ action: 'after' });
    await second.close();
    expect(
      (await second.verify()).ok && (await verifyRecords(sink.records, { keys: [KEY, oldKey] })).ok,
    ).toBe(true);
    const withoutOld = await verifyRecords(sink.records, { keys: [KEY] });
    expect(withoutOld.issues.map((issue) => issue.kind)).toContain('bad-checkpoint');
  });

  it('checks its options', () => {
    const sink = memorySink();
    const cases: unknown[] = [
      undefined,
      { signingKey: KEY },
      { sink, signingKey: 'short' },
      { sink, signingKey: KEY, checkpointEvery: 5 },
      { sink, signingKey: KEY, chain: 'bad chain' },
      { sink, signingKey: KEY, redact: 'password' },
      { sink, signingKey: KEY, previousKeys: ['short'] },
    ];
    for (const options of cases) {
      expect(() => createAuditLog(options as never)).toThrow();
      try {
        createAuditLog(options as never);
      } catch (error) {
        expect(AuditErrors.AUDIT_INVALID_OPTIONS.is(error)).toBe(true);
      }
    }
  });
});
