import { isProdError, ok, type Result } from '@prod/core';
import { bulkhead, PolicyErrors } from '@prod/errors';
import { describe, expect, it } from 'vitest';
import { deferred, flushMicrotasks, invalidOption } from './helpers.js';

describe('bulkhead', () => {
  it('runs at most maxConcurrent at once and queues the next ones in order', async () => {
    const pool = bulkhead({ maxConcurrent: 2, maxQueue: 2 });
    const gates = [0, 1, 2, 3].map(() => deferred<Result<number, never>>());
    const started: number[] = [];
    const runs = gates.map((gate, i) =>
      pool.execute(() => {
        started.push(i);
        return gate.promise;
      }),
    );
    await flushMicrotasks();
    expect(started).toEqual([0, 1]);
    expect([pool.active, pool.queued]).toEqual([2, 2]);
    gates[1]?.resolve(ok(1));
    await flushMicrotasks();
    expect(started).toEqual([0, 1, 2]);
    gates[0]?.resolve(ok(0));
    gates[2]?.resolve(ok(2));
    gates[3]?.resolve(ok(3));
    expect((await Promise.all(runs)).map((r) => r.ok && r.value)).toEqual([0, 1, 2, 3]);
    expect([pool.active, pool.queued]).toEqual([0, 0]);
  });

  it('answers BULKHEAD_FULL at once when slots and queue are taken', async () => {
    const pool = bulkhead({ maxConcurrent: 1 });
    const rejected: number[] = [];
    pool.on('rejected', (e) => rejected.push(e.active));
    const gate = deferred<Result<number, never>>();
    const first = pool.execute(() => gate.promise);
    const r = await pool.execute(() => ok(2));
    expect(!r.ok && PolicyErrors.BULKHEAD_FULL.is(r.error)).toBe(true);
    expect(!r.ok && isProdError(r.error) && r.error.retryable).toBe(true);
    expect(rejected).toEqual([1]);
    gate.resolve(ok(1));
    await first;
  });

  it('removes an aborted call from the queue, answering ABORTED, without losing its slot', async () => {
    const pool = bulkhead({ maxConcurrent: 1, maxQueue: 5 });
    const gate = deferred<Result<number, never>>();
    const first = pool.execute(() => gate.promise);
    const controller = new AbortController();
    let abortedRan = false;
    const queued = pool.execute(
      () => {
        abortedRan = true;
        return ok(0);
      },
      { signal: controller.signal },
    );
    const after = pool.execute(() => ok('after'));
    await flushMicrotasks();
    expect(pool.queued).toBe(2);
    controller.abort();
    const r = await queued;
    expect(!r.ok && isProdError(r.error, 'ABORTED')).toBe(true);
    expect(pool.queued).toBe(1);
    gate.resolve(ok(1));
    expect(await after).toEqual({ ok: true, value: 'after' });
    await first;
    expect(abortedRan).toBe(false);
    expect(pool.active).toBe(0);
  });

  it('frees the slot when work throws or rejects', async () => {
    const pool = bulkhead({ maxConcurrent: 1 });
    const thrown = await pool.execute(() => {
      throw new Error('bug');
    });
    expect(!thrown.ok && isProdError(thrown.error, 'INTERNAL')).toBe(true);
    await pool.execute(() => Promise.reject(new Error('async bug')));
    expect(pool.active).toBe(0);
    expect(await pool.execute(() => ok('still works'))).toEqual({ ok: true, value: 'still works' });
  });

  it('rejects nonsense options', () => {
    expect(invalidOption(() => bulkhead({ maxConcurrent: 0 }))).toBe('maxConcurrent');
    expect(invalidOption(() => bulkhead({ maxConcurrent: 1, maxQueue: -1 }))).toBe('maxQueue');
    expect(invalidOption(() => bulkhead({ maxConcurrent: Number.POSITIVE_INFINITY }))).toBe(
      'maxConcurrent',
    );
    expect(invalidOption(() => bulkhead({} as { maxConcurrent: number }))).toBe('maxConcurrent');
    expect(invalidOption(() => bulkhead(undefined as unknown as { maxConcurrent: number }))).toBe(
      'options',
    );
  });
});
