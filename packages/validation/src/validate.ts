import { err, type OptionChecks, ok, optionChecks, type ProdError, type Result } from '@prod/core';
import type * as z from 'zod';
import { ValidationErrors } from './errors.js';
import {
  ErrorList,
  type InputCheck,
  type InputError,
  parseAsync,
  parseSync,
  prepare,
  RefusedInput,
  unsafeError,
} from './internal/check-input.js';
import { DEFAULT_CAPS } from './internal/field-errors.js';
import { compileSanitizer, leavesPlainText, resolveLimits } from './internal/sanitize-walk.js';
import type { SanitizeOptions, Schema } from './types.js';

/** How {@link validate} treats its input. */
export interface ValidateOptions {
  /** Sanitization before validation (default string steps, limits); `false` for limits only. */
  readonly sanitize?: SanitizeOptions | false;
  /** Most field errors listed in the error (the count of all is in `details`). Default 50. */
  readonly maxErrors?: number;
  /** JSON Pointer prefix of the errors' paths (`/body`). Default `''`. */
  readonly path?: string;
}

/** The failures of {@link validate}. */
export type ValidationError = InputError;

const check: OptionChecks = optionChecks(ValidationErrors.VALIDATION_INVALID_OPTIONS);
const compiled = new WeakMap<Schema, InputCheck>();

/** Compiles one input check (sanitize plan, limits, prefix); cached for default options. */
export function compileCheck(
  schema: Schema,
  options: ValidateOptions = {},
  prefix?: string,
): InputCheck {
  const plain =
    options.sanitize === undefined && prefix === undefined && options.path === undefined;
  if (plain) {
    const known = compiled.get(schema);
    if (known !== undefined) return known;
  }
  const sanitize = options.sanitize;
  const limits = resolveLimits(
    sanitize === false ? undefined : sanitize?.limits,
    (name, value, fallback) => check.integer(name, value, fallback, { min: 1 }),
  );
  const plan = sanitize === false ? undefined : compileSanitizer(schema, sanitize);
  const result: InputCheck = Object.freeze({
    schema,
    plan,
    limits,
    prefix: prefix ?? check.string('path', options.path, ''),
    // Outside HTTP nothing has bounded the input before: always walk it.
    skipWalk: false,
    plainUnchanged: leavesPlainText(plan),
  });
  if (plain) compiled.set(schema, result);
  return result;
}

function capsOf(options: ValidateOptions): { maxErrors: number; maxMessageLength: number } {
  if (options.maxErrors === undefined) return DEFAULT_CAPS;
  return {
    ...DEFAULT_CAPS,
    maxErrors: check.integer('maxErrors', options.maxErrors, 50, { min: 1 }),
  };
}

/**
 * Sanitizes `input` (strings through the default steps and the fields' own, see
 * {@link sanitized}; prototype keys, depth, key count, array and string lengths bounded),
 * then parses it with `schema`, outside HTTP: a queue job, a CLI argument, a config file.
 * Never throws for bad input; a schema with async refinements needs {@link validateAsync}.
 *
 * @returns `Ok` with the parsed value (the schema's output type), or `Err`
 * `VALIDATION_INVALID_INPUT` with every failing field in `errors` (at most `maxErrors`, the
 * count of all in `details.errorCount`), or `Err` `VALIDATION_UNSAFE_INPUT` naming the refused key
 * or limit.
 *
 * @example
 * import * as z from 'zod';
 * const Job = z.object({ userId: z.uuid(), attempts: z.number().int().min(0) });
 * const job = validate(Job, JSON.parse('{"userId":"x","attempts":-1}'));
 * if (!job.ok) console.log(job.error.errors); // [{ path: '/userId', ... }, { path: '/attempts', ... }]
 */
export function validate<TSchema extends Schema>(
  schema: TSchema,
  input: unknown,
  options: ValidateOptions = {},
): Result<z.output<TSchema>, ValidationError> {
  const inputCheck = compileCheck(schema, options);
  const prepared = prepare(inputCheck, input);
  if (prepared instanceof RefusedInput) return err(unsafeError(prepared.refusal));
  const parsed = parseSync(schema, prepared);
  if (parsed.ok === true) return ok(parsed.value as z.output<TSchema>);
  if (parsed.ok === 'async') {
    throw ValidationErrors.VALIDATION_INVALID_OPTIONS({
      message: 'This schema has async refinements or transforms: use validateAsync',
    });
  }
  return err(invalid(parsed.issues, inputCheck.prefix, capsOf(options)));
}

/**
 * {@link validate} for schemas with async refinements or transforms.
 *
 * @returns a Promise of what {@link validate} returns.
 */
export async function validateAsync<TSchema extends Schema>(
  schema: TSchema,
  input: unknown,
  options: ValidateOptions = {},
): Promise<Result<z.output<TSchema>, ValidationError>> {
  const inputCheck = compileCheck(schema, options);
  const prepared = prepare(inputCheck, input);
  if (prepared instanceof RefusedInput) return err(unsafeError(prepared.refusal));
  const parsed = await parseAsync(schema, prepared);
  if (parsed.ok === true) return ok(parsed.value as z.output<TSchema>);
  if (parsed.ok === 'async') throw new Error('unreachable');
  return err(invalid(parsed.issues, inputCheck.prefix, capsOf(options)));
}

function invalid(
  issues: readonly z.core.$ZodIssue[],
  prefix: string,
  caps: { maxErrors: number; maxMessageLength: number },
): ProdError<'VALIDATION_INVALID_INPUT'> {
  const list = new ErrorList(caps);
  list.add(issues, prefix);
  return list.toError('The input does not match its schema');
}
