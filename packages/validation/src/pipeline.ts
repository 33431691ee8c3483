import { err, isResult, ok, type ProdError, type Result } from '@prod/core';
import type * as z from 'zod';
import type { Schema } from './types.js';
import { type ValidateOptions, validate } from './validate.js';

/** One step of a {@link Pipeline}: from the value so far to the next, or a Result of it. */
export type PipelineStep<TIn, TOut> = (value: TIn) => TOut | Result<TOut, ProdError>;

/**
 * A typed chain of steps from an input shape to a domain shape: validation by zod schemas,
 * transformations, checks that may fail. Each step's output types the next step's input;
 * `run` stops at the first failure and returns it.
 */
export interface Pipeline<TIn, TOut> {
  /** Adds a transformation (a plain value) or a fallible step (a Result). */
  pipe<TNext>(step: PipelineStep<TOut, TNext>): Pipeline<TIn, TNext>;
  /** Adds a validation: the value so far, sanitized and parsed by `schema` (see `validate`). */
  validate<TSchema extends Schema>(
    schema: TSchema,
    options?: ValidateOptions,
  ): Pipeline<TIn, z.output<TSchema>>;
  /** Adds a check: `Err(failure(value))` unless `predicate(value)`. */
  check(
    predicate: (value: TOut) => boolean,
    failure: (value: TOut) => ProdError,
  ): Pipeline<TIn, TOut>;
  /**
   * Runs every step in order.
   *
   * @returns `Ok` with the last step's value, or the first `Err`: `VALIDATION_INVALID_INPUT` /
   * `VALIDATION_UNSAFE_INPUT` from a validation, or whatever a step or check returned.
   */
  run(input: TIn): Result<TOut, ProdError>;
}

type AnyStep = (value: unknown) => unknown;

function build<TIn, TOut>(steps: readonly AnyStep[]): Pipeline<TIn, TOut> {
  return Object.freeze({
    pipe: <TNext>(step: PipelineStep<TOut, TNext>): Pipeline<TIn, TNext> =>
      build([...steps, step as AnyStep]),
    validate: <TSchema extends Schema>(
      schema: TSchema,
      options?: ValidateOptions,
    ): Pipeline<TIn, z.output<TSchema>> =>
      build([...steps, (value) => validate(schema, value, options)]),
    check: (
      predicate: (value: TOut) => boolean,
      failure: (value: TOut) => ProdError,
    ): Pipeline<TIn, TOut> =>
      build([
        ...steps,
        (value) => (predicate(value as TOut) ? value : err(failure(value as TOut))),
      ]),
    run(input: TIn): Result<TOut, ProdError> {
      let value: unknown = input;
      for (const step of steps) {
        const next = step(value);
        if (isResult(next)) {
          if (!next.ok) return next as Result<never, ProdError>;
          value = next.value;
        } else {
          value = next;
        }
      }
      return ok(value as TOut);
    },
  });
}

/**
 * Starts a pipeline: from a zod schema (the input is validated first), or from a typed input.
 *
 * @example
 * import * as z from 'zod';
 * const SignUp = z.object({ email: z.email(), name: z.string().min(1) });
 * const toUser = pipeline(SignUp)
 *   .pipe((input) => ({ ...input, handle: input.name.toLowerCase().replace(/\s+/g, '-') }))
 *   .check((user) => user.handle !== 'admin', () => new ProdError({ code: 'HANDLE_TAKEN', status: 409 }));
 * const user = toUser.run({ email: 'ada@example.com', name: 'Ada L' }); // Ok({ email, name, handle: 'ada-l' })
 */
export function pipeline<TSchema extends Schema>(
  schema: TSchema,
  options?: ValidateOptions,
): Pipeline<unknown, z.output<TSchema>>;
export function pipeline<TIn>(): Pipeline<TIn, TIn>;
export function pipeline(schema?: Schema, options?: ValidateOptions): Pipeline<unknown, unknown> {
  return schema === undefined ? build([]) : build([(value) => validate(schema, value, options)]);
}
