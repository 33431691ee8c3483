import { isProdError, isResult } from '@prod/core';
import { expect } from 'vitest';

interface MatcherResult {
  pass: boolean;
  message: () => string;
  actual?: unknown;
  expected?: unknown;
}

interface MatcherContext {
  equals(a: unknown, b: unknown): boolean;
  isNot: boolean;
  utils: { printReceived(value: unknown): string; printExpected(value: unknown): string };
}

function describeError(error: unknown): string {
  return isProdError(error) ? `${error.code}: ${error.message}` : String(error);
}

/**
 * Vitest matchers for Results: `expect(r).toBeOk(value?)` and `expect(r).toBeErr(code?)`.
 * Install once with {@link installMatchers} (in a setup file or at the top of a test file).
 */
export const resultMatchers = {
  toBeOk(this: MatcherContext, received: unknown, ...expected: [value?: unknown]): MatcherResult {
    if (!isResult(received)) {
      return {
        pass: false,
        message: () => `expected a Result, got ${this.utils.printReceived(received)}`,
      };
    }
    if (!received.ok) {
      return {
        pass: false,
        message: () => `expected Ok, got Err(${describeError(received.error)})`,
      };
    }
    if (expected.length === 0) {
      return { pass: true, message: () => 'expected not Ok, got Ok' };
    }
    const pass = this.equals(received.value, expected[0]);
    return {
      pass,
      actual: received.value,
      expected: expected[0],
      message: () =>
        pass
          ? `expected Ok not to hold ${this.utils.printExpected(expected[0])}`
          : `expected Ok(${this.utils.printExpected(expected[0])}), got Ok(${this.utils.printReceived(received.value)})`,
    };
  },

  toBeErr(this: MatcherContext, received: unknown, code?: string): MatcherResult {
    if (!isResult(received)) {
      return {
        pass: false,
        message: () => `expected a Result, got ${this.utils.printReceived(received)}`,
      };
    }
    if (received.ok) {
      return {
        pass: false,
        message: () => `expected Err, got Ok(${this.utils.printReceived(received.value)})`,
      };
    }
    if (code === undefined) return { pass: true, message: () => 'expected not Err, got Err' };
    const actual = isProdError(received.error) ? received.error.code : undefined;
    const pass = actual === code;
    return {
      pass,
      actual,
      expected: code,
      message: () =>
        pass
          ? `expected Err not to have code ${code}`
          : `expected Err with code ${code}, got Err(${describeError(received.error)})`,
    };
  },
};

/** Registers {@link resultMatchers} with vitest's `expect`. Safe to call more than once. */
export function installMatchers(): void {
  expect.extend(resultMatchers);
}

interface ResultMatchers<TReturn = unknown> {
  /** Passes for an Ok Result, holding `value` (deep equality) when given. */
  toBeOk(value?: unknown): TReturn;
  /** Passes for an Err Result, holding a ProdError with `code` when given. */
  toBeErr(code?: string): TReturn;
}

declare module 'vitest' {
  // biome-ignore lint/suspicious/noExplicitAny: declaration merging must repeat vitest's own `T = any`.
  interface Matchers<T = any> extends ResultMatchers<T> {}
}
