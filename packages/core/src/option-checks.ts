import type { ErrorFactory } from './define-errors.js';
import type { ProdError } from './prod-error.js';

/** The largest delay `setTimeout` honours (a larger one fires at once). */
export const MAX_TIMER_MS = 2_147_483_647;

/** Bounds of a numeric option. */
export interface NumberRule {
  /** Smallest accepted value. Default 0. */
  readonly min?: number;
  /** Largest accepted value. Default `Number.MAX_SAFE_INTEGER`, or {@link MAX_TIMER_MS} for a duration. */
  readonly max?: number;
  /** Whether `min` itself is refused (`> min` rather than `>= min`). Default false. */
  readonly exclusiveMin?: boolean;
  /** Whether `Infinity` is accepted (for "no limit"). Default false. */
  readonly allowInfinity?: boolean;
}

/**
 * The checks a package runs on its options at construction. Every failure is thrown as the
 * package's own `<PKG>_INVALID_OPTIONS` ProdError, whose message names the option, what was
 * expected and what was found, and whose `details` hold `{ option, expected, received }`.
 * Each check returns the value (or the default when the option is `undefined`), so options
 * are read and validated in one line.
 */
export interface OptionChecks {
  /** A finite number in range (`Infinity` only with `allowInfinity`). */
  number(name: string, value: unknown, fallback: number, rule?: NumberRule): number;
  /** An integer in range (`Infinity` only with `allowInfinity`). */
  integer(name: string, value: unknown, fallback: number, rule?: NumberRule): number;
  /** Milliseconds, 0 to {@link MAX_TIMER_MS} by default (`Infinity` only with `allowInfinity`). */
  duration(name: string, value: unknown, fallback: number, rule?: NumberRule): number;
  boolean(name: string, value: unknown, fallback: boolean): boolean;
  /** A string; `nonEmpty` refuses `''`. */
  string(
    name: string,
    value: unknown,
    fallback: string,
    rule?: { readonly nonEmpty?: boolean },
  ): string;
  /** One of `allowed`. */
  oneOf<const TValue extends string | number | boolean>(
    name: string,
    value: unknown,
    allowed: readonly TValue[],
    fallback: TValue,
  ): TValue;
  /** A function, or undefined when not given. */
  fn<TFunction extends (...args: never[]) => unknown>(
    name: string,
    value: unknown,
  ): TFunction | undefined;
  /** A plain object (not null, not an array), or `{}` when not given. */
  object<TObject extends object>(name: string, value: unknown): TObject;
  /** Throws the invalid-options error for `name`: for checks the helpers above do not cover. */
  fail(name: string, expected: string, received: unknown): never;
}

/**
 * The one rule for bad options, shared by every package: checks that throw `invalid` (the
 * package's `<PKG>_INVALID_OPTIONS` factory) at construction, never a RangeError or a
 * TypeError, and never later at first use.
 *
 * @example
 * declare const options: { readonly ttl?: number; readonly maxSize?: number };
 * const CacheErrors = defineErrors({
 *   CACHE_INVALID_OPTIONS: { status: 500, title: 'Invalid cache options' },
 * });
 * const check = optionChecks(CacheErrors.CACHE_INVALID_OPTIONS);
 * const ttl = check.duration('ttl', options.ttl, 60_000, { allowInfinity: true });
 * const maxSize = check.integer('maxSize', options.maxSize, 1000, { min: 1 });
 */
export function optionChecks(invalid: ErrorFactory<string>): OptionChecks {
  const fail = (name: string, expected: string, received: unknown): never => {
    const shown = describeValue(received);
    throw invalid({
      message: `option ${name} must be ${expected}, got ${shown}`,
      details: { option: name, expected, received: shown },
    }) as ProdError;
  };
  const numeric = (
    name: string,
    value: unknown,
    fallback: number,
    rule: NumberRule,
    integer: boolean,
    defaultMax: number,
  ): number => {
    if (value === undefined) return fallback;
    const min = rule.min ?? 0;
    const max = rule.max ?? defaultMax;
    const infinite = value === Number.POSITIVE_INFINITY && rule.allowInfinity === true;
    const ok =
      typeof value === 'number' &&
      (infinite ||
        (Number.isFinite(value) &&
          (!integer || Number.isInteger(value)) &&
          (rule.exclusiveMin === true ? value > min : value >= min) &&
          value <= max));
    if (!ok) fail(name, expectation(integer ? 'an integer' : 'a number', min, max, rule), value);
    return value as number;
  };
  return Object.freeze({
    number: (name, value, fallback, rule = {}) =>
      numeric(name, value, fallback, rule, false, Number.MAX_VALUE),
    integer: (name, value, fallback, rule = {}) =>
      numeric(name, value, fallback, rule, true, Number.MAX_SAFE_INTEGER),
    duration: (name, value, fallback, rule = {}) =>
      numeric(name, value, fallback, rule, false, MAX_TIMER_MS),
    boolean(name, value, fallback) {
      if (value === undefined) return fallback;
      if (typeof value !== 'boolean') fail(name, 'true or false', value);
      return value as boolean;
    },
    string(name, value, fallback, rule = {}) {
      if (value === undefined) return fallback;
      if (typeof value !== 'string' || (rule.nonEmpty === true && value === '')) {
        fail(name, rule.nonEmpty === true ? 'a non-empty string' : 'a string', value);
      }
      return value as string;
    },
    oneOf(name, value, allowed, fallback) {
      if (value === undefined) return fallback;
      if (!(allowed as readonly unknown[]).includes(value)) {
        fail(name, `one of ${allowed.map((one) => JSON.stringify(one)).join(', ')}`, value);
      }
      return value as typeof fallback;
    },
    fn<TFunction>(name: string, value: unknown): TFunction | undefined {
      if (value === undefined) return undefined;
      if (typeof value !== 'function') fail(name, 'a function', value);
      return value as TFunction;
    },
    object<TObject>(name: string, value: unknown): TObject {
      if (value === undefined) return {} as TObject;
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        fail(name, 'an object', value);
      }
      return value as TObject;
    },
    fail,
  } satisfies OptionChecks);
}

function expectation(kind: string, min: number, max: number, rule: NumberRule): string {
  const low = rule.exclusiveMin === true ? `> ${min}` : `>= ${min}`;
  const high = max >= Number.MAX_SAFE_INTEGER ? '' : ` and <= ${max}`;
  const infinity = rule.allowInfinity === true ? ' (or Infinity)' : '';
  return `${kind} ${low}${high}${infinity}`;
}

const MAX_SHOWN = 32;

/** A short, safe description of a value for an error message (long strings are cut). */
function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const cut = value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}...` : value;
    return `the string ${JSON.stringify(cut)}`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'function') return 'a function';
  return typeof value === 'object' ? 'an object' : typeof value;
}
