import type { MaybePromise } from './maybe-promise.js';
import { ProdError } from './prod-error.js';
import { err, type Result } from './result.js';

/**
 * Settles a promise (or a function returning one) into a Result. A synchronous throw
 * inside `run` is caught too, which `new Promise`-based helpers usually miss.
 *
 * @returns `Ok` with the resolved value, or `Err` with `mapError(reason)`;
 *   without `mapError`, the reason normalized by `ProdError.from`.
 */
export function fromPromise<TValue>(
  run: Promise<TValue> | (() => MaybePromise<TValue>),
): Promise<Result<TValue, ProdError>>;
export function fromPromise<TValue, TError>(
  run: Promise<TValue> | (() => MaybePromise<TValue>),
  mapError: (reason: unknown) => TError,
): Promise<Result<TValue, TError>>;
export async function fromPromise<TValue, TError>(
  run: Promise<TValue> | (() => MaybePromise<TValue>),
  mapError?: (reason: unknown) => TError,
): Promise<Result<TValue, TError | ProdError>> {
  try {
    const value = await (typeof run === 'function' ? run() : run);
    return { ok: true, value };
  } catch (reason) {
    return err(mapError ? mapError(reason) : ProdError.from(reason));
  }
}

/**
 * Wraps a function that may throw into one that returns a Result.
 *
 * @example
 * const parse = fromThrowable(JSON.parse, (e) => CoreErrors.MALFORMED_JSON({ cause: e }));
 * parse('{'); // Err
 */
export function fromThrowable<TArgs extends readonly unknown[], TValue>(
  fn: (...args: TArgs) => TValue,
): (...args: TArgs) => Result<TValue, ProdError>;
export function fromThrowable<TArgs extends readonly unknown[], TValue, TError>(
  fn: (...args: TArgs) => TValue,
  mapError: (reason: unknown) => TError,
): (...args: TArgs) => Result<TValue, TError>;
export function fromThrowable<TArgs extends readonly unknown[], TValue, TError>(
  fn: (...args: TArgs) => TValue,
  mapError?: (reason: unknown) => TError,
): (...args: TArgs) => Result<TValue, TError | ProdError> {
  return (...args) => {
    try {
      return { ok: true, value: fn(...args) };
    } catch (reason) {
      return err(mapError ? mapError(reason) : ProdError.from(reason));
    }
  };
}

/** {@link map} for a Result that may still be pending and a step that may be async. */
export async function mapAsync<TValue, TError = never, TNext = unknown>(
  result: MaybePromise<Result<TValue, TError>>,
  fn: (value: TValue) => MaybePromise<TNext>,
): Promise<Result<TNext, TError>> {
  const settled = await result;
  return settled.ok ? { ok: true, value: await fn(settled.value) } : settled;
}

/** {@link mapErr} for a Result that may still be pending and a step that may be async. */
export async function mapErrAsync<TValue = never, TError = never, TNextError = unknown>(
  result: MaybePromise<Result<TValue, TError>>,
  fn: (error: TError) => MaybePromise<TNextError>,
): Promise<Result<TValue, TNextError>> {
  const settled = await result;
  return settled.ok ? settled : err(await fn(settled.error));
}

/** {@link andThen} for a Result that may still be pending and a step that may be async. */
export async function andThenAsync<TValue, TError = never, TNext = never, TNextError = never>(
  result: MaybePromise<Result<TValue, TError>>,
  fn: (value: TValue) => MaybePromise<Result<TNext, TNextError>>,
): Promise<Result<TNext, TError | TNextError>> {
  const settled = await result;
  return settled.ok ? fn(settled.value) : settled;
}

/** {@link orElse} for a Result that may still be pending and a step that may be async. */
export async function orElseAsync<
  TValue = never,
  TError = never,
  TNext = never,
  TNextError = never,
>(
  result: MaybePromise<Result<TValue, TError>>,
  fn: (error: TError) => MaybePromise<Result<TNext, TNextError>>,
): Promise<Result<TValue | TNext, TNextError>> {
  const settled = await result;
  return settled.ok ? settled : fn(settled.error);
}

/** {@link tap} for a Result that may still be pending and a side effect that may be async. */
export async function tapAsync<TValue, TError = never>(
  result: MaybePromise<Result<TValue, TError>>,
  fn: (value: TValue) => MaybePromise<void>,
): Promise<Result<TValue, TError>> {
  const settled = await result;
  if (settled.ok) await fn(settled.value);
  return settled;
}
