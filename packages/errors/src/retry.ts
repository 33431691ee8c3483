import { err, isProdError, MAX_TIMER_MS } from '@prod/core';
import { type Backoff, exponentialBackoff } from './backoff.js';
import { abortError, sleep } from './internal/abort.js';
import { monotonicNow, type Now } from './internal/clock.js';
import { codeOf, debugEnabled, debugLoggerOption } from './internal/debug.js';
import { Emitter } from './internal/emitter.js';
import { check } from './internal/options.js';
import {
  type AnyResult,
  type AnyWork,
  Ctx,
  checkResult,
  next,
  type SignalSource,
  type Stage,
  thrownResult,
} from './internal/stage.js';
import { StagedPolicy } from './internal/staged-policy.js';
import type { RetryBudget } from './retry-budget.js';
import type { DebugLogger, Policy, Unsubscribe } from './types.js';

/** Options of {@link retry}. */
export interface RetryOptions {
  /** Attempts in all, the first included: an integer >= 1. Default 3. */
  readonly maxAttempts?: number;
  /** Delay before each retry. Default `exponentialBackoff()` (100 ms base, 30 s cap, full jitter). */
  readonly backoff?: Backoff;
  /**
   * Gives up rather than start a wait that would end past this much time since the first
   * attempt: a number >= 0, or `Infinity` for no limit. Default `Infinity`. It does not cut an
   * attempt short: compose a timeout for that.
   */
  readonly maxTotalTimeMs?: number;
  /**
   * Whether an error is worth another attempt. Default: a ProdError with `retryable: true`
   * (TIMEOUT, UNAVAILABLE, RATE_LIMITED, CIRCUIT_OPEN, BULKHEAD_FULL...); anything else is not.
   */
  readonly retryIf?: (error: unknown, attempt: number) => boolean;
  /**
   * Wait at least the error's `retryAfterMs` (a server's `Retry-After`, an open circuit's
   * time to half-open). Default true.
   */
  readonly honorRetryAfter?: boolean;
  /**
   * A `retryAfterMs` hint longer than this makes retry give up instead: a number >= 0, or
   * `Infinity` to wait for any hint a timer can (hints beyond `setTimeout`'s 24.8 days still
   * give up). Default 60 000 ms.
   */
  readonly maxRetryAfterMs?: number;
  /** A budget shared with other callers of the same dependency; see {@link retryBudget}. */
  readonly budget?: RetryBudget;
  /** Monotonic clock in ms (for `maxTotalTimeMs`). Default `performance.now`. */
  readonly now?: () => number;
  /**
   * Debug lines: `retry: attempt failed, waiting` (attempt, delayMs, code) before each wait and
   * `retry: gave up` (reason, attempts, code). Default none.
   */
  readonly logger?: DebugLogger;
}

type RetryIf = (error: unknown, attempt: number) => boolean;

/** Emitted before each wait. */
export interface RetryEvent {
  /** The attempt that just failed. */
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: unknown;
}

/** Why retry stopped and returned the last error. */
export type GiveUpReason =
  | 'notRetryable'
  | 'maxAttempts'
  | 'maxTotalTime'
  | 'budget'
  | 'retryAfterTooLong'
  | 'aborted';

/** Emitted when retry returns an error. */
export interface GiveUpEvent {
  readonly reason: GiveUpReason;
  readonly attempts: number;
  readonly error: unknown;
}

/** The events of a {@link RetryPolicy}. */
export interface RetryEvents {
  retry: RetryEvent;
  giveUp: GiveUpEvent;
}

/** A retry policy: a {@link Policy} with events. */
export interface RetryPolicy extends Policy {
  /** Listens to `retry` (before each wait) or `giveUp` (when the last error is returned). */
  on<TName extends keyof RetryEvents>(
    name: TName,
    listener: (event: RetryEvents[TName]) => void,
  ): Unsubscribe;
}

/** The default `retryIf`: a ProdError that says `retryable: true`. */
export function isRetryable(error: unknown): boolean {
  return isProdError(error) && error.retryable;
}

function retryAfterOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const hint = (error as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof hint === 'number' && hint >= 0 && Number.isFinite(hint) ? hint : undefined;
}

class Retry extends StagedPolicy implements RetryPolicy {
  private readonly events = new Emitter<RetryEvents>();
  private readonly maxAttempts: number;
  private readonly backoff: Backoff;
  private readonly maxTotalTimeMs: number;
  private readonly retryIf: (error: unknown, attempt: number) => boolean;
  private readonly honorRetryAfter: boolean;
  private readonly maxRetryAfterMs: number;
  private readonly budget: RetryBudget | undefined;
  private readonly now: Now;
  private readonly logger: DebugLogger | undefined;

  constructor(options: RetryOptions) {
    super();
    const given = check.object<RetryOptions>('options', options);
    this.maxAttempts = check.integer('maxAttempts', given.maxAttempts, 3, { min: 1 });
    this.backoff = check.fn<Backoff>('backoff', given.backoff) ?? exponentialBackoff();
    this.maxTotalTimeMs = check.number(
      'maxTotalTimeMs',
      given.maxTotalTimeMs,
      Number.POSITIVE_INFINITY,
      {
        allowInfinity: true,
      },
    );
    this.retryIf = check.fn<RetryIf>('retryIf', given.retryIf) ?? isRetryable;
    this.honorRetryAfter = check.boolean('honorRetryAfter', given.honorRetryAfter, true);
    this.maxRetryAfterMs = check.number('maxRetryAfterMs', given.maxRetryAfterMs, 60_000, {
      allowInfinity: true,
    });
    const budget = given.budget;
    if (budget !== undefined && typeof budget?.tryAcquire !== 'function') {
      check.fail('budget', 'a RetryBudget (from retryBudget())', budget);
    }
    this.budget = budget;
    this.now = check.fn<Now>('now', given.now) ?? monotonicNow;
    this.logger = debugLoggerOption(given.logger);
  }

  on<TName extends keyof RetryEvents>(
    name: TName,
    listener: (event: RetryEvents[TName]) => void,
  ): Unsubscribe {
    return this.events.on(name, listener);
  }

  async run(chain: readonly Stage[], index: number, work: AnyWork, ctx: Ctx): Promise<AnyResult> {
    this.budget?.recordRequest();
    const source = ctx.source;
    let result: AnyResult;
    try {
      result = checkResult(
        await next(chain, index, work, ctx.attempt === 1 ? ctx : new Ctx(1, source)),
      );
    } catch (thrown) {
      result = thrownResult(thrown);
    }
    // The common case, a first attempt that succeeds, never enters the loop.
    return result.ok ? result : this.loop(chain, index, work, source, result);
  }

  private async loop(
    chain: readonly Stage[],
    index: number,
    work: AnyWork,
    source: SignalSource | undefined,
    failed: AnyResult,
  ): Promise<AnyResult> {
    const started = this.maxTotalTimeMs === Number.POSITIVE_INFINITY ? 0 : this.now();
    let result = failed;
    let previousDelay = 0;
    for (let attempt = 1; ; attempt++) {
      if (result.ok) return result;
      const error = result.error;
      const reason = this.stopReason(error, attempt, source);
      if (reason !== undefined) return this.giveUp(reason, attempt, result);
      let delay = this.backoff(attempt, previousDelay);
      if (!(delay >= 0)) delay = 0;
      const hint = this.honorRetryAfter ? retryAfterOf(error) : undefined;
      if (hint !== undefined) {
        if (hint > this.maxRetryAfterMs || hint > MAX_TIMER_MS) {
          return this.giveUp('retryAfterTooLong', attempt, result);
        }
        if (hint > delay) delay = hint;
      }
      if (
        this.maxTotalTimeMs !== Number.POSITIVE_INFINITY &&
        this.now() - started + delay > this.maxTotalTimeMs
      ) {
        return this.giveUp('maxTotalTime', attempt, result);
      }
      if (this.budget !== undefined && !this.budget.tryAcquire()) {
        return this.giveUp('budget', attempt, result);
      }
      if (this.events.has('retry')) this.events.emit('retry', { attempt, delayMs: delay, error });
      if (debugEnabled(this.logger)) {
        this.logger.debug(
          { attempt, delayMs: Math.round(delay), code: codeOf(error) },
          'retry: attempt failed, waiting',
        );
      }
      if (delay > 0 && (await sleep(delay, source)) && source !== undefined) {
        return this.giveUp('aborted', attempt, err(abortError(source.reason)));
      }
      previousDelay = delay;
      try {
        result = checkResult(await next(chain, index, work, new Ctx(attempt + 1, source)));
      } catch (thrown) {
        result = thrownResult(thrown);
      }
    }
  }

  private stopReason(
    error: unknown,
    attempt: number,
    source: SignalSource | undefined,
  ): GiveUpReason | undefined {
    if (source?.aborted) return 'aborted';
    if (!this.retryIf(error, attempt)) return 'notRetryable';
    if (attempt >= this.maxAttempts) return 'maxAttempts';
    return undefined;
  }

  private giveUp(reason: GiveUpReason, attempts: number, result: AnyResult): AnyResult {
    if (debugEnabled(this.logger)) {
      this.logger.debug(
        { reason, attempts, code: result.ok ? undefined : codeOf(result.error) },
        'retry: gave up',
      );
    }
    if (this.events.has('giveUp')) {
      this.events.emit('giveUp', {
        reason,
        attempts,
        error: result.ok ? undefined : result.error,
      });
    }
    return result;
  }
}

/**
 * Retries failed work with exponential backoff and jitter.
 *
 * Details: only errors that `retryIf` accepts are retried (by default a ProdError with
 * `retryable: true`). A `retryAfterMs` on the error (a server's Retry-After, an open circuit)
 * is honoured as a minimum delay. When retry gives up, it returns the **last error
 * unchanged** (so `isProdError(e, 'TIMEOUT')` and friends keep working); the `giveUp` event
 * says why. A retry budget caps retries across callers.
 *
 * Gotchas: the first attempt is not delayed, and `maxTotalTimeMs` never cuts an attempt
 * short: compose a {@link timeout} inside retry for per-attempt limits.
 *
 * @returns a {@link RetryPolicy}; its `execute` resolves to the work's Ok or last Err, or
 *   `ABORTED` when the caller's signal aborts during a wait. Throws `ERRORS_INVALID_OPTIONS`
 *   for a bad option.
 *
 * @example
 * const url = 'https://api.example.com/prices';
 * const r = await retry({ maxAttempts: 4 }).execute(({ signal }) =>
 *   fromPromise(fetch(url, { signal })),
 * );
 */
export function retry(options: RetryOptions = {}): RetryPolicy {
  return new Retry(options);
}
