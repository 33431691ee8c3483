import { CoreErrors, err, runWithContext } from '@prod/core';
import { callbackSink, ErrorAggregator, type ErrorReport, type ErrorSink } from '@prod/errors';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { debugLogger, invalidOption, manualClock } from './helpers.js';

function recorder(name = 'rec'): { sink: ErrorSink; batches: ErrorReport[][] } {
  const batches: ErrorReport[][] = [];
  return {
    sink: callbackSink((reports) => {
      batches.push([...reports]);
    }, name),
    batches,
  };
}

function errorAt(place: string, code = 'INTERNAL'): Error {
  const error = new Error(`failure at ${place}`);
  error.stack = `Error: failure at ${place}\n    at ${place} (/app/${place}.js:1:1)`;
  return code === 'INTERNAL'
    ? error
    : Object.assign(CoreErrors.UNAVAILABLE(), { stack: error.stack });
}

describe('ErrorAggregator', () => {
  it('groups occurrences by fingerprint with counts and first/last seen', async () => {
    const clock = manualClock(Date.UTC(2026, 0, 1));
    const { sink, batches } = recorder();
    const aggregator = new ErrorAggregator({ sinks: [sink], flushIntervalMs: 0, now: clock.now });
    const a1 = aggregator.capture(errorAt('a'));
    clock.advance(5_000);
    const a2 = aggregator.capture(errorAt('a'));
    const b = aggregator.capture(errorAt('b'));
    expect(a1).toBe(a2);
    expect(a1).not.toBe(b);
    expect(aggregator.groups().map((g) => [g.total, g.firstSeen === g.lastSeen])).toEqual([
      [2, false],
      [1, true],
    ]);
    const summary = await aggregator.flush();
    expect(summary).toEqual({ delivered: 2, deferred: 0, failedSinks: [] });
    const reportA = batches[0]?.find((r) => r.fingerprint === a1);
    expect(reportA).toMatchObject({
      code: 'INTERNAL',
      status: 500,
      count: 2,
      total: 2,
      message: 'failure at a',
      firstSeen: '2026-01-01T00:00:00.000Z',
      lastSeen: '2026-01-01T00:00:05.000Z',
    });
    expect(reportA?.stack).toContain('/app/a.js');
  });

  it('writes a debug line for a flush that sent something, none for an empty one', async () => {
    const logger = debugLogger();
    const { sink } = recorder();
    const aggregator = new ErrorAggregator({ sinks: [sink], flushIntervalMs: 0, logger });
    await aggregator.flush();
    aggregator.capture(errorAt('a'));
    await aggregator.flush();
    expect(logger.lines).toEqual([
      {
        obj: { delivered: 1, deferred: 0, failedSinks: [], groups: 1 },
        msg: 'error aggregator: flushed',
      },
    ]);
  });

  it('reports only new occurrences on later flushes, and nothing when nothing happened', async () => {
    const { sink, batches } = recorder();
    const aggregator = new ErrorAggregator({ sinks: [sink], flushIntervalMs: 0 });
    aggregator.capture(errorAt('a'));
    await aggregator.flush();
    expect(await aggregator.flush()).toEqual({ delivered: 0, deferred: 0, failedSinks: [] });
    aggregator.capture(errorAt('a'));
    aggregator.capture(errorAt('a'));
    await aggregator.flush();
    expect(batches.map((b) => b.map((r) => [r.count, r.total]))).toEqual([[[1, 1]], [[2, 3]]]);
  });

  it('counts per time window', async () => {
    const clock = manualClock(Date.UTC(2026, 0, 1));
    const { sink, batches } = recorder();
    const aggregator = new ErrorAggregator({
      sinks: [sink],
      flushIntervalMs: 0,
      windowMs: 60_000,
      now: clock.now,
    });
    aggregator.capture(errorAt('a'));
    aggregator.capture(errorAt('a'));
    clock.advance(60_000);
    aggregator.capture(errorAt('a'));
    clock.advance(120_000);
    aggregator.capture(errorAt('a'));
    await aggregator.flush();
    expect(batches[0]?.[0]?.windows).toEqual([
      { start: '2026-01-01T00:00:00.000Z', count: 2 },
      { start: '2026-01-01T00:01:00.000Z', count: 1 },
      { start: '2026-01-01T00:03:00.000Z', count: 1 },
    ]);
  });

  it('samples contexts from the request context, or from the argument', async () => {
    const { sink, batches } = recorder();
    const aggregator = new ErrorAggregator({
      sinks: [sink],
      flushIntervalMs: 0,
      samplesPerGroup: 2,
    });
    runWithContext({ requestId: 'req-1', route: '/notes/:id', traceId: 't1' }, () =>
      aggregator.capture(errorAt('a')),
    );
    aggregator.capture(errorAt('a'), { requestId: 'req-2', route: '/x' });
    for (let i = 0; i < 50; i++) aggregator.capture(errorAt('a'), { requestId: `more-${i}` });
    await aggregator.flush();
    const samples = batches[0]?.[0]?.samples ?? [];
    expect(samples).toHaveLength(2);
    expect(samples.every((s) => typeof s.requestId === 'string' && typeof s.at === 'string')).toBe(
      true,
    );
  });

  it('keeps only safe, short context strings', async () => {
    const { sink, batches } = recorder();
    const aggregator = new ErrorAggregator({ sinks: [sink], flushIntervalMs: 0 });
    const hostile = JSON.parse('{"__proto__": {"requestId": "polluted"}, "route": 42}');
    aggregator.capture(errorAt('a'), hostile);
    aggregator.capture(errorAt('a'), { requestId: 'x'.repeat(10_000) });
    await aggregator.flush();
    const [first, second] = batches[0]?.[0]?.samples ?? [];
    expect(first).toEqual({ at: expect.any(String) });
    expect(second?.requestId?.length).toBeLessThan(300);
    expect(({} as Record<string, unknown>).requestId).toBeUndefined();
  });

  it('caps reports per sink per minute; the surplus waits and is not lost', async () => {
    const clock = manualClock(Date.UTC(2026, 0, 1));
    const { sink, batches } = recorder();
    const aggregator = new ErrorAggregator({
      sinks: [sink],
      flushIntervalMs: 0,
      maxReportsPerMinute: 3,
      now: clock.now,
    });
    // An error storm: 10 distinct groups, one of them very frequent.
    for (let i = 0; i < 10; i++) aggregator.capture(errorAt(`place${i}`));
    for (let i = 0; i < 1_000; i++) aggregator.capture(errorAt('place9'));
    expect(await aggregator.flush()).toEqual({ delivered: 3, deferred: 7, failedSinks: [] });
    expect(await aggregator.flush()).toEqual({ delivered: 0, deferred: 7, failedSinks: [] });
    clock.advance(60_000);
    expect((await aggregator.flush()).delivered).toBe(3);
    clock.advance(60_000);
    await aggregator.flush();
    clock.advance(60_000);
    await aggregator.flush();
    const reported = batches.flat();
    expect(reported).toHaveLength(10);
    expect(new Set(reported.map((r) => r.fingerprint)).size).toBe(10);
    expect(reported.find((r) => r.message === 'failure at place9')?.count).toBe(1_001);
  });

  it('a failing sink loses nothing and does not hold the other sinks back', async () => {
    const good = recorder('good');
    let failing = true;
    const delivered: ErrorReport[][] = [];
    const flaky: ErrorSink = {
      name: 'flaky',
      send(reports) {
        if (failing) return err(CoreErrors.UNAVAILABLE('sink down'));
        delivered.push([...reports]);
        return undefined;
      },
    };
    const thrower: ErrorSink = {
      name: 'thrower',
      send() {
        throw new Error('sink bug');
      },
    };
    const sinkErrors: string[] = [];
    const aggregator = new ErrorAggregator({
      sinks: [flaky, good.sink, thrower],
      flushIntervalMs: 0,
      onSinkError: (error, name) => sinkErrors.push(`${name}:${error.code}`),
    });
    aggregator.capture(errorAt('a'));
    aggregator.capture(errorAt('a'));
    expect(await aggregator.flush()).toEqual({
      delivered: 1,
      deferred: 0,
      failedSinks: ['flaky', 'thrower'],
    });
    expect(sinkErrors.sort()).toEqual(['flaky:UNAVAILABLE', 'thrower:INTERNAL']);
    aggregator.capture(errorAt('a'));
    failing = false;
    await aggregator.flush();
    // The flaky sink gets all three occurrences in its first successful report.
    expect(delivered.flat().map((r) => [r.count, r.total])).toEqual([[3, 3]]);
    expect(good.batches.flat().map((r) => r.count)).toEqual([2, 1]);
    expect(aggregator.stats().sinkFailures).toBe(3);
  });

  it('gives up on a sink that hangs after sinkTimeoutMs', async () => {
    const hanging: ErrorSink = { name: 'hang', send: () => new Promise(() => undefined) };
    const aggregator = new ErrorAggregator({
      sinks: [hanging],
      flushIntervalMs: 0,
      sinkTimeoutMs: 50,
    });
    aggregator.capture(errorAt('a'));
    const summary = await aggregator.flush();
    expect(summary.failedSinks).toEqual(['hang']);
  });

  it('drops the least recently seen group beyond maxGroups, counting unsent occurrences', async () => {
    const { sink, batches } = recorder();
    const aggregator = new ErrorAggregator({ sinks: [sink], flushIntervalMs: 0, maxGroups: 2 });
    aggregator.capture(errorAt('a'));
    aggregator.capture(errorAt('a'));
    aggregator.capture(errorAt('b'));
    aggregator.capture(errorAt('a'));
    aggregator.capture(errorAt('c'));
    expect(aggregator.groups().map((g) => g.message)).toEqual(['failure at a', 'failure at c']);
    expect(aggregator.stats()).toMatchObject({ groups: 2, captured: 5, dropped: 1 });
    await aggregator.flush();
    expect(batches.flat()).toHaveLength(2);
  });

  it('captures anything without throwing', async () => {
    const { sink, batches } = recorder();
    const aggregator = new ErrorAggregator({ sinks: [sink], flushIntervalMs: 0 });
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('trap');
        },
      },
    );
    for (const value of [undefined, null, 'text', 42, { message: 1 }, hostile]) {
      expect(typeof aggregator.capture(value)).toBe('string');
    }
    await aggregator.flush();
    expect(batches.flat().length).toBeGreaterThanOrEqual(5);
  });

  it('rejects nonsense options', () => {
    expect(invalidOption(() => new ErrorAggregator({ sinks: 'x' as never }))).toBe('sinks');
    expect(invalidOption(() => new ErrorAggregator({ sinks: [{} as ErrorSink] }))).toBe('sinks[0]');
    expect(invalidOption(() => new ErrorAggregator({ sinks: [], windowMs: 0 }))).toBe('windowMs');
    expect(invalidOption(() => new ErrorAggregator({ sinks: [], maxReportsPerMinute: -1 }))).toBe(
      'maxReportsPerMinute',
    );
    expect(invalidOption(() => new ErrorAggregator({ sinks: [], keepWindows: 2.5 }))).toBe(
      'keepWindows',
    );
    expect(invalidOption(() => new ErrorAggregator({ sinks: [], sinkTimeoutMs: 0 }))).toBe(
      'sinkTimeoutMs',
    );
  });
});

describe('ErrorAggregator automatic flush', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('flushes flushIntervalMs after a capture, and close() flushes the rest and stops', async () => {
    const { sink, batches } = recorder();
    const aggregator = new ErrorAggregator({ sinks: [sink], flushIntervalMs: 1_000 });
    aggregator.capture(errorAt('a'));
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(batches).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
    aggregator.capture(errorAt('b'));
    await aggregator.close();
    expect(batches).toHaveLength(2);
    aggregator.capture(errorAt('c'));
    expect(vi.getTimerCount()).toBe(0);
  });
});
