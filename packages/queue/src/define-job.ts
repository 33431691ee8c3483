import { MAX_TIMER_MS, optionChecks } from '@prod/core';
import { type Backoff, constantBackoff, exponentialBackoff } from '@prod/errors';
import { QueueErrors } from './errors.js';
import { brandJob } from './internal/brand.js';
import { JOB_NAME } from './internal/ids.js';
import type { JobDefinition, JobHandler, PayloadOf, PayloadSchema, RateLimit } from './types.js';

/** Options of {@link defineJob}. */
export interface DefineJobOptions<TName extends string, TSchema extends PayloadSchema, TValue> {
  /**
   * Unique per queue: 1-128 characters of `A-Z a-z 0-9 . _ -`, starting with a letter or a
   * digit (`email.welcome`). Each job name is its own engine queue.
   */
  readonly name: TName;
  /** The payload's schema (zod 4, or any Standard Schema v1), checked on enqueue and before the handler. */
  readonly schema: TSchema;
  /** Does the job. Leave it out where this service only enqueues the job. */
  readonly handler?: JobHandler<PayloadOf<TSchema>, TValue>;
  /** Retries after the first attempt, for retryable errors. Default 3. */
  readonly retries?: number;
  /**
   * Delay before each retry: a `Backoff` of @prod/errors, or a number of milliseconds (the
   * same every time). Default `exponentialBackoff({ initialDelayMs: 1000, maxDelayMs:
   * 300_000 })`: full jitter, so jobs that failed together do not retry together. An error's
   * `retryAfterMs`, when longer, wins.
   */
  readonly backoff?: Backoff | number;
  /**
   * Milliseconds one attempt may run: then its signal aborts and the attempt fails with the
   * retryable `JOB_TIMEOUT`. Default 300 000 (5 minutes).
   */
  readonly timeout?: number;
  /** Jobs of this kind one worker runs at once. Default 1. */
  readonly concurrency?: number;
  /** At most `max` starts per `durationMs`, across every worker. Default none. */
  readonly rateLimit?: RateLimit;
  /** Largest payload, in bytes of its JSON. Default 262 144 (256 KiB). */
  readonly maxPayloadBytes?: number;
}

const check = optionChecks(QueueErrors.QUEUE_INVALID_OPTIONS);
const DEFAULT_BACKOFF = exponentialBackoff({ initialDelayMs: 1000, maxDelayMs: 300_000 });

function isSchema(value: unknown): value is PayloadSchema {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  const standard = (value as { '~standard'?: { validate?: unknown } })['~standard'];
  return (
    typeof standard === 'object' && standard !== null && typeof standard.validate === 'function'
  );
}

/**
 * Declares a typed job: its payload schema, its handler and how it is retried, timed out and
 * run. The same definition serves the service that enqueues it (for the schema) and the one
 * that works it.
 *
 * Throws `QUEUE_INVALID_OPTIONS` for a bad option.
 *
 * @example
 * declare const schema: PayloadSchema<{ readonly noteId: string }, { readonly noteId: string }>;
 * const indexNote = defineJob({
 *   name: 'notes.index',
 *   schema,
 *   retries: 5,
 *   timeout: 30_000,
 *   concurrency: 4,
 *   handler: async ({ noteId }, { signal }) => {
 *     const response = await fetch(`http://search.internal/index/${noteId}`, { method: 'POST', signal });
 *     return response.ok ? ok(undefined) : err(new ProdError({ code: 'SEARCH_DOWN', status: 503, retryable: true }));
 *   },
 * });
 */
export function defineJob<
  const TName extends string,
  TSchema extends PayloadSchema,
  TValue = unknown,
>(options: DefineJobOptions<TName, TSchema, TValue>): JobDefinition<TName, TSchema, TValue> {
  const given = check.object<DefineJobOptions<TName, TSchema, TValue>>('options', options);
  const name = check.string('name', given.name, '', { nonEmpty: true });
  if (!JOB_NAME.test(name)) {
    check.fail(
      'name',
      '1-128 characters of A-Z a-z 0-9 . _ - starting with a letter or digit',
      name,
    );
  }
  if (!isSchema(given.schema))
    check.fail('schema', 'a Standard Schema (zod 4, valibot...)', given.schema);
  const handler = check.fn<JobHandler<PayloadOf<TSchema>, TValue>>('handler', given.handler);
  const retries = check.integer('retries', given.retries, 3, { max: 1000 });
  let backoff: Backoff = DEFAULT_BACKOFF;
  if (typeof given.backoff === 'number')
    backoff = constantBackoff(check.duration('backoff', given.backoff, 0));
  else if (given.backoff !== undefined)
    backoff = check.fn<Backoff>('backoff', given.backoff) ?? DEFAULT_BACKOFF;
  const timeout = check.duration('timeout', given.timeout, 300_000, { min: 1, max: MAX_TIMER_MS });
  const concurrency = check.integer('concurrency', given.concurrency, 1, { min: 1, max: 10_000 });
  let rateLimit: RateLimit | undefined;
  if (given.rateLimit !== undefined) {
    const limit = check.object<RateLimit>('rateLimit', given.rateLimit);
    rateLimit = Object.freeze({
      max: check.integer('rateLimit.max', limit.max, 0, { min: 1 }),
      durationMs: check.duration('rateLimit.durationMs', limit.durationMs, 0, { min: 1 }),
    });
    if (limit.max === undefined) check.fail('rateLimit.max', 'an integer >= 1', undefined);
    if (limit.durationMs === undefined)
      check.fail('rateLimit.durationMs', 'a number >= 1', undefined);
  }
  const maxPayloadBytes = check.integer('maxPayloadBytes', given.maxPayloadBytes, 262_144, {
    min: 2,
    max: 512 * 1024 * 1024,
  });
  return Object.freeze(
    brandJob({
      name: name as TName,
      schema: given.schema as TSchema,
      handler,
      retries,
      backoff,
      timeout,
      concurrency,
      rateLimit,
      maxPayloadBytes,
    }),
  );
}
