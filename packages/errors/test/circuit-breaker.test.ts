import { CoreErrors, err, isProdError, ok, type ProdError, type Result } from '@prod/core';
import {
  bulkhead,
  type CircuitState,
  circuitBreaker,
  PolicyErrors,
  policy,
  type StateChangeEvent,
} from '@prod/errors';
import { describe, expect, it } from 'vitest';
import { debugLogger, deferred, invalidOption, manualClock, unavailable } from './helpers.js';

const fail = (): Result<never, ProdError> => err(unavailable());
const succeed = (): Result<string, never> => ok('ok');

describe('circuitBreaker: consecutive failures', () => {
  it('opens after N consecutive failures and rejects with CIRCUIT_OPEN + retryAfterMs', async () => {
    const clock = manualClock();
    const breaker = circuitBreaker({
      consecutiveFailures: 3,
      halfOpenAfterMs: 5_000,
      now: clock.now,
    });
    await breaker.execute(fail);
    await breaker.execute(fail);
    expect(breaker.state).toBe('closed');
    await breaker.execute(fail);
    expect(breaker.state).toBe('open');
    clock.advance(1_000);
    let ran = false;
    const r = await breaker.execute(() => {
      ran = true;
      return ok(1);
    });
    expect(ran).toBe(false);
    expect(!r.ok && PolicyErrors.CIRCUIT_OPEN.is(r.error)).toBe(true);
    expect(!r.ok && (r.error as ProdError).retryAfterMs).toBe(4_000);
    expect(!r.ok && (r.error as ProdError).status).toBe(503);
    expect(!r.ok && (r.error as ProdError).retryable).toBe(true);
  });

  it('a success resets the consecutive count', async () => {
    const breaker = circuitBreaker({ consecutiveFailures: 2 });
    await breaker.execute(fail);
    await breaker.execute(succeed);
    await breaker.execute(fail);
    expect(breaker.state).toBe('closed');
    expect(breaker.stats().consecutiveFailures).toBe(1);
  });

  it('does not count expected errors (4xx, not retryable) unless isFailure says so', async () => {
    const breaker = circuitBreaker({ consecutiveFailures: 1 });
    await breaker.execute(() => err(CoreErrors.NOT_FOUND()));
    expect(breaker.state).toBe('closed');
    const strict = circuitBreaker({ consecutiveFailures: 1, isFailure: () => true });
    await strict.execute(() => err(CoreErrors.NOT_FOUND()));
    expect(strict.state).toBe('open');
  });

  it('counts throws and non-ProdError errors as failures', async () => {
    const breaker = circuitBreaker({ consecutiveFailures: 2 });
    await breaker.execute(() => {
      throw new Error('bug');
    });
    await breaker.execute(() => err('string error'));
    expect(breaker.state).toBe('open');
  });

  it('ignores local rejections (BULKHEAD_FULL, ABORTED) from inner policies', async () => {
    const breaker = circuitBreaker({ consecutiveFailures: 1 });
    const pool = bulkhead({ maxConcurrent: 1 });
    const held = deferred<Result<number, never>>();
    const first = policy(breaker, pool).execute(() => held.promise);
    const rejected = await policy(breaker, pool).execute(succeed);
    expect(!rejected.ok && isProdError(rejected.error, 'BULKHEAD_FULL')).toBe(true);
    await breaker.execute(() => err(CoreErrors.ABORTED()));
    expect(breaker.state).toBe('closed');
    held.resolve(ok(1));
    await first;
  });
});

describe('circuitBreaker: half-open', () => {
  async function openBreaker(options: { halfOpenMaxCalls?: number } = {}) {
    const clock = manualClock();
    const breaker = circuitBreaker({
      consecutiveFailures: 1,
      halfOpenAfterMs: 1_000,
      now: clock.now,
      ...options,
    });
    const changes: StateChangeEvent[] = [];
    breaker.on('stateChange', (e) => changes.push(e));
    await breaker.execute(fail);
    return { breaker, clock, changes };
  }

  it('goes half-open after halfOpenAfterMs (seen by `state` without a call, no timer)', async () => {
    const { breaker, clock, changes } = await openBreaker();
    expect(breaker.state).toBe('open');
    clock.advance(999);
    expect(breaker.state).toBe('open');
    clock.advance(1);
    expect(breaker.state).toBe('halfOpen');
    expect(changes.map((c) => `${c.from}->${c.to}:${c.reason}`)).toEqual([
      'closed->open:consecutiveFailures',
      'open->halfOpen:halfOpenAfter',
    ]);
  });

  it('a successful trial closes the circuit', async () => {
    const { breaker, clock, changes } = await openBreaker();
    clock.advance(1_000);
    expect(await breaker.execute(succeed)).toEqual({ ok: true, value: 'ok' });
    expect(breaker.state).toBe('closed');
    expect(changes.at(-1)).toEqual({ from: 'halfOpen', to: 'closed', reason: 'trialsSucceeded' });
  });

  it('a failed trial reopens it for another full wait', async () => {
    const { breaker, clock, changes } = await openBreaker();
    clock.advance(1_000);
    await breaker.execute(fail);
    expect(breaker.state).toBe('open');
    expect(changes.at(-1)).toEqual({ from: 'halfOpen', to: 'open', reason: 'trialFailed' });
    clock.advance(500);
    const r = await breaker.execute(succeed);
    expect(!r.ok && (r.error as ProdError).retryAfterMs).toBe(500);
  });

  it('rejects concurrent calls beyond halfOpenMaxCalls while trials run', async () => {
    const { breaker, clock } = await openBreaker({ halfOpenMaxCalls: 2 });
    clock.advance(1_000);
    const trials = [deferred<Result<string, never>>(), deferred<Result<string, never>>()];
    let started = 0;
    const t1 = breaker.execute(() => trials[started++]?.promise ?? succeed());
    const t2 = breaker.execute(() => trials[started++]?.promise ?? succeed());
    const extra = await breaker.execute(succeed);
    expect(started).toBe(2);
    expect(!extra.ok && PolicyErrors.CIRCUIT_OPEN.is(extra.error)).toBe(true);
    expect(!extra.ok && (extra.error as ProdError).details).toEqual({ state: 'halfOpen' });
    expect(breaker.stats().halfOpenTrialsInFlight).toBe(2);
    trials[0]?.resolve(ok('a'));
    await t1;
    // One of two trials succeeded: still half-open, and the freed slot is not reusable
    // (the limit counts every trial of this half-open period).
    expect(breaker.state).toBe('halfOpen');
    const stillRejected = await breaker.execute(succeed);
    expect(stillRejected.ok).toBe(false);
    trials[1]?.resolve(ok('b'));
    await t2;
    expect(breaker.state).toBe('closed');
  });

  it('one failing trial among concurrent ones reopens; the other late trial is ignored', async () => {
    const { breaker, clock } = await openBreaker({ halfOpenMaxCalls: 2 });
    clock.advance(1_000);
    const slow = deferred<Result<string, never>>();
    const t1 = breaker.execute(() => slow.promise);
    await breaker.execute(fail);
    expect(breaker.state).toBe('open');
    slow.resolve(ok('late success'));
    expect(await t1).toEqual({ ok: true, value: 'late success' });
    expect(breaker.state).toBe('open');
  });

  it('an aborted trial frees its slot instead of closing the circuit', async () => {
    const { breaker, clock } = await openBreaker();
    clock.advance(1_000);
    await breaker.execute(() => err(CoreErrors.ABORTED()));
    expect(breaker.state).toBe('halfOpen');
    expect(await breaker.execute(succeed)).toEqual({ ok: true, value: 'ok' });
    expect(breaker.state).toBe('closed');
  });
});

describe('circuitBreaker: failure rate over a sliding window', () => {
  it('opens when the failure ratio reaches the threshold after minimumCalls', async () => {
    const clock = manualClock();
    const breaker = circuitBreaker({
      failureRate: { threshold: 0.5, minimumCalls: 4, windowMs: 10_000 },
      now: clock.now,
    });
    await breaker.execute(fail);
    await breaker.execute(fail);
    await breaker.execute(fail);
    // 3 failures of 3 calls, but fewer than minimumCalls.
    expect(breaker.state).toBe('closed');
    await breaker.execute(succeed);
    await breaker.execute(succeed);
    expect(breaker.state).toBe('closed');
    await breaker.execute(fail);
    // 4 of 6 >= 50 %.
    expect(breaker.state).toBe('open');
  });

  it('forgets calls that left the window', async () => {
    const clock = manualClock();
    const breaker = circuitBreaker({
      failureRate: { threshold: 0.5, minimumCalls: 4, windowMs: 1_000 },
      now: clock.now,
    });
    for (let i = 0; i < 3; i++) await breaker.execute(fail);
    clock.advance(2_000);
    await breaker.execute(fail);
    expect(breaker.stats()).toMatchObject({ windowCalls: 1, windowFailures: 1, state: 'closed' });
    for (let i = 0; i < 6; i++) await breaker.execute(succeed);
    await breaker.execute(fail);
    expect(breaker.state).toBe('closed');
  });

  it('counts slow calls as failures, still returning their result', async () => {
    const clock = manualClock();
    const breaker = circuitBreaker({
      failureRate: { threshold: 0.5, minimumCalls: 2 },
      slowCallThresholdMs: 100,
      now: clock.now,
    });
    const failures: boolean[] = [];
    breaker.on('failure', (e) => failures.push(e.slow));
    const slow = async (): Promise<Result<string, never>> => {
      clock.advance(150);
      return ok('slow but fine');
    };
    expect(await breaker.execute(slow)).toEqual({ ok: true, value: 'slow but fine' });
    expect(await breaker.execute(slow)).toEqual({ ok: true, value: 'slow but fine' });
    expect(breaker.state).toBe('open');
    expect(failures).toEqual([true, true]);
  });
});

describe('circuitBreaker: manual control and events', () => {
  it('isolate() rejects everything until reset()', async () => {
    const breaker = circuitBreaker();
    const states: CircuitState[] = [];
    breaker.on('stateChange', (e) => states.push(e.to));
    breaker.isolate();
    const r = await breaker.execute(succeed);
    expect(!r.ok && (r.error as ProdError).message).toBe('Circuit isolated');
    expect(!r.ok && (r.error as ProdError).retryAfterMs).toBeUndefined();
    expect(breaker.state).toBe('isolated');
    breaker.reset();
    expect(await breaker.execute(succeed)).toEqual({ ok: true, value: 'ok' });
    expect(states).toEqual(['isolated', 'closed']);
  });

  it('reset() forgets counts and ignores outcomes of calls started before it', async () => {
    const breaker = circuitBreaker({ consecutiveFailures: 2 });
    await breaker.execute(fail);
    const held = deferred<Result<never, ProdError>>();
    const pending = breaker.execute(() => held.promise);
    breaker.reset();
    held.resolve(err(unavailable()));
    await pending;
    await breaker.execute(fail);
    expect(breaker.state).toBe('closed');
    expect(breaker.stats().consecutiveFailures).toBe(1);
  });

  it('emits rejected events', async () => {
    const breaker = circuitBreaker();
    const rejected: string[] = [];
    breaker.on('rejected', (e) => rejected.push(e.state));
    breaker.isolate();
    await breaker.execute(succeed);
    expect(rejected).toEqual(['isolated']);
  });

  it('rejects nonsense options', () => {
    expect(invalidOption(() => circuitBreaker({ consecutiveFailures: 0 }))).toBe(
      'consecutiveFailures',
    );
    expect(invalidOption(() => circuitBreaker({ halfOpenMaxCalls: 0 }))).toBe('halfOpenMaxCalls');
    expect(invalidOption(() => circuitBreaker({ halfOpenAfterMs: -1 }))).toBe('halfOpenAfterMs');
    expect(invalidOption(() => circuitBreaker({ failureRate: { threshold: 0 } }))).toBe(
      'failureRate.threshold',
    );
    expect(invalidOption(() => circuitBreaker({ failureRate: { threshold: 1.5 } }))).toBe(
      'failureRate.threshold',
    );
    expect(
      invalidOption(() => circuitBreaker({ failureRate: { threshold: 0.5, windowMs: 0 } })),
    ).toBe('failureRate.windowMs');
    expect(invalidOption(() => circuitBreaker({ slowCallThresholdMs: Number.NaN }))).toBe(
      'slowCallThresholdMs',
    );
    expect(invalidOption(() => circuitBreaker({ logger: {} as never }))).toBe('logger');
  });
});

describe('circuitBreaker: debug lines', () => {
  it('writes one per state change, named, through its logger', async () => {
    const clock = manualClock();
    const logger = debugLogger();
    const breaker = circuitBreaker({
      consecutiveFailures: 1,
      halfOpenAfterMs: 100,
      now: clock.now,
      logger,
      name: 'payments',
    });
    await breaker.execute(fail);
    clock.advance(100);
    await breaker.execute(succeed);
    expect(logger.lines.map((line) => line.obj)).toEqual([
      {
        breaker: 'payments',
        from: 'closed',
        to: 'open',
        reason: 'consecutiveFailures',
        consecutiveFailures: 1,
      },
      {
        breaker: 'payments',
        from: 'open',
        to: 'halfOpen',
        reason: 'halfOpenAfter',
        consecutiveFailures: 1,
      },
      {
        breaker: 'payments',
        from: 'halfOpen',
        to: 'closed',
        reason: 'trialsSucceeded',
        consecutiveFailures: 0,
      },
    ]);
    expect(new Set(logger.lines.map((line) => line.msg))).toEqual(
      new Set(['circuit breaker: state change']),
    );
  });
});
