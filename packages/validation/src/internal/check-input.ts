import type { BodyProfile, FieldError, ProdError } from '@prod/core';
import * as z from 'zod';
import { ValidationErrors } from '../errors.js';
import type { Schema } from '../types.js';
import { appendFieldErrors, type ErrorCaps } from './field-errors.js';
import {
  NO_STEPS,
  type Refusal,
  type ResolvedLimits,
  type SanitizePlan,
  sanitizeValue,
} from './sanitize-walk.js';

/** The failures {@link validate} and routes return for bad input. */
export type InputError = ProdError<'VALIDATION_INVALID_INPUT' | 'VALIDATION_UNSAFE_INPUT'>;

/** One input (a request part, or the value given to `validate`), compiled once. */
export interface InputCheck {
  readonly schema: Schema;
  /** Undefined when the input is not sanitized (limits still hold). */
  readonly plan: SanitizePlan | undefined;
  readonly limits: ResolvedLimits;
  /** JSON Pointer prefix of its errors (`/body`), `''` for a bare value. */
  readonly prefix: string;
  /**
   * Whether the walk can be skipped: no sanitization, no explicit limits, and a closed schema
   * (its output holds only declared keys, see `isClosed`), so nothing it refuses could reach
   * the output anyway (the adapters bound bodies' size, depth and `__proto__` keys).
   */
  readonly skipWalk: boolean;
  /**
   * Whether `plan` leaves plain text as it is (no steps, or only `nfc`, `stripControl` and
   * `stripInvisible` anywhere): then an input whose {@link BodyProfile} says its strings are
   * plain and its size within `limits` would come out of the walk unchanged and unrefused.
   */
  readonly plainUnchanged: boolean;
}

/** Why an input was refused before validation. */
export class RefusedInput {
  constructor(readonly refusal: Refusal) {}
}

/**
 * The first step: the sanitized input, or a {@link RefusedInput}. `profile` is what the
 * adapter learned of `raw` while it checked it (see `bodyProfileOf` in @prod/core): when it
 * shows that the walk would change and refuse nothing, the walk is skipped.
 */
export function prepare(check: InputCheck, raw: unknown, profile?: BodyProfile): unknown {
  if (check.skipWalk) return raw;
  if (profile !== undefined && profile.body === raw && walkIsIdle(check, profile)) return raw;
  if (check.plan === undefined && (typeof raw !== 'object' || raw === null)) return raw;
  const walked = sanitizeValue(raw, check.plan ?? NO_STEPS, check.limits, check.prefix);
  return walked.ok ? walked.value : new RefusedInput(walked.refusal);
}

// Mirrors the walk's refusals (sanitize-walk.ts): nesting, keys in all, items of an array,
// length of a string, and the keys it refuses anywhere (`__proto__` never has a profile).
function walkIsIdle(check: InputCheck, profile: BodyProfile): boolean {
  const limits = check.limits;
  return (
    check.plainUnchanged &&
    (profile.plainText || check.plan === undefined) &&
    !profile.reservedKeys &&
    profile.depth <= limits.maxDepth &&
    profile.keys <= limits.maxKeys &&
    profile.longestArray <= limits.maxItems &&
    profile.longestString <= limits.maxStringLength
  );
}

/** What parsing one input gave. */
export type Parsed =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly issues: readonly z.core.$ZodIssue[] }
  | { readonly ok: 'async' };

/** Parses synchronously; `{ ok: 'async' }` when the schema holds async refinements. */
export function parseSync(schema: Schema, value: unknown): Parsed {
  try {
    const result = z.safeParse(schema, value);
    return result.success
      ? { ok: true, value: result.data }
      : { ok: false, issues: result.error.issues };
  } catch (error) {
    if (error instanceof z.core.$ZodAsyncError) return { ok: 'async' };
    throw error;
  }
}

export async function parseAsync(schema: Schema, value: unknown): Promise<Parsed> {
  const result = await z.safeParseAsync(schema, value);
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, issues: result.error.issues };
}

export function unsafeError(refusal: Refusal): ProdError<'VALIDATION_UNSAFE_INPUT'> {
  return ValidationErrors.VALIDATION_UNSAFE_INPUT({
    message: `The input at ${refusal.path || '/'} ${refusal.message}`,
    errors: [{ path: refusal.path, code: refusal.reason, message: refusal.message }],
    captureStack: false,
  });
}

/** Collects field errors of several inputs into one `VALIDATION_INVALID_INPUT`. */
export class ErrorList {
  readonly errors: FieldError[] = [];
  total = 0;
  constructor(readonly caps: ErrorCaps) {}

  add(issues: readonly z.core.$ZodIssue[], prefix: string): void {
    this.total += appendFieldErrors(issues, prefix, this.errors, this.caps);
  }

  toError(message: string): ProdError<'VALIDATION_INVALID_INPUT'> {
    return ValidationErrors.VALIDATION_INVALID_INPUT({
      message,
      errors: this.errors,
      ...(this.total > this.errors.length
        ? { details: { errorCount: this.total, listed: this.errors.length } }
        : {}),
      captureStack: false,
    });
  }
}
