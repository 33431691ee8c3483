import { CoreErrors, err, ok, type ProdError, type Result } from '@prod/core';
import { PolicyErrors } from '@prod/errors';

/** A retryable failure, as a dependency outage looks. */
export function unavailable(message = 'down'): ProdError {
  return CoreErrors.UNAVAILABLE({ message, captureStack: false });
}

/** Work that fails `failures` times with a retryable error, then succeeds with `value`. */
export function flaky<TValue>(
  failures: number,
  value: TValue,
): { work: () => Result<TValue, ProdError>; calls: () => number } {
  let calls = 0;
  return {
    work: () => {
      calls += 1;
      return calls <= failures ? err(unavailable(`failure ${calls}`)) : ok(value);
    },
    calls: () => calls,
  };
}

/** A promise with its resolver, to hold work open until a test lets it go. */
export function deferred<TValue>(): { promise: Promise<TValue>; resolve: (v: TValue) => void } {
  let resolve!: (v: TValue) => void;
  const promise = new Promise<TValue>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A manual clock for policies that take `now`. */
export function manualClock(start = 1_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return {
    now: () => time,
    advance: (ms) => {
      time += ms;
    },
  };
}

/** Lets pending promise callbacks run. */
export async function flushMicrotasks(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

/**
 * Runs `build` and returns the option named by the `ERRORS_INVALID_OPTIONS` it throws
 * (undefined when it throws nothing; any other throw is rethrown).
 */
export function invalidOption(build: () => unknown): string | undefined {
  try {
    build();
  } catch (error) {
    if (PolicyErrors.ERRORS_INVALID_OPTIONS.is(error)) {
      return (error.details as { option: string }).option;
    }
    throw error;
  }
  return undefined;
}

/** A logger that records its debug lines; `enabled` is what `isLevelEnabled('debug')` says. */
export function debugLogger(enabled = true): {
  lines: Array<{ obj: unknown; msg: string | undefined }>;
  debug(obj: unknown, msg?: string): void;
  isLevelEnabled(level: string): boolean;
} {
  const lines: Array<{ obj: unknown; msg: string | undefined }> = [];
  return {
    lines,
    debug: (obj, msg) => void lines.push({ obj, msg }),
    isLevelEnabled: (level) => enabled && level === 'debug',
  };
}
