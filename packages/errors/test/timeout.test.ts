import { CoreErrors, err, isProdError, ok } from '@prod/core';
import { policy, retry, type TimeoutEvent, timeout } from '@prod/errors';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { deferred, invalidOption } from './helpers.js';

describe('timeout', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets fast work through and leaves no timer behind', async () => {
    expect(await timeout(100).execute(async () => ok('fast'))).toEqual({ ok: true, value: 'fast' });
    expect(await timeout(100).execute(() => err('nope'))).toEqual({ ok: false, error: 'nope' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('answers TIMEOUT at the deadline and aborts the work signal with the same error', async () => {
    let workSignal: AbortSignal | undefined;
    const events: TimeoutEvent[] = [];
    const policy = timeout({ ms: 50 });
    policy.on('timeout', (e) => events.push(e));
    const pending = policy.execute(({ signal }) => {
      workSignal = signal;
      return new Promise<never>(() => undefined);
    });
    await vi.advanceTimersByTimeAsync(50);
    const r = await pending;
    expect(!r.ok && isProdError(r.error, 'TIMEOUT')).toBe(true);
    expect(!r.ok && CoreErrors.TIMEOUT.is(r.error) && r.error.details).toEqual({ timeoutMs: 50 });
    expect(workSignal?.aborted).toBe(true);
    expect(!r.ok && workSignal?.reason).toBe(!r.ok && r.error);
    expect(events).toEqual([{ timeoutMs: 50, attempt: 1 }]);
  });

  it('does not wait for work that ignores its signal; the late result is dropped', async () => {
    const held = deferred<{ ok: true; value: string }>();
    const pending = timeout(10).execute(() => held.promise);
    await vi.advanceTimersByTimeAsync(10);
    held.resolve(ok('late'));
    const r = await pending;
    expect(!r.ok && isProdError(r.error, 'TIMEOUT')).toBe(true);
  });

  it('answers ABORTED at once when the caller aborts, and aborts the work', async () => {
    const controller = new AbortController();
    let workSignal: AbortSignal | undefined;
    const pending = timeout(10_000).execute(
      ({ signal }) => {
        workSignal = signal;
        return new Promise<never>(() => undefined);
      },
      { signal: controller.signal },
    );
    await vi.advanceTimersByTimeAsync(1);
    controller.abort();
    const r = await pending;
    expect(!r.ok && isProdError(r.error, 'ABORTED')).toBe(true);
    expect(workSignal?.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a caller signal aborted with a TimeoutError reason reads as TIMEOUT', async () => {
    const controller = new AbortController();
    const pending = timeout(10_000).execute(() => new Promise<never>(() => undefined), {
      signal: controller.signal,
    });
    controller.abort(new DOMException('caller deadline', 'TimeoutError'));
    const r = await pending;
    expect(!r.ok && isProdError(r.error, 'TIMEOUT')).toBe(true);
  });

  it('bounds each attempt when placed inside retry, and the attempt number reaches the work', async () => {
    const attempts: number[] = [];
    const pending = policy(retry({ maxAttempts: 3, backoff: () => 0 }), timeout(20)).execute(
      ({ attempt, signal }) => {
        attempts.push(attempt);
        if (attempt < 3) return new Promise<never>(() => undefined);
        return ok(signal.aborted ? 'aborted?' : 'third');
      },
    );
    await vi.advanceTimersByTimeAsync(100);
    expect(await pending).toEqual({ ok: true, value: 'third' });
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('bounds the whole retry loop when placed outside it, stopping the retries', async () => {
    let calls = 0;
    const pending = policy(timeout(1_000), retry({ maxAttempts: 50, backoff: () => 300 })).execute(
      () => {
        calls += 1;
        return err(CoreErrors.UNAVAILABLE());
      },
    );
    await vi.advanceTimersByTimeAsync(1_000);
    const r = await pending;
    expect(!r.ok && isProdError(r.error, 'TIMEOUT')).toBe(true);
    await vi.advanceTimersByTimeAsync(5_000);
    // Attempts at 0, 300, 600, 900; the wait that ends at 1 200 was cut by the timeout.
    expect(calls).toBe(4);
  });

  it('nested timeouts: the shorter one wins, and an outer abort reaches the inner work', async () => {
    let workSignal: AbortSignal | undefined;
    const pending = policy(timeout(30), timeout(1_000)).execute(({ signal }) => {
      workSignal = signal;
      return new Promise<never>(() => undefined);
    });
    await vi.advanceTimersByTimeAsync(30);
    const r = await pending;
    expect(!r.ok && isProdError(r.error, 'TIMEOUT')).toBe(true);
    expect(!r.ok && (r.error as { details?: unknown }).details).toEqual({ timeoutMs: 30 });
    expect(workSignal?.aborted).toBe(true);
  });

  it('rejects nonsense durations', () => {
    expect(invalidOption(() => timeout(-1))).toBe('ms');
    expect(invalidOption(() => timeout(Number.NaN))).toBe('ms');
    expect(invalidOption(() => timeout(2 ** 31))).toBe('ms');
    expect(invalidOption(() => timeout('100' as unknown as number))).toBe('ms');
    expect(invalidOption(() => timeout({} as { ms: number }))).toBe('ms');
  });
});
