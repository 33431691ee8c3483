/** The success side of a {@link Result}. */
export interface Ok<TValue> {
  readonly ok: true;
  readonly value: TValue;
}

/** The failure side of a {@link Result}. */
export interface Err<TError> {
  readonly ok: false;
  readonly error: TError;
}

/**
 * An expected outcome: a value or an error, as a plain discriminated union.
 *
 * It narrows with `if (r.ok)`, costs one small object and survives `JSON.stringify`.
 * Expected failures are returned as `Err`; bugs are thrown.
 */
export type Result<TValue, TError = import('./prod-error.js').ProdError> = Ok<TValue> | Err<TError>;

/** A Result that arrives later. */
export type AsyncResult<TValue, TError = import('./prod-error.js').ProdError> = Promise<
  Result<TValue, TError>
>;

/** The value type of a Result type. */
export type OkOf<TResult> = TResult extends Ok<infer TValue> ? TValue : never;
/** The error type of a Result type. */
export type ErrOf<TResult> = TResult extends Err<infer TError> ? TError : never;

/**
 * Wraps a value as a success.
 *
 * @example
 * const r = ok(42); // Ok<number>
 */
export function ok<TValue>(value: TValue): Ok<TValue>;
export function ok(): Ok<void>;
export function ok<TValue>(value?: TValue): Ok<TValue | undefined> {
  return { ok: true, value };
}

/** Wraps an error as a failure. */
export function err<TError>(error: TError): Err<TError> {
  return { ok: false, error };
}

/**
 * Tells whether a value is a Result. Structural on purpose: a Result that went through
 * JSON, another copy of this package or another realm is still a Result.
 *
 * An `Ok` has a `value` key, except `{ "ok": true }` alone: the JSON of `ok()` and
 * `ok(undefined)`. An object such as `{ ok: true, latency: 3 }` is not a Result. An `Err`
 * must have its `error` key.
 */
export function isResult(value: unknown): value is Result<unknown, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { ok?: unknown };
  if (candidate.ok === true) return 'value' in candidate || Object.keys(candidate).length === 1;
  if (candidate.ok === false) return 'error' in candidate;
  return false;
}
