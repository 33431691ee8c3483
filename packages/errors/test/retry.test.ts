import { CoreErrors, err, isProdError, ok } from '@prod/core';
import {
  constantBackoff,
  type GiveUpEvent,
  isRetryable,
  PolicyErrors,
  type RetryEvent,
  retry,
  retryBudget,
} from '@prod/errors';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { debugLogger, flaky, invalidOption, unavailable } from './helpers.js';

describe('retry', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('returns the first success without waiting or retrying', async () => {
    const f = flaky(0, 'v');
    expect(await retry().execute(f.work)).toEqual({ ok: true, value: 'v' });
    expect(f.calls()).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('retries retryable errors until success', async () => {
    const f = flaky(2, 'v');
    const pending = retry({ maxAttempts: 3, backoff: constantBackoff(10) }).execute(f.work);
    await vi.runAllTimersAsync();
    expect(await pending).toEqual({ ok: true, value: 'v' });
    expect(f.calls()).toBe(3);
  });

  it('gives up after maxAttempts and returns the last error unchanged', async () => {
    const errors = [unavailable('one'), unavailable('two')];
    let call = 0;
    const policy = retry({ maxAttempts: 2, backoff: constantBackoff(5) });
    const giveUps: GiveUpEvent[] = [];
    policy.on('giveUp', (e) => giveUps.push(e));
    const pending = policy.execute(() => err(errors[call++]));
    await vi.runAllTimersAsync();
    const r = await pending;
    expect(!r.ok && r.error).toBe(errors[1]);
    expect(giveUps).toEqual([{ reason: 'maxAttempts', attempts: 2, error: errors[1] }]);
  });

  it('does not retry errors that are not retryable (by default: not ProdError.retryable)', async () => {
    let calls = 0;
    const notFound = CoreErrors.NOT_FOUND('gone');
    const r = await retry({ maxAttempts: 5 }).execute(() => {
      calls += 1;
      return err(notFound);
    });
    expect(calls).toBe(1);
    expect(!r.ok && r.error).toBe(notFound);
    const plain = await retry({ maxAttempts: 5 }).execute(() => err('a string error'));
    expect(plain).toEqual({ ok: false, error: 'a string error' });
  });

  it('does not retry a throw (a bug becomes INTERNAL, which is not retryable)', async () => {
    let calls = 0;
    const r = await retry({ maxAttempts: 5 }).execute(() => {
      calls += 1;
      throw new Error('bug');
    });
    expect(calls).toBe(1);
    expect(!r.ok && isProdError(r.error, 'INTERNAL')).toBe(true);
  });

  it('uses retryIf for custom error types, with the attempt number', async () => {
    const seen: number[] = [];
    const pending = retry({
      maxAttempts: 4,
      backoff: constantBackoff(1),
      retryIf: (error, attempt) => {
        seen.push(attempt);
        return error === 'busy';
      },
    }).execute(({ attempt }) => err(attempt < 3 ? 'busy' : 'fatal'));
    await vi.runAllTimersAsync();
    expect(await pending).toEqual({ ok: false, error: 'fatal' });
    expect(seen).toEqual([1, 2, 3]);
  });

  it('emits retry events with the delay it is about to wait', async () => {
    const events: RetryEvent[] = [];
    const policy = retry({ maxAttempts: 3, backoff: constantBackoff(25) });
    policy.on('retry', (e) => events.push(e));
    const pending = policy.execute(flaky(2, 1).work);
    await vi.runAllTimersAsync();
    await pending;
    expect(events.map((e) => [e.attempt, e.delayMs])).toEqual([
      [1, 25],
      [2, 25],
    ]);
  });

  it('stops listening after unsubscribe, and survives a listener that throws', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const policy = retry({ maxAttempts: 2, backoff: constantBackoff(0) });
    let count = 0;
    const off = policy.on('retry', () => {
      count += 1;
    });
    policy.on('retry', () => {
      throw new Error('listener bug');
    });
    const pending = policy.execute(flaky(1, 'v').work);
    await vi.runAllTimersAsync();
    expect(await pending).toEqual({ ok: true, value: 'v' });
    off();
    const again = policy.execute(flaky(1, 'v').work);
    await vi.runAllTimersAsync();
    await again;
    expect(count).toBe(1);
    expect(warn).toHaveBeenCalled();
  });

  it('honours retryAfterMs as a minimum delay', async () => {
    const attemptsAt: number[] = [];
    const pending = retry({ maxAttempts: 2, backoff: constantBackoff(10) }).execute(() => {
      attemptsAt.push(Date.now());
      return attemptsAt.length === 1
        ? err(CoreErrors.RATE_LIMITED({ retryAfterMs: 3_000 }))
        : ok('after');
    });
    await vi.runAllTimersAsync();
    expect(await pending).toEqual({ ok: true, value: 'after' });
    expect((attemptsAt[1] ?? 0) - (attemptsAt[0] ?? 0)).toBeGreaterThanOrEqual(3_000);
  });

  it('gives up at once when retryAfterMs is longer than maxRetryAfterMs', async () => {
    const giveUps: GiveUpEvent[] = [];
    const policy = retry({ maxAttempts: 5, maxRetryAfterMs: 1_000 });
    policy.on('giveUp', (e) => giveUps.push(e));
    const r = await policy.execute(() => err(PolicyErrors.CIRCUIT_OPEN({ retryAfterMs: 30_000 })));
    expect(!r.ok && isProdError(r.error, 'CIRCUIT_OPEN')).toBe(true);
    expect(giveUps[0]?.reason).toBe('retryAfterTooLong');
  });

  it('ignores retryAfterMs when honorRetryAfter is false', async () => {
    let calls = 0;
    const pending = retry({
      maxAttempts: 2,
      backoff: constantBackoff(1),
      honorRetryAfter: false,
      maxRetryAfterMs: 10,
    }).execute(() => {
      calls += 1;
      return err(CoreErrors.RATE_LIMITED({ retryAfterMs: 60_000 }));
    });
    await vi.advanceTimersByTimeAsync(5);
    await pending;
    expect(calls).toBe(2);
  });

  it('gives up rather than wait past maxTotalTimeMs', async () => {
    const giveUps: GiveUpEvent[] = [];
    let calls = 0;
    const policy = retry({
      maxAttempts: 100,
      backoff: constantBackoff(400),
      maxTotalTimeMs: 1_000,
      now: () => Date.now(),
    });
    policy.on('giveUp', (e) => giveUps.push(e));
    const pending = policy.execute(() => {
      calls += 1;
      return err(unavailable());
    });
    await vi.runAllTimersAsync();
    await pending;
    // Attempts at 0, 400, 800; a wait to 1 200 would pass the limit.
    expect(calls).toBe(3);
    expect(giveUps[0]?.reason).toBe('maxTotalTime');
  });

  it('stops waiting when the caller aborts, answering ABORTED', async () => {
    const controller = new AbortController();
    let calls = 0;
    const pending = retry({ maxAttempts: 5, backoff: constantBackoff(10_000) }).execute(
      () => {
        calls += 1;
        return err(unavailable());
      },
      { signal: controller.signal },
    );
    await vi.advanceTimersByTimeAsync(100);
    controller.abort();
    const r = await pending;
    expect(!r.ok && isProdError(r.error, 'ABORTED')).toBe(true);
    expect(calls).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stops when a budget shared with other callers is spent', async () => {
    const budget = retryBudget({ ratio: 0, minRetriesPerSecond: 0.1, windowMs: 10_000 });
    const giveUps: GiveUpEvent[] = [];
    const a = retry({ maxAttempts: 3, backoff: constantBackoff(0), budget });
    const b = retry({ maxAttempts: 3, backoff: constantBackoff(0), budget });
    b.on('giveUp', (e) => giveUps.push(e));
    let calls = 0;
    const failing = () => {
      calls += 1;
      return err(unavailable());
    };
    await a.execute(failing);
    // The floor (0.1/s over 10 s) allows one retry in the window: a used it.
    expect(calls).toBe(2);
    await b.execute(failing);
    expect(calls).toBe(3);
    expect(giveUps[0]?.reason).toBe('budget');
  });

  it('writes a debug line per wait and one when it gives up, through its logger', async () => {
    const logger = debugLogger();
    const f = flaky(5, 'v');
    const pending = retry({ maxAttempts: 2, backoff: constantBackoff(10), logger }).execute(f.work);
    await vi.runAllTimersAsync();
    await pending;
    expect(logger.lines).toEqual([
      {
        obj: { attempt: 1, delayMs: 10, code: 'UNAVAILABLE' },
        msg: 'retry: attempt failed, waiting',
      },
      { obj: { reason: 'maxAttempts', attempts: 2, code: 'UNAVAILABLE' }, msg: 'retry: gave up' },
    ]);
  });

  it('builds no debug line when the logger says debug is off', async () => {
    const logger = debugLogger(false);
    const debug = vi.spyOn(logger, 'debug');
    const pending = retry({ maxAttempts: 2, backoff: constantBackoff(10), logger }).execute(
      flaky(5, 'v').work,
    );
    await vi.runAllTimersAsync();
    await pending;
    expect(debug).not.toHaveBeenCalled();
  });

  it('rejects nonsense options', () => {
    expect(invalidOption(() => retry({ maxAttempts: 0 }))).toBe('maxAttempts');
    expect(invalidOption(() => retry({ maxAttempts: 1.5 }))).toBe('maxAttempts');
    expect(invalidOption(() => retry({ maxTotalTimeMs: -1 }))).toBe('maxTotalTimeMs');
    expect(invalidOption(() => retry({ maxRetryAfterMs: Number.NaN }))).toBe('maxRetryAfterMs');
    expect(invalidOption(() => retry({ backoff: 100 as never }))).toBe('backoff');
    expect(invalidOption(() => retry({ budget: {} as never }))).toBe('budget');
    // Infinity means "no limit" where the TSDoc says so.
    expect(invalidOption(() => retry({ maxTotalTimeMs: Number.POSITIVE_INFINITY }))).toBe(
      undefined,
    );
    expect(invalidOption(() => retry({ maxAttempts: Number.POSITIVE_INFINITY }))).toBe(
      'maxAttempts',
    );
  });

  it('isRetryable reads the ProdError flag only', () => {
    expect(isRetryable(unavailable())).toBe(true);
    expect(isRetryable(CoreErrors.BAD_REQUEST())).toBe(false);
    expect(isRetryable({ retryable: true })).toBe(false);
    expect(isRetryable(undefined)).toBe(false);
  });
});

describe('ERRORS_INVALID_OPTIONS', () => {
  it('names the option, what was expected and what was found', () => {
    let thrown: unknown;
    try {
      retry({ maxAttempts: 0 });
    } catch (error) {
      thrown = error;
    }
    expect(PolicyErrors.ERRORS_INVALID_OPTIONS.is(thrown)).toBe(true);
    expect((thrown as Error).message).toBe('option maxAttempts must be an integer >= 1, got 0');
    expect((thrown as { details: unknown }).details).toEqual({
      option: 'maxAttempts',
      expected: 'an integer >= 1',
      received: '0',
    });
  });
});
