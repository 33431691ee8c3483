import { CoreErrors, err, isProdError, ok, type Result } from '@prod/core';
import {
  bulkhead,
  circuitBreaker,
  fallback,
  type Policy,
  policy,
  retry,
  timeout,
} from '@prod/errors';
import { describe, expect, it } from 'vitest';
import { flaky, invalidOption, unavailable } from './helpers.js';

describe('Policy.execute: what work may do', () => {
  const p = retry({ maxAttempts: 1 });

  it('passes an Ok and an Err through unchanged', async () => {
    expect(await p.execute(() => ok(1))).toEqual({ ok: true, value: 1 });
    const error = CoreErrors.NOT_FOUND('no note');
    const r = await p.execute(async () => err(error));
    expect(r).toEqual({ ok: false, error });
    expect(!r.ok && r.error).toBe(error);
  });

  it('turns a synchronous throw into Err(ProdError.from(thrown))', async () => {
    const r = await p.execute(() => {
      throw new TypeError('bug');
    });
    expect(r.ok).toBe(false);
    expect(!r.ok && isProdError(r.error, 'INTERNAL')).toBe(true);
    expect(!r.ok && (r.error as Error).cause).toBeInstanceOf(TypeError);
  });

  it('turns a rejection into an Err, keeping the retryable classification', async () => {
    const r = await p.execute(() =>
      Promise.reject(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })),
    );
    expect(!r.ok && isProdError(r.error, 'UNAVAILABLE')).toBe(true);
  });

  it('reports a plain value (not a Result) as INTERNAL instead of passing it off as success', async () => {
    const r = await p.execute((() => 42) as unknown as () => Result<number, never>);
    expect(r.ok).toBe(false);
    expect(!r.ok && (r.error as Error).message).toMatch(/must return a Result/);
    const nul = await p.execute((() => null) as unknown as () => Result<number, never>);
    expect(nul.ok).toBe(false);
  });

  it('gives work a signal and the attempt number', async () => {
    const seen: Array<[boolean, number]> = [];
    const r = await retry({ maxAttempts: 3, backoff: () => 0 }).execute(({ signal, attempt }) => {
      seen.push([signal instanceof AbortSignal && !signal.aborted, attempt]);
      return attempt < 3 ? err(unavailable()) : ok('done');
    });
    expect(r).toEqual({ ok: true, value: 'done' });
    expect(seen).toEqual([
      [true, 1],
      [true, 2],
      [true, 3],
    ]);
  });

  it('does not run work when the caller signal is already aborted', async () => {
    let ran = false;
    const controller = new AbortController();
    controller.abort();
    const r = await p.execute(
      () => {
        ran = true;
        return ok(1);
      },
      { signal: controller.signal },
    );
    expect(ran).toBe(false);
    expect(!r.ok && isProdError(r.error, 'ABORTED')).toBe(true);
  });

  it('hands the caller signal itself to the work when no timeout is in between', async () => {
    const controller = new AbortController();
    let received: AbortSignal | undefined;
    await p.execute(
      ({ signal }) => {
        received = signal;
        return ok(1);
      },
      { signal: controller.signal },
    );
    expect(received).toBe(controller.signal);
  });
});

describe('policy(...) composition', () => {
  it('runs the first policy outermost: retry around a breaker sees CIRCUIT_OPEN', async () => {
    const breaker = circuitBreaker({ consecutiveFailures: 2, halfOpenAfterMs: 60_000 });
    const r = await policy(
      retry({ maxAttempts: 5, backoff: () => 0, maxRetryAfterMs: 1 }),
      breaker,
    ).execute(() => err(unavailable()));
    // Two failures open the circuit; the third attempt is rejected and its 60 s retry-after
    // is longer than retry accepts, so retry gives up with CIRCUIT_OPEN.
    expect(!r.ok && isProdError(r.error, 'CIRCUIT_OPEN')).toBe(true);
    expect(breaker.state).toBe('open');
  });

  it('flattens nested compositions and shares state with the policies it was built from', async () => {
    const breaker = circuitBreaker({ consecutiveFailures: 1 });
    const inner = policy(breaker, timeout(1_000));
    const outer = policy(retry({ maxAttempts: 1 }), inner);
    await outer.execute(() => err(unavailable()));
    expect(breaker.state).toBe('open');
    const r = await breaker.execute(() => ok(1));
    expect(!r.ok && isProdError(r.error, 'CIRCUIT_OPEN')).toBe(true);
  });

  it('an empty composition just runs the work, still catching throws', async () => {
    expect(await policy().execute(() => ok(3))).toEqual({ ok: true, value: 3 });
    const r = await policy().execute(() => {
      throw new Error('x');
    });
    expect(!r.ok && isProdError(r.error, 'INTERNAL')).toBe(true);
  });

  it('accepts a policy written outside the package', async () => {
    const calls: string[] = [];
    const logging: Policy = {
      async execute(work, options) {
        calls.push(`before:${options?.signal === undefined ? 'nosignal' : 'signal'}`);
        const r = await work({ signal: new AbortController().signal, attempt: 1 });
        calls.push(`after:${r.ok}`);
        return r;
      },
    };
    const f = flaky(1, 'v');
    const r = await policy(retry({ maxAttempts: 2, backoff: () => 0 }), logging).execute(f.work);
    expect(r).toEqual({ ok: true, value: 'v' });
    expect(calls).toEqual(['before:nosignal', 'after:false', 'before:nosignal', 'after:true']);
  });

  it('turns a foreign policy that rejects into an Err', async () => {
    const broken: Policy = { execute: () => Promise.reject(new Error('broken policy')) };
    const r = await policy(broken).execute(() => ok(1));
    expect(!r.ok && isProdError(r.error, 'INTERNAL')).toBe(true);
  });

  it('throws ERRORS_INVALID_OPTIONS for arguments that are not policies (a bug, not an outcome)', () => {
    expect(invalidOption(() => policy({} as Policy))).toBe('policies[0]');
    expect(invalidOption(() => policy(retry(), null as unknown as Policy))).toBe('policies[1]');
  });

  it('composes all five in the recommended order', async () => {
    const r = await policy(
      fallback(() => ok('cached')),
      retry({ maxAttempts: 2, backoff: () => 0 }),
      circuitBreaker(),
      bulkhead({ maxConcurrent: 2 }),
      timeout(1_000),
    ).execute(() => err(unavailable()));
    expect(r).toEqual({ ok: true, value: 'cached' });
  });
});
