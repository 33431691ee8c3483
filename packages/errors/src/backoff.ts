import { check } from './internal/options.js';

/**
 * Computes the delay before a retry.
 *
 * @param attempt - the number of the attempt that just failed (1 after the first try).
 * @param previousDelayMs - the delay used before the previous retry (0 before the first).
 * @returns the delay in milliseconds.
 */
export type Backoff = (attempt: number, previousDelayMs: number) => number;

/** How an exponential backoff spreads its delays. */
export type Jitter = 'full' | 'decorrelated' | 'none';

/** Options of {@link exponentialBackoff}. */
export interface ExponentialBackoffOptions {
  /** The base delay, 0 to 2 147 483 647 ms (what a timer can wait). Default 100 ms. */
  readonly initialDelayMs?: number;
  /** No delay is ever longer; 0 to 2 147 483 647 ms. Default 30 000 ms. */
  readonly maxDelayMs?: number;
  /** Growth per attempt, a finite number >= 0. Default 2. */
  readonly factor?: number;
  /**
   * `'full'` (default): uniform in `[0, min(max, initial * factor^(attempt-1))]`.
   * `'decorrelated'`: uniform in `[initial, previous * 3]`, capped at `maxDelayMs`.
   * `'none'`: exactly `min(max, initial * factor^(attempt-1))`.
   */
  readonly jitter?: Jitter;
  /** Source of randomness in [0, 1). Default `Math.random`; inject one for reproducible tests. */
  readonly random?: () => number;
}

const JITTERS: readonly Jitter[] = ['full', 'decorrelated', 'none'];

/**
 * Exponential backoff with jitter (full jitter by default), as described in AWS's
 * "Exponential Backoff And Jitter".
 *
 * Details: full jitter spreads a herd of clients the most; decorrelated jitter keeps delays
 * above `initialDelayMs` while still spreading them. Every delay stays in
 * `[0, maxDelayMs]` (full, none) or `[min(initial, max), maxDelayMs]` (decorrelated).
 *
 * Throws `ERRORS_INVALID_OPTIONS` for a bad option.
 *
 * @example
 * retry({ backoff: exponentialBackoff({ initialDelayMs: 50, maxDelayMs: 2_000, jitter: 'decorrelated' }) });
 */
export function exponentialBackoff(options: ExponentialBackoffOptions = {}): Backoff {
  const given = check.object<ExponentialBackoffOptions>('options', options);
  const initial = check.duration('initialDelayMs', given.initialDelayMs, 100);
  const max = check.duration('maxDelayMs', given.maxDelayMs, 30_000);
  const factor = check.number('factor', given.factor, 2);
  const jitter = check.oneOf('jitter', given.jitter, JITTERS, 'full');
  const random = check.fn<() => number>('random', given.random) ?? Math.random;
  const ceiling = (attempt: number): number => {
    const grown = initial * factor ** Math.max(0, attempt - 1);
    // 0 * Infinity is NaN: a zero base stays zero however many attempts.
    return Number.isNaN(grown) ? 0 : Math.min(max, grown);
  };
  if (jitter === 'none') return (attempt) => ceiling(attempt);
  if (jitter === 'full') return (attempt) => clampUnit(random()) * ceiling(attempt);
  const floor = Math.min(initial, max);
  return (_attempt, previousDelayMs) => {
    const upper = Math.max(floor, Math.min(max, Math.max(previousDelayMs, initial) * 3));
    return floor + clampUnit(random()) * (upper - floor);
  };
}

/**
 * The same delay before every retry, 0 to 2 147 483 647 ms.
 *
 * @example
 * retry({ maxAttempts: 5, backoff: constantBackoff(250) });
 */
export function constantBackoff(delayMs: number): Backoff {
  const delay = check.duration('delayMs', delayMs, 0);
  return () => delay;
}

// A hostile or broken random source must not push a delay outside its bounds.
function clampUnit(value: number): number {
  return value >= 0 && value < 1 ? value : value >= 1 ? 1 : 0;
}
