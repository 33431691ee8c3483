import { isProdError, type ProdError } from '@prod/core';
import { PolicyErrors } from './errors.js';
import { monotonicNow, type Now } from './internal/clock.js';
import { debugEnabled, debugLoggerOption } from './internal/debug.js';
import { Emitter } from './internal/emitter.js';
import { check } from './internal/options.js';
import { SlidingWindow } from './internal/sliding-window.js';
import {
  type AnyResult,
  type AnyWork,
  type Ctx,
  checkResult,
  next,
  type Stage,
  thrownResult,
} from './internal/stage.js';
import { StagedPolicy } from './internal/staged-policy.js';
import type { DebugLogger, Policy, Unsubscribe } from './types.js';

/**
 * Where a breaker stands: `closed` lets calls through, `open` rejects them, `halfOpen` lets a
 * few trial calls through, `isolated` rejects everything until `reset()`.
 */
export type CircuitState = 'closed' | 'open' | 'halfOpen' | 'isolated';

/** Trip on the failure rate over a sliding time window instead of consecutive failures. */
export interface FailureRateOptions {
  /** Failure ratio in (0, 1] that opens the circuit. */
  readonly threshold: number;
  /** The sliding window, a finite number of ms > 0. Default 10 000 ms. */
  readonly windowMs?: number;
  /** Calls needed in the window before the rate counts, an integer >= 1. Default 10. */
  readonly minimumCalls?: number;
  /** Buckets the window is kept in (its resolution), an integer >= 1. Default 10. */
  readonly buckets?: number;
}

/** Options of {@link circuitBreaker}. */
export interface CircuitBreakerOptions {
  /**
   * Consecutive failures that open the circuit (when `failureRate` is not set), an integer
   * >= 1. Default 5.
   */
  readonly consecutiveFailures?: number;
  /** Use a failure rate over a sliding window instead of consecutive failures. */
  readonly failureRate?: FailureRateOptions;
  /**
   * How long the circuit stays open before trial calls are let through, a finite number of
   * ms >= 0. Default 10 000 ms.
   */
  readonly halfOpenAfterMs?: number;
  /**
   * Trial calls allowed while half-open; all must succeed to close the circuit, one failure
   * reopens it. Calls beyond the limit get `CIRCUIT_OPEN`. Default 1.
   */
  readonly halfOpenMaxCalls?: number;
  /**
   * A call slower than this counts as a failure (its result still goes back to the caller
   * unchanged). Default: no slow-call detection.
   */
  readonly slowCallThresholdMs?: number;
  /**
   * Whether an error counts against the dependency. Default: a ProdError that is `retryable`
   * or has status >= 500, and every error that is not a ProdError. `CIRCUIT_OPEN`,
   * `BULKHEAD_FULL` and `ABORTED` are local and never count either way.
   */
  readonly isFailure?: (error: unknown) => boolean;
  /** Monotonic clock in ms. Default `performance.now`. */
  readonly now?: () => number;
  /** Debug lines: `circuit breaker: state change` (from, to, reason). Default none. */
  readonly logger?: DebugLogger;
  /** Names the breaker in its debug lines (`payments`). Default none. */
  readonly name?: string;
}

/** Why the state changed. */
export type StateChangeReason =
  | 'consecutiveFailures'
  | 'failureRate'
  | 'halfOpenAfter'
  | 'trialFailed'
  | 'trialsSucceeded'
  | 'isolate'
  | 'reset';

/** Emitted on every state change. */
export interface StateChangeEvent {
  readonly from: CircuitState;
  readonly to: CircuitState;
  readonly reason: StateChangeReason;
}

/** Emitted for each call that counts as a failure. */
export interface FailureEvent {
  readonly error: unknown;
  /** True when the call was counted as a failure for being slower than `slowCallThresholdMs`. */
  readonly slow: boolean;
}

/** Emitted for each call the breaker rejects. */
export interface RejectedEvent {
  readonly state: CircuitState;
  readonly retryAfterMs: number | undefined;
}

/** The events of a {@link CircuitBreaker}. */
export interface CircuitBreakerEvents {
  stateChange: StateChangeEvent;
  failure: FailureEvent;
  rejected: RejectedEvent;
}

/** What a breaker has counted. */
export interface CircuitBreakerStats {
  readonly state: CircuitState;
  readonly consecutiveFailures: number;
  /** Calls and failures in the sliding window (failure-rate mode only, else 0). */
  readonly windowCalls: number;
  readonly windowFailures: number;
  readonly halfOpenTrialsInFlight: number;
}

/** A circuit breaker: a {@link Policy} with state, manual control and events. */
export interface CircuitBreaker extends Policy {
  /** The current state (an open circuit whose wait is over reads as `halfOpen`). */
  readonly state: CircuitState;
  /** Opens the circuit until `reset()`, whatever the calls do. */
  isolate(): void;
  /** Closes the circuit and forgets every count. */
  reset(): void;
  stats(): CircuitBreakerStats;
  /** Listens to `stateChange`, `failure` or `rejected`. */
  on<TName extends keyof CircuitBreakerEvents>(
    name: TName,
    listener: (event: CircuitBreakerEvents[TName]) => void,
  ): Unsubscribe;
}

const LOCAL_CODES = new Set(['CIRCUIT_OPEN', 'BULKHEAD_FULL', 'ABORTED']);

/** The default `isFailure`. */
function countsAsFailure(error: unknown): boolean {
  return isProdError(error) ? error.retryable || error.status >= 500 : true;
}

const REJECT = -1;
const NORMAL = 0;
const TRIAL = 1;

class Breaker extends StagedPolicy implements CircuitBreaker {
  private readonly events = new Emitter<CircuitBreakerEvents>();
  private readonly threshold: number;
  private readonly window: SlidingWindow | undefined;
  private readonly rate: number;
  private readonly minimumCalls: number;
  private readonly halfOpenAfterMs: number;
  private readonly halfOpenMaxCalls: number;
  private readonly slowMs: number | undefined;
  private readonly isFailure: (error: unknown) => boolean;
  private readonly now: Now;
  private readonly logger: DebugLogger | undefined;
  private readonly name: string | undefined;

  private current: CircuitState = 'closed';
  /** Bumped on every transition, so late outcomes of an older state are ignored. */
  private generation = 0;
  private consecutive = 0;
  private openedAt = 0;
  private trialsInFlight = 0;
  private trialsSucceeded = 0;

  constructor(options: CircuitBreakerOptions) {
    super();
    const given = check.object<CircuitBreakerOptions>('options', options);
    this.now = check.fn<Now>('now', given.now) ?? monotonicNow;
    this.threshold = check.integer('consecutiveFailures', given.consecutiveFailures, 5, { min: 1 });
    if (given.failureRate !== undefined) {
      const rate = check.object<FailureRateOptions>('failureRate', given.failureRate);
      if (rate.threshold === undefined) {
        check.fail('failureRate.threshold', 'a number > 0 and <= 1', rate.threshold);
      }
      this.rate = check.number('failureRate.threshold', rate.threshold, 1, {
        min: 0,
        exclusiveMin: true,
        max: 1,
      });
      const windowMs = check.number('failureRate.windowMs', rate.windowMs, 10_000, {
        min: 0,
        exclusiveMin: true,
      });
      this.minimumCalls = check.integer('failureRate.minimumCalls', rate.minimumCalls, 10, {
        min: 1,
      });
      const buckets = check.integer('failureRate.buckets', rate.buckets, 10, { min: 1 });
      this.window = new SlidingWindow(buckets, windowMs, this.now);
    } else {
      this.rate = 1;
      this.minimumCalls = 1;
      this.window = undefined;
    }
    this.halfOpenAfterMs = check.number('halfOpenAfterMs', given.halfOpenAfterMs, 10_000);
    this.halfOpenMaxCalls = check.integer('halfOpenMaxCalls', given.halfOpenMaxCalls, 1, {
      min: 1,
    });
    this.slowMs =
      given.slowCallThresholdMs === undefined
        ? undefined
        : check.number('slowCallThresholdMs', given.slowCallThresholdMs, 0);
    this.isFailure =
      check.fn<(error: unknown) => boolean>('isFailure', given.isFailure) ?? countsAsFailure;
    this.logger = debugLoggerOption(given.logger);
    this.name =
      given.name === undefined
        ? undefined
        : check.string('name', given.name, '', { nonEmpty: true });
  }

  get state(): CircuitState {
    if (this.current === 'open' && this.now() - this.openedAt >= this.halfOpenAfterMs) {
      this.transition('halfOpen', 'halfOpenAfter');
    }
    return this.current;
  }

  isolate(): void {
    this.transition('isolated', 'isolate');
  }

  reset(): void {
    this.transition('closed', 'reset');
  }

  stats(): CircuitBreakerStats {
    const state = this.state;
    this.window?.rotate();
    return {
      state,
      consecutiveFailures: this.consecutive,
      windowCalls: this.window?.sumA ?? 0,
      windowFailures: this.window?.sumB ?? 0,
      halfOpenTrialsInFlight: this.trialsInFlight,
    };
  }

  on<TName extends keyof CircuitBreakerEvents>(
    name: TName,
    listener: (event: CircuitBreakerEvents[TName]) => void,
  ): Unsubscribe {
    return this.events.on(name, listener);
  }

  async run(chain: readonly Stage[], index: number, work: AnyWork, ctx: Ctx): Promise<AnyResult> {
    const admission = this.admit();
    if (admission === REJECT) return { ok: false, error: this.rejection() };
    const generation = this.generation;
    const started = this.slowMs === undefined ? 0 : this.now();
    let result: AnyResult;
    try {
      result = checkResult(await next(chain, index, work, ctx));
    } catch (thrown) {
      result = thrownResult(thrown);
    }
    // Fast path: a success in the closed state, consecutive mode, no slow-call detection.
    if (
      result.ok &&
      admission === NORMAL &&
      this.window === undefined &&
      this.slowMs === undefined &&
      generation === this.generation
    ) {
      this.consecutive = 0;
      return result;
    }
    this.record(result, started, generation, admission === TRIAL);
    return result;
  }

  private admit(): number {
    switch (this.current) {
      case 'closed':
        return NORMAL;
      case 'open':
        if (this.now() - this.openedAt < this.halfOpenAfterMs) return REJECT;
        this.transition('halfOpen', 'halfOpenAfter');
        return this.admitTrial();
      case 'halfOpen':
        return this.admitTrial();
      default:
        return REJECT;
    }
  }

  private admitTrial(): number {
    if (this.trialsInFlight + this.trialsSucceeded >= this.halfOpenMaxCalls) return REJECT;
    this.trialsInFlight += 1;
    return TRIAL;
  }

  private rejection(): ProdError {
    const state = this.current;
    const retryAfterMs =
      state === 'open'
        ? Math.max(0, Math.ceil(this.openedAt + this.halfOpenAfterMs - this.now()))
        : undefined;
    if (this.events.has('rejected')) this.events.emit('rejected', { state, retryAfterMs });
    return PolicyErrors.CIRCUIT_OPEN({
      message:
        state === 'isolated'
          ? 'Circuit isolated'
          : state === 'halfOpen'
            ? 'Circuit half-open: every trial slot is taken'
            : 'Circuit open',
      details: { state },
      captureStack: false,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }

  private record(result: AnyResult, started: number, generation: number, trial: boolean): void {
    if (generation !== this.generation) return;
    let failure = false;
    if (!result.ok) {
      const error = result.error;
      if (isProdError(error) && LOCAL_CODES.has(error.code)) {
        if (trial) this.trialsInFlight -= 1;
        return;
      }
      failure = this.isFailure(error);
    }
    let slow = false;
    if (this.slowMs !== undefined && this.now() - started > this.slowMs) {
      slow = !failure;
      failure = true;
    }
    if (failure && this.events.has('failure')) {
      this.events.emit('failure', { error: result.ok ? undefined : result.error, slow });
    }
    if (trial) {
      this.trialsInFlight -= 1;
      if (failure) this.transition('open', 'trialFailed');
      else {
        this.trialsSucceeded += 1;
        if (this.trialsSucceeded >= this.halfOpenMaxCalls) {
          this.transition('closed', 'trialsSucceeded');
        }
      }
      return;
    }
    if (this.window === undefined) {
      if (!failure) this.consecutive = 0;
      else if (++this.consecutive >= this.threshold) {
        this.transition('open', 'consecutiveFailures');
      }
      return;
    }
    this.window.add(1, failure ? 1 : 0);
    if (!failure) this.consecutive = 0;
    else {
      this.consecutive += 1;
      if (
        this.window.sumA >= this.minimumCalls &&
        this.window.sumB / this.window.sumA >= this.rate
      ) {
        this.transition('open', 'failureRate');
      }
    }
  }

  private transition(to: CircuitState, reason: StateChangeReason): void {
    const from = this.current;
    this.generation += 1;
    this.current = to;
    this.trialsInFlight = 0;
    this.trialsSucceeded = 0;
    if (to === 'open') this.openedAt = this.now();
    if (to === 'closed') {
      this.consecutive = 0;
      this.window?.clear();
    }
    if (from === to) return;
    if (debugEnabled(this.logger)) {
      this.logger.debug(
        { breaker: this.name, from, to, reason, consecutiveFailures: this.consecutive },
        'circuit breaker: state change',
      );
    }
    if (this.events.has('stateChange')) this.events.emit('stateChange', { from, to, reason });
  }
}

/**
 * A circuit breaker: after enough failures it opens and rejects calls with `CIRCUIT_OPEN`
 * (503, retryable, `retryAfterMs` = time until half-open) instead of piling load on a
 * failing dependency; after `halfOpenAfterMs` it lets up to `halfOpenMaxCalls` trial calls
 * through, and closes when they all succeed.
 *
 * When to use: around each remote dependency, one breaker per dependency (shared by all its
 * callers), inside retry and outside timeout: `policy(retry(), circuitBreaker(), timeout(ms))`.
 *
 * Details: two trip modes: `consecutiveFailures` (default 5) or `failureRate` over a sliding
 * window with a minimum number of calls. Slow calls (`slowCallThresholdMs`) count as failures.
 * No timer is ever started: open -> half-open happens on the next call or `state` read.
 *
 * @returns a {@link CircuitBreaker}. Throws `ERRORS_INVALID_OPTIONS` for a bad option.
 *
 * @example
 * declare const payments: { charge(orderId: string): Promise<Result<string, ProdError>> };
 * const breaker = circuitBreaker({ failureRate: { threshold: 0.5, minimumCalls: 20 }, halfOpenMaxCalls: 3 });
 * breaker.on('stateChange', ({ from, to }) => console.warn(`payments circuit ${from} -> ${to}`));
 * const r = await breaker.execute(() => payments.charge('order-1'));
 */
export function circuitBreaker(options: CircuitBreakerOptions = {}): CircuitBreaker {
  return new Breaker(options);
}
