import { vi } from 'vitest';

/** Control over time in a test: timers, `Date` and `performance.now` all move together. */
export interface FakeClock {
  /** The fake wall-clock time in milliseconds. */
  now(): number;
  /** Moves time forward, running due timers and the promise callbacks they schedule. */
  advance(ms: number): Promise<void>;
  /** Runs every pending timer, however far ahead. */
  runAll(): Promise<void>;
  /** Puts the real timers back. Call it in `afterEach`. */
  restore(): void;
}

/** Options for {@link useFakeClock}. */
export interface FakeClockOptions {
  /** Start time. Default 0 (the epoch), so numbers in assertions stay small. */
  readonly now?: number | Date;
}

/**
 * Fakes timers, `Date` and `performance.now` for the current test (vitest fake timers).
 *
 * @example
 * const clock = useFakeClock();
 * const pending = new Promise((resolve) => setTimeout(resolve, 1_000));
 * await clock.advance(1_000);
 * await pending;
 * clock.restore();
 */
export function useFakeClock(options: FakeClockOptions = {}): FakeClock {
  vi.useFakeTimers({
    now: options.now ?? 0,
    toFake: [
      'setTimeout',
      'clearTimeout',
      'setInterval',
      'clearInterval',
      'setImmediate',
      'clearImmediate',
      'Date',
      'performance',
    ],
  });
  return {
    now: () => Date.now(),
    advance: async (ms) => {
      await vi.advanceTimersByTimeAsync(ms);
    },
    runAll: async () => {
      await vi.runAllTimersAsync();
    },
    restore: () => {
      vi.useRealTimers();
    },
  };
}
