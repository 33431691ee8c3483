import type { ContextLogger, ErrorOf, MaybePromise, ProdError, Result } from '@prod/core';
import type { Backoff } from '@prod/errors';
import type { QueueErrors } from './errors.js';

/** Any error of this package's catalogue. */
export type QueueError = ErrorOf<typeof QueueErrors>;

/** One problem a schema found (Standard Schema v1). */
export interface SchemaIssue {
  readonly message: string;
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
}

/** What a schema's `validate` answers (Standard Schema v1). */
export type SchemaResult<TOutput> =
  | { readonly value: TOutput; readonly issues?: undefined }
  | { readonly issues: readonly SchemaIssue[] };

/**
 * A Standard Schema v1 (https://standardschema.dev): a zod 4 schema is one (so are valibot
 * and arktype schemas). Payloads are checked with it on enqueue and again before the handler
 * runs.
 */
export interface PayloadSchema<TOutput = unknown, TInput = unknown> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => SchemaResult<TOutput> | Promise<SchemaResult<TOutput>>;
    readonly types?: { readonly input: TInput; readonly output: TOutput } | undefined;
  };
}

/** The payload a handler receives: the schema's output. */
export type PayloadOf<TSchema> = TSchema extends PayloadSchema<infer TOutput> ? TOutput : never;

/** The payload `enqueue` takes: the schema's input. */
export type PayloadInput<TSchema> = TSchema extends {
  readonly '~standard': { readonly types?: { readonly input: infer TInput } | undefined };
}
  ? TInput
  : never;

/** How one failed attempt of a job ended: what a dead letter's history is made of. */
export interface AttemptRecord {
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** The error code (`JOB_TIMEOUT`, `JOB_HANDLER_THREW`, or the handler's own code). */
  readonly code: string;
  readonly message: string;
  readonly retryable: boolean;
  /** When the attempt ended (ISO 8601). */
  readonly at: string;
  /** How long the attempt ran, in milliseconds. */
  readonly durationMs: number;
  /** The wait before the next attempt, when there was one. */
  readonly retryDelayMs?: number;
  /** `host:pid` of the worker that ran it. */
  readonly worker?: string;
  /** The stack of what the handler threw (first 2 000 characters), for `JOB_HANDLER_THREW`. */
  readonly stack?: string;
}

/** What a handler is given besides its payload. */
export interface JobContext {
  /** The job's id (`<job name>/<engine id>`), stable across attempts. */
  readonly id: string;
  /** The job's name. */
  readonly name: string;
  /** 1 for the first attempt; a job re-run after its worker died keeps its number. */
  readonly attempt: number;
  /** Attempts this job may take (retries + 1, as it was enqueued). */
  readonly maxAttempts: number;
  /**
   * Aborts when the job's `timeout` passes, or when a shutdown deadline passes: stop the work
   * and return (pass it to `fetch`, database drivers, child processes).
   */
  readonly signal: AbortSignal;
  /** When the job was enqueued. */
  readonly enqueuedAt: Date;
  /** The failed attempts before this one, oldest first. */
  readonly history: readonly AttemptRecord[];
}

/**
 * Does one job. Returns a Result: `ok(value)` completes the job; `err(error)` retries it with
 * backoff when `error.retryable` and attempts remain, and otherwise makes it a dead letter.
 * A throw or a rejection is caught and recorded as `JOB_HANDLER_THREW`.
 */
export type JobHandler<TPayload, TValue> = (
  payload: TPayload,
  context: JobContext,
) => MaybePromise<Result<TValue, ProdError>>;

/** At most `max` jobs started per `durationMs`, across every worker of the job. */
export interface RateLimit {
  readonly max: number;
  readonly durationMs: number;
}

/** A typed job: its name, payload schema, handler and processing policy. */
export interface JobDefinition<
  TName extends string = string,
  TSchema extends PayloadSchema = PayloadSchema,
  TValue = unknown,
> {
  readonly name: TName;
  readonly schema: TSchema;
  /** Undefined for a job that this service only enqueues. */
  readonly handler: JobHandler<PayloadOf<TSchema>, TValue> | undefined;
  /** Retries after the first attempt. */
  readonly retries: number;
  readonly backoff: Backoff;
  /** Milliseconds one attempt may run. */
  readonly timeout: number;
  /** Jobs of this kind one worker runs at once. */
  readonly concurrency: number;
  readonly rateLimit: RateLimit | undefined;
  /** Largest payload accepted, in bytes of JSON. */
  readonly maxPayloadBytes: number;
}

/** Any job definition (what a queue's `jobs` list holds). */
// biome-ignore lint/suspicious/noExplicitAny: the handler's payload type must be free here (variance)
export type AnyJobDefinition = JobDefinition<string, PayloadSchema, any>;

/** Options of one enqueue. */
export interface EnqueueOptions {
  /** Milliseconds before the job may run. Default 0. */
  readonly delay?: number;
  /**
   * 1 (first) to 2 097 151. Jobs with a priority run lower numbers first; jobs without one
   * run before any prioritized job (BullMQ's rule, kept by the memory driver).
   */
  readonly priority?: number;
  /**
   * The same key (per job name) enqueued again while the first job exists, or within the
   * queue's `idempotencyTtlMs` of it, adds nothing and returns the first job's id.
   */
  readonly idempotencyKey?: string;
}

/** A job that was enqueued (or found already enqueued under the same idempotency key). */
export interface EnqueuedJob {
  readonly id: string;
  readonly name: string;
}

/** Where a job is in its life. `failed` is a dead letter. */
export type JobState = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed';

/** How many jobs of one kind are in each state. */
export interface JobCounts {
  readonly waiting: number;
  readonly active: number;
  readonly delayed: number;
  /** Dead letters. */
  readonly failed: number;
  readonly completed: number;
}

/** One job as stored: what `getJob` and the dead-letter calls return. */
export interface JobInfo {
  readonly id: string;
  readonly name: string;
  readonly state: JobState;
  /** The payload as it was stored (its JSON), before the schema ran. */
  readonly payload: unknown;
  /**
   * Attempts that ended: the failed ones, plus the successful one of a completed job. An
   * attempt cut short by the death of its worker does not count.
   */
  readonly attemptsMade: number;
  readonly maxAttempts: number;
  readonly enqueuedAt: string;
  readonly processedAt?: string;
  readonly finishedAt?: string;
  /** What the handler's `ok(value)` held, for a completed job. */
  readonly result?: unknown;
  /** The failed attempts, oldest first. */
  readonly history: readonly AttemptRecord[];
}

/** A job that will not run again unless retried: kept with its error history. */
export interface DeadLetter extends JobInfo {
  readonly state: 'failed';
  /** The last failure. */
  readonly error: AttemptRecord;
}

/** How a repeating job is defined. Exactly one of `cron` and `everyMs`. */
export interface ScheduleOptions<TPayload> {
  /** Unique per job name: scheduling the same id again replaces it (on every instance). */
  readonly id: string;
  /** A cron pattern (5 fields, or 6 with seconds first). */
  readonly cron?: string;
  /** Milliseconds between runs. */
  readonly everyMs?: number;
  /** IANA time zone of the cron pattern. Default UTC. */
  readonly tz?: string;
  readonly payload: TPayload;
  readonly priority?: number;
}

/** A schedule as stored. */
export interface Schedule {
  readonly id: string;
  readonly name: string;
  readonly cron?: string;
  readonly everyMs?: number;
  readonly tz?: string;
  /** When it runs next (ISO 8601), when known. */
  readonly nextRunAt?: string;
}

/** How many finished jobs are kept, and for how long. */
export interface KeepLimit {
  /** At most this many per job name. */
  readonly count?: number;
  /** At most this old, in milliseconds. */
  readonly ageMs?: number;
}

/** Retention of finished jobs: what bounds the memory a queue uses. */
export interface RetentionOptions {
  /** Default `{ count: 1000, ageMs: 24 h }`. */
  readonly completed?: KeepLimit;
  /** Dead letters. Default `{ count: 10 000, ageMs: 30 days }`. */
  readonly failed?: KeepLimit;
}

/** Where a queue logs (pino fits): connection trouble and warnings at `warn`, bugs at `error`. */
export type QueueLogger = Pick<ContextLogger, 'warn' | 'error'> &
  Partial<Pick<ContextLogger, 'info' | 'debug'>>;

/**
 * What the queue needs of a metrics registry: prom-client's `Registry` fits (so the `registry`
 * of @prod/metrics' `createMetrics()`).
 */
export interface MetricsRegistryLike {
  registerMetric(metric: never): void;
  getSingleMetric(name: string): unknown;
}

/** Where a queue's metrics go: `createMetrics()` of @prod/metrics fits as it is. */
export interface QueueMetricsTarget {
  readonly registry: MetricsRegistryLike;
  /** Prepended to the metric names (`notes_` -> `notes_queue_jobs`). Default `''`. */
  readonly prefix?: string;
}

/** A function that stops listening. */
export type Unsubscribe = () => void;

/** Anything that runs one parameterized statement (`$1`, `$2`...): pg, PGlite, a transaction. */
export interface SqlQueryable {
  query(
    text: string,
    values?: unknown[],
  ): Promise<{
    readonly rows: ReadonlyArray<Record<string, unknown>>;
    readonly rowCount?: number | null;
  }>;
}

/**
 * A {@link SqlQueryable} with `transaction(fn)` (BEGIN, `fn`, COMMIT; ROLLBACK and rethrow
 * when `fn` throws): PGlite as it is, a pg `Pool` through `toSqlClient()` of @prod/db.
 */
export interface SqlClient extends SqlQueryable {
  transaction<TValue>(fn: (tx: SqlQueryable) => Promise<TValue>): Promise<TValue>;
}

/**
 * The engine a queue runs on: `memoryDriver()` (in-process, the default) or `bullmqDriver()`
 * from `@prod/queue/bullmq` (Redis). Several queues may share one; it closes with the last.
 */
export interface QueueDriver {
  readonly kind: 'memory' | 'bullmq';
}

/**
 * A job moved to the dead letters by this process, emitted as the worker decides it: the
 * driver stores the letter right after, so `deadLetters.get(id)` may need a moment (one Redis
 * round trip) to find it.
 */
export interface DeadLetterEvent {
  readonly id: string;
  readonly name: string;
  /** The failure that ended it. */
  readonly error: AttemptRecord;
}

/** The dead letters of a job name grew between two checks (on any instance). */
export interface DeadLetterGrowthEvent {
  readonly name: string;
  readonly count: number;
  readonly previous: number;
}

/** A failed attempt that will be retried. */
export interface RetryEvent {
  readonly id: string;
  readonly name: string;
  readonly error: AttemptRecord;
  readonly delayMs: number;
}

/** Engine trouble (a lost Redis connection) or a failing relay, reported while nobody awaits. */
export interface QueueErrorEvent {
  readonly source: 'driver' | 'outbox';
  readonly error: Error;
}

/** Something an operator should fix (Redis may evict jobs). */
export interface QueueWarningEvent {
  readonly code: 'REDIS_EVICTION_POLICY';
  readonly message: string;
}

/** What a queue emits; subscribe with `queue.on(name, listener)`. */
export interface QueueEvents {
  readonly deadLetter: DeadLetterEvent;
  readonly deadLetterGrowth: DeadLetterGrowthEvent;
  readonly retry: RetryEvent;
  readonly error: QueueErrorEvent;
  readonly warning: QueueWarningEvent;
}
