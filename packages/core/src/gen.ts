import type { Err, ErrOf, OkOf, Result } from './result.js';

/**
 * Unwraps a Result inside {@link gen} or {@link genAsync}: `const v = yield* bind(r)` gives the
 * value of a success and ends the whole generator with the error of a failure.
 */
export function* bind<TValue, TError>(
  result: Result<TValue, TError>,
): Generator<Err<TError>, TValue, unknown> {
  if (!result.ok) {
    yield result;
    // gen() never resumes a generator after an Err; reaching this line is a bug.
    throw new Error('bind(): generator resumed after a failure');
  }
  return result.value;
}

/**
 * Writes sequential code over Results without nesting: every `yield* bind(r)` either
 * continues with the value or stops with the error.
 *
 * @returns the Result the generator returns, or the first `Err` it met.
 * @example
 * declare function parse(text: string): Result<number>;
 * const total = gen(function* () {
 *   const a = yield* bind(parse('1'));
 *   const b = yield* bind(parse('2'));
 *   return ok(a + b);
 * });
 */
export function gen<TYield extends Err<unknown>, TReturn extends Result<unknown, unknown>>(
  body: () => Generator<TYield, TReturn, unknown>,
): Result<OkOf<TReturn>, ErrOf<TYield> | ErrOf<TReturn>> {
  const iterator = body();
  const step = iterator.next();
  if (step.done) return step.value as Result<OkOf<TReturn>, ErrOf<TReturn>>;
  iterator.return?.(undefined as never);
  return step.value as Err<ErrOf<TYield>>;
}

/** {@link gen} for async generators: `yield* bind(await step())` inside `async function*`. */
export async function genAsync<
  TYield extends Err<unknown>,
  TReturn extends Result<unknown, unknown>,
>(
  body: () => AsyncGenerator<TYield, TReturn, unknown>,
): Promise<Result<OkOf<TReturn>, ErrOf<TYield> | ErrOf<TReturn>>> {
  const iterator = body();
  const step = await iterator.next();
  if (step.done) return step.value as Result<OkOf<TReturn>, ErrOf<TReturn>>;
  await iterator.return?.(undefined as never);
  return step.value as Err<ErrOf<TYield>>;
}
