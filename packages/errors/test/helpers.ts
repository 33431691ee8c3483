import { CoreErrors, err, ok, type ProdError, type Result } from '@prod/core';

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
