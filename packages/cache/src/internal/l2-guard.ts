import { err, isProdError, ok, ProdError } from '@prod/core';
import {
  type CircuitBreaker,
  type CircuitBreakerOptions,
  circuitBreaker,
  type Policy,
  policy,
  timeout,
} from '@prod/errors';
import { CacheErrors } from '../errors.js';
import type { Counters } from './metrics.js';

/** What a guarded call answers when L2 failed, timed out or was skipped (circuit open). */
export const FAILED: unique symbol = Symbol('@prod/cache L2 failed');
export type Failed = typeof FAILED;

/**
 * Every call to the shared tier goes through here: a timeout (a call never waits longer than
 * `timeoutMs`) inside a circuit breaker (after repeated failures, L2 is skipped at once until
 * a trial call succeeds), both from @prod/errors. A failure never throws: it is counted,
 * reported, and answered as {@link FAILED}.
 */
export class L2Guard {
  readonly breaker: CircuitBreaker;
  private readonly policy: Policy;

  constructor(
    timeoutMs: number,
    breakerOptions: CircuitBreakerOptions,
    private readonly counters: Counters,
    private readonly report: (operation: string, error: ProdError<'CACHE_L2_UNAVAILABLE'>) => void,
  ) {
    this.breaker = circuitBreaker({
      consecutiveFailures: 5,
      halfOpenAfterMs: 5_000,
      ...breakerOptions,
    });
    this.policy = policy(this.breaker, timeout(timeoutMs));
  }

  async call<TValue>(operation: string, work: () => Promise<TValue>): Promise<TValue | Failed> {
    const result = await this.policy.execute<TValue, ProdError>(() =>
      work().then(
        (value) => ok(value),
        (thrown: unknown) => err(ProdError.from(thrown)),
      ),
    );
    if (result.ok) return result.value;
    if (isProdError(result.error, 'CIRCUIT_OPEN')) {
      this.counters.l2Skipped += 1;
      return FAILED;
    }
    this.counters.l2Error(operation);
    const cause = result.error;
    this.report(
      operation,
      CacheErrors.CACHE_L2_UNAVAILABLE({
        message: `L2 ${operation} failed: ${cause.code === 'TIMEOUT' ? 'no answer in time' : cause.message}`,
        details: { operation },
        cause,
        captureStack: false,
      }),
    );
    return FAILED;
  }
}
