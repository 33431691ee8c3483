import { type OptionChecks, optionChecks, type ProdError } from '@prod/core';
import { CacheErrors } from '../errors.js';
import type { GetOrSetOptions, Schema } from '../types.js';
import { wellFormed } from './keys.js';
import { isSchema } from './schema.js';

/** Every freshness and load setting of one call, defaults applied and checked. */
export interface Resolved {
  readonly ttl: number;
  readonly jitter: number;
  readonly swr: number;
  readonly grace: number;
  readonly l1Ttl: number;
  readonly tags: readonly string[] | undefined;
  readonly softTimeout: number;
  readonly hardTimeout: number;
  readonly negativeTtl: number;
  readonly graceBackoff: number;
  readonly earlyRefresh: number;
  readonly distributedLock: boolean;
  readonly lockLease: number;
  readonly lockWait: number;
  readonly forceFresh: boolean;
  readonly schema: Schema | undefined;
}

/** The built-in defaults. */
export const DEFAULTS: Resolved = Object.freeze({
  ttl: 60_000,
  jitter: 0.1,
  swr: 0,
  grace: 0,
  l1Ttl: Number.POSITIVE_INFINITY,
  tags: undefined,
  softTimeout: Number.POSITIVE_INFINITY,
  hardTimeout: Number.POSITIVE_INFINITY,
  negativeTtl: 0,
  graceBackoff: 5_000,
  earlyRefresh: 0,
  distributedLock: false,
  lockLease: 5_000,
  lockWait: 10_000,
  forceFresh: false,
  schema: undefined,
});

export const MAX_TAGS = 64;

export const check: OptionChecks = optionChecks(CacheErrors.CACHE_INVALID_OPTIONS);

const infinite = { allowInfinity: true } as const;

/** Checks tags: an array of at most 64 non-empty strings of at most `maxLength` characters. */
export function checkTags(
  name: string,
  value: unknown,
  maxLength: number,
): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length > MAX_TAGS) {
    check.fail(name, `an array of at most ${MAX_TAGS} tags`, value);
  }
  for (const tag of value as unknown[]) {
    if (typeof tag !== 'string' || tag === '' || tag.length > maxLength || !wellFormed(tag)) {
      check.fail(name, `non-empty strings of at most ${maxLength} characters`, tag);
    }
  }
  return value.length === 0 ? undefined : Object.freeze([...new Set(value as string[])]);
}

/**
 * Applies `given` over `base`, checking every field given. Throws `CACHE_INVALID_OPTIONS`
 * (callers turn it into an `Err` for per-call options).
 */
export function resolve(
  base: Resolved,
  given: GetOrSetOptions<Schema | undefined>,
  maxKeyLength: number,
): Resolved {
  if (typeof given !== 'object' || given === null) check.fail('options', 'an object', given);
  const schema = given.schema;
  if (schema !== undefined && !isSchema(schema))
    check.fail('schema', 'a Standard Schema (zod, valibot...)', schema);
  return {
    ttl: check.duration('ttl', given.ttl, base.ttl, { min: 0, exclusiveMin: true, ...infinite }),
    jitter: check.number('jitter', given.jitter, base.jitter, { min: 0, max: 1 }),
    swr: check.duration('staleWhileRevalidate', given.staleWhileRevalidate, base.swr, infinite),
    grace: check.duration('grace', given.grace, base.grace, infinite),
    l1Ttl: check.duration('l1Ttl', given.l1Ttl, base.l1Ttl, {
      min: 0,
      exclusiveMin: true,
      ...infinite,
    }),
    tags: given.tags === undefined ? base.tags : checkTags('tags', given.tags, maxKeyLength),
    softTimeout: check.duration('softTimeout', given.softTimeout, base.softTimeout, infinite),
    hardTimeout: check.duration('hardTimeout', given.hardTimeout, base.hardTimeout, infinite),
    negativeTtl: check.duration('negativeTtl', given.negativeTtl, base.negativeTtl, infinite),
    graceBackoff: check.duration('graceBackoff', given.graceBackoff, base.graceBackoff),
    earlyRefresh: check.number('earlyRefresh', given.earlyRefresh, base.earlyRefresh, {
      min: 0,
      max: 100,
    }),
    distributedLock: check.boolean('distributedLock', given.distributedLock, base.distributedLock),
    lockLease: check.duration('lockLease', given.lockLease, base.lockLease, { min: 1 }),
    lockWait: check.duration('lockWait', given.lockWait, base.lockWait),
    forceFresh: check.boolean('forceFresh', given.forceFresh, base.forceFresh),
    schema: schema ?? base.schema,
  };
}

/** {@link resolve} for per-call options: the resolved settings, or the error to return. */
export function resolveCall(
  base: Resolved,
  given: GetOrSetOptions<Schema | undefined>,
  maxKeyLength: number,
): Resolved | ProdError {
  try {
    return resolve(base, given, maxKeyLength);
  } catch (error) {
    if (CacheErrors.CACHE_INVALID_OPTIONS.is(error)) return error;
    throw error;
  }
}
