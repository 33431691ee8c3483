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
  /** The base delay. Default 100 ms. */
  readonly initialDelayMs?: number;
  /** No delay is ever longer. Default 30 000 ms. */
  readonly maxDelayMs?: number;
  /** Growth per attempt. Default 2. */
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

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0)) {
    throw new RangeError(`${name} must be a number >= 0, got ${String(value)}`);
  }
  return value;
}

/**
 * Exponential backoff with jitter (full jitter by default), as described in AWS's
 * "Exponential Backoff And Jitter".
 *
 * Details: full jitter spreads a herd of clients the most; decorrelated jitter keeps delays
 * above `initialDelayMs` while still spreading them. Every delay stays in
 * `[0, maxDelayMs]` (full, none) or `[min(initial, max), maxDelayMs]` (decorrelated).
 *
 * @example
 * retry({ backoff: exponentialBackoff({ initialDelayMs: 50, maxDelayMs: 2_000, jitter: 'decorrelated' }) });
 */
export function exponentialBackoff(options: ExponentialBackoffOptions = {}): Backoff {
  const initial = nonNegative(options.initialDelayMs, 100, 'initialDelayMs');
  const max = nonNegative(options.maxDelayMs, 30_000, 'maxDelayMs');
  const factor = nonNegative(options.factor, 2, 'factor');
  const jitter = options.jitter ?? 'full';
  const random = options.random ?? Math.random;
  if (jitter !== 'full' && jitter !== 'decorrelated' && jitter !== 'none') {
    throw new RangeError(`jitter must be 'full', 'decorrelated' or 'none', got ${String(jitter)}`);
  }
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

/** The same delay before every retry. */
export function constantBackoff(delayMs: number): Backoff {
  const delay = nonNegative(delayMs, 0, 'delayMs');
  return () => delay;
}

// A hostile or broken random source must not push a delay outside its bounds.
function clampUnit(value: number): number {
  return value >= 0 && value < 1 ? value : value >= 1 ? 1 : 0;
}
