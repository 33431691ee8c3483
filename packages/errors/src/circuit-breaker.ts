import { isProdError, type ProdError } from '@prod/core';
import { PolicyErrors } from './errors.js';
import { monotonicNow, type Now } from './internal/clock.js';
import { Emitter } from './internal/emitter.js';
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
import type { Policy, Unsubscribe } from './policy.js';

/**
 * Where a breaker stands: `closed` lets calls through, `open` rejects them, `halfOpen` lets a
 * few trial calls through, `isolated` rejects everything until `reset()`.
 */
export type CircuitState = 'closed' | 'open' | 'halfOpen' | 'isolated';

/** Trip on the failure rate over a sliding time window instead of consecutive failures. */
export interface FailureRateOptions {
  /** Failure ratio in (0, 1] that opens the circuit. */
  readonly threshold: number;
  /** The sliding window. Default 10 000 ms. */
  readonly windowMs?: number;
  /** Calls needed in the window before the rate counts. Default 10. */
  readonly minimumCalls?: number;
  /** Buckets the window is kept in (its resolution). Default 10. */
  readonly buckets?: number;
}

/** Options of {@link circuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit (when `failureRate` is not set). Default 5. */
  readonly consecutiveFailures?: number;
  /** Use a failure rate over a sliding window instead of consecutive failures. */
  readonly failureRate?: FailureRateOptions;
  /** How long the circuit stays open before trial calls are let through. Default 10 000 ms. */
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

  private current: CircuitState = 'closed';
  /** Bumped on every transition, so late outcomes of an older state are ignored. */
  private generation = 0;
  private consecutive = 0;
  private openedAt = 0;
  private trialsInFlight = 0;
  private trialsSucceeded = 0;

  constructor(options: CircuitBreakerOptions) {
    super();
    this.now = options.now ?? monotonicNow;
    this.threshold = integer(options.consecutiveFailures, 5, 1, 'consecutiveFailures');
    const rate = options.failureRate;
    if (rate !== undefined) {
      if (!(rate.threshold > 0 && rate.threshold <= 1)) {
        throw new RangeError(
          `failureRate.threshold must be in (0, 1], got ${String(rate.threshold)}`,
        );
      }
      const windowMs = rate.windowMs ?? 10_000;
      if (!(windowMs > 0) || !Number.isFinite(windowMs)) {
        throw new RangeError(`failureRate.windowMs must be > 0, got ${String(windowMs)}`);
      }
      this.rate = rate.threshold;
      this.minimumCalls = integer(rate.minimumCalls, 10, 1, 'failureRate.minimumCalls');
      const buckets = integer(rate.buckets, 10, 1, 'failureRate.buckets');
      this.window = new SlidingWindow(buckets, windowMs, this.now);
    } else {
      this.rate = 1;
      this.minimumCalls = 1;
      this.window = undefined;
    }
    this.halfOpenAfterMs = nonNegative(options.halfOpenAfterMs, 10_000, 'halfOpenAfterMs');
    this.halfOpenMaxCalls = integer(options.halfOpenMaxCalls, 1, 1, 'halfOpenMaxCalls');
    this.slowMs =
      options.slowCallThresholdMs === undefined
        ? undefined
        : nonNegative(options.slowCallThresholdMs, 0, 'slowCallThresholdMs');
    this.isFailure = options.isFailure ?? countsAsFailure;
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
    if (from !== to && this.events.has('stateChange')) {
      this.events.emit('stateChange', { from, to, reason });
    }
  }
}

function integer(value: number | undefined, fallback: number, min: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
    throw new RangeError(`${name} must be a finite number >= 0, got ${String(value)}`);
  }
  return value;
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
 * @returns a {@link CircuitBreaker}.
 *
 * @example
 * const breaker = circuitBreaker({ failureRate: { threshold: 0.5, minimumCalls: 20 }, halfOpenMaxCalls: 3 });
 * breaker.on('stateChange', ({ from, to }) => log.warn({ from, to }, 'payments circuit'));
 * const r = await breaker.execute(() => payments.charge(order));
 */
export function circuitBreaker(options: CircuitBreakerOptions = {}): CircuitBreaker {
  return new Breaker(options);
}
