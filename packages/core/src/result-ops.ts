import { type Err, type ErrOf, err, type Ok, type OkOf, type Result } from './result.js';

// Type parameters that may get no inference candidate (the error of `ok(1)`, the error of a
// step returning only `ok(...)`) default to `never`; TypeScript would otherwise pick `unknown`
// and swallow every other error type of the union.

/** Transforms the value of a success; a failure passes through unchanged. */
export function map<TValue, TError = never, TNext = unknown>(
  result: Result<TValue, TError>,
  fn: (value: TValue) => TNext,
): Result<TNext, TError> {
  return result.ok ? { ok: true, value: fn(result.value) } : result;
}

/** Transforms the error of a failure; a success passes through unchanged. */
export function mapErr<TValue = never, TError = never, TNextError = unknown>(
  result: Result<TValue, TError>,
  fn: (error: TError) => TNextError,
): Result<TValue, TNextError> {
  return result.ok ? result : err(fn(result.error));
}

/** Chains a step that may fail: runs `fn` on success, short-circuits on failure. */
export function andThen<TValue, TError = never, TNext = never, TNextError = never>(
  result: Result<TValue, TError>,
  fn: (value: TValue) => Result<TNext, TNextError>,
): Result<TNext, TError | TNextError> {
  return result.ok ? fn(result.value) : result;
}

/** Recovers from a failure with a step that may itself fail. */
export function orElse<TValue = never, TError = never, TNext = never, TNextError = never>(
  result: Result<TValue, TError>,
  fn: (error: TError) => Result<TNext, TNextError>,
): Result<TValue | TNext, TNextError> {
  return result.ok ? result : fn(result.error);
}

/** Handlers for both sides of a Result. */
export interface MatchHandlers<TValue, TError, TOut> {
  ok: (value: TValue) => TOut;
  err: (error: TError) => TOut;
}

/** Folds a Result into one value by handling both sides. */
export function match<TValue = never, TError = never, TOut = unknown>(
  result: Result<TValue, TError>,
  handlers: MatchHandlers<TValue, TError, TOut>,
): TOut {
  return result.ok ? handlers.ok(result.value) : handlers.err(result.error);
}

/** Runs a side effect on the value of a success and returns the Result untouched. */
export function tap<TValue, TError = never>(
  result: Result<TValue, TError>,
  fn: (value: TValue) => void,
): Result<TValue, TError> {
  if (result.ok) fn(result.value);
  return result;
}

/** Runs a side effect on the error of a failure and returns the Result untouched. */
export function tapErr<TValue = never, TError = never>(
  result: Result<TValue, TError>,
  fn: (error: TError) => void,
): Result<TValue, TError> {
  if (!result.ok) fn(result.error);
  return result;
}

/**
 * Returns the value of a success, or throws the error of a failure itself (not a wrapper),
 * so `instanceof` filters and `isProdError` keep working where it lands.
 */
export function unwrap<TValue = never, TError = never>(result: Result<TValue, TError>): TValue {
  if (result.ok) return result.value;
  throw result.error;
}

/** Returns the value of a success, or `fallback` on failure. */
export function unwrapOr<TValue = never, TFallback = never>(
  result: Result<TValue, unknown>,
  fallback: TFallback,
): TValue | TFallback {
  return result.ok ? result.value : fallback;
}

// OkOf/ErrOf distribute over the Ok | Err members, so an all-Ok tuple has error type `never`
// (inferring from the whole union would give `unknown` when no Err member is present).
type ValuesOf<TResults extends readonly Result<unknown, unknown>[]> = {
  -readonly [K in keyof TResults]: OkOf<TResults[K]>;
};
type ErrorsOf<TResults extends readonly Result<unknown, unknown>[]> = ErrOf<TResults[number]>;

/**
 * Combines Results into one: all values as a tuple, or the first error.
 *
 * @example
 * const r = all([ok(1), ok('a')] as const); // Result<[number, string], never>
 */
export function all<const TResults extends readonly Result<unknown, unknown>[]>(
  results: TResults,
): Result<ValuesOf<TResults>, ErrorsOf<TResults>> {
  const values: unknown[] = new Array(results.length);
  for (let i = 0; i < results.length; i++) {
    const result = results[i] as Result<unknown, ErrorsOf<TResults>>;
    if (!result.ok) return result;
    values[i] = result.value;
  }
  return { ok: true, value: values as ValuesOf<TResults> };
}

/** Combines Results into one: all values as a tuple, or every error in order. */
export function collect<const TResults extends readonly Result<unknown, unknown>[]>(
  results: TResults,
): Result<ValuesOf<TResults>, ErrorsOf<TResults>[]> {
  const values: unknown[] = new Array(results.length);
  const errors: ErrorsOf<TResults>[] = [];
  for (let i = 0; i < results.length; i++) {
    const result = results[i] as Result<unknown, ErrorsOf<TResults>>;
    if (result.ok) values[i] = result.value;
    else errors.push(result.error);
  }
  return errors.length > 0 ? err(errors) : { ok: true, value: values as ValuesOf<TResults> };
}

/** Splits Results into their values and their errors. */
export function partition<TValue = never, TError = never>(
  results: readonly Result<TValue, TError>[],
): [values: TValue[], errors: TError[]] {
  const values: TValue[] = [];
  const errors: TError[] = [];
  for (const result of results) {
    if (result.ok) values.push(result.value);
    else errors.push(result.error);
  }
  return [values, errors];
}

export type { Err, Ok };
