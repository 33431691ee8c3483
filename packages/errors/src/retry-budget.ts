import { monotonicNow, type Now } from './internal/clock.js';
import { check } from './internal/options.js';
import { SlidingWindow } from './internal/sliding-window.js';

/** Options of {@link retryBudget}. */
export interface RetryBudgetOptions {
  /** Retries allowed as a fraction of requests over the window, >= 0. Default 0.1 (10 %). */
  readonly ratio?: number;
  /** Retries always allowed per second, so low traffic can still retry; >= 0. Default 1. */
  readonly minRetriesPerSecond?: number;
  /** How far back requests and retries are counted, a finite number of ms > 0. Default 10 000 ms. */
  readonly windowMs?: number;
  /** Monotonic clock in ms. Default `performance.now`. */
  readonly now?: () => number;
}

/** What a budget has seen over its window. */
export interface RetryBudgetStats {
  readonly requests: number;
  readonly retries: number;
  /** Retries that may still be spent now. */
  readonly available: number;
}

/**
 * A retry allowance shared by every caller of one dependency.
 *
 * Give the same budget to each {@link retry} policy that calls the dependency: when it is
 * down, retries stay under `ratio` of the traffic (plus a small floor) instead of multiplying
 * it by `maxAttempts`.
 */
export interface RetryBudget {
  /** Counts one request (a first attempt). Retry policies call it for you. */
  recordRequest(): void;
  /** Takes one retry from the budget. @returns false when the budget is spent (do not retry). */
  tryAcquire(): boolean;
  /** The counts over the current window. */
  stats(): RetryBudgetStats;
}

class SlidingBudget implements RetryBudget {
  private readonly window: SlidingWindow;
  private readonly floor: number;

  constructor(
    private readonly ratio: number,
    minRetriesPerSecond: number,
    windowMs: number,
    now: Now,
  ) {
    this.window = new SlidingWindow(10, windowMs, now);
    this.floor = (minRetriesPerSecond * windowMs) / 1000;
  }

  recordRequest(): void {
    this.window.add(1, 0);
  }

  tryAcquire(): boolean {
    this.window.rotate();
    if (this.window.sumB + 1 > this.allowance()) return false;
    this.window.add(0, 1);
    return true;
  }

  stats(): RetryBudgetStats {
    this.window.rotate();
    return {
      requests: this.window.sumA,
      retries: this.window.sumB,
      available: Math.max(0, Math.floor(this.allowance() - this.window.sumB)),
    };
  }

  private allowance(): number {
    return this.floor + this.ratio * this.window.sumA;
  }
}

/**
 * Creates a {@link RetryBudget}: retries may be at most `ratio` of the requests seen in the
 * last `windowMs`, plus `minRetriesPerSecond`.
 *
 * Throws `ERRORS_INVALID_OPTIONS` for a bad option.
 *
 * When to use: whenever many callers retry the same dependency. Without a budget, an outage
 * turns N requests into `N * maxAttempts`, which keeps the dependency down (a retry storm).
 *
 * @example
 * const budget = retryBudget({ ratio: 0.1 });
 * const a = retry({ maxAttempts: 3, budget });
 * const b = retry({ maxAttempts: 5, budget }); // shares the same allowance
 */
export function retryBudget(options: RetryBudgetOptions = {}): RetryBudget {
  const given = check.object<RetryBudgetOptions>('options', options);
  const ratio = check.number('ratio', given.ratio, 0.1);
  const minPerSecond = check.number('minRetriesPerSecond', given.minRetriesPerSecond, 1);
  const windowMs = check.number('windowMs', given.windowMs, 10_000, {
    min: 0,
    exclusiveMin: true,
  });
  const now = check.fn<Now>('now', given.now) ?? monotonicNow;
  return new SlidingBudget(ratio, minPerSecond, windowMs, now);
}
