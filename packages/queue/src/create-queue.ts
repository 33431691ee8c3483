import { err, isThenable, ok, optionChecks, type Result } from '@prod/core';
import { QueueErrors } from './errors.js';
import { isDefinition } from './internal/brand.js';
import {
  type DriverImpl,
  isDriver,
  type Keep,
  type LaneWorker,
  type RawJob,
  type StoredJob,
} from './internal/driver.js';
import { Emitter } from './internal/emitter.js';
import { idempotentId, parseId, publicId } from './internal/ids.js';
import { type QueueMetrics, queueMetrics } from './internal/metrics.js';
import { type Prepared, preparePayload, readEnvelope } from './internal/payload.js';
import { Runner } from './internal/runner.js';
import { cronProblem } from './internal/schedule.js';
import { endSpan, startSend } from './internal/trace.js';
import { memoryDriver } from './memory-driver.js';
import type {
  AnyJobDefinition,
  AttemptRecord,
  DeadLetter,
  EnqueuedJob,
  EnqueueOptions,
  JobCounts,
  JobInfo,
  PayloadInput,
  QueueDriver,
  QueueError,
  QueueEvents,
  QueueLogger,
  QueueMetricsTarget,
  RetentionOptions,
  Schedule,
  ScheduleOptions,
  Unsubscribe,
} from './types.js';

/** The definition named `TName` among `TJob`. */
export type JobNamed<TJob extends AnyJobDefinition, TName extends string> = Extract<
  TJob,
  { readonly name: TName }
>;

/** Options of {@link createQueue}. */
export interface QueueOptions<TJob extends AnyJobDefinition> {
  /** The jobs this queue enqueues and works (names must be unique). */
  readonly jobs: readonly TJob[];
  /** The engine. Default `memoryDriver()`; `bullmqDriver()` of `@prod/queue/bullmq` for Redis. */
  readonly driver?: QueueDriver;
  /** How many finished jobs are kept, per job name. */
  readonly retention?: RetentionOptions;
  /**
   * How long an idempotency key is remembered after its job was enqueued, even once the job
   * is gone. Default 86 400 000 (24 h).
   */
  readonly idempotencyTtlMs?: number;
  /** Metrics: `createMetrics()` of @prod/metrics, or `{ registry }` of any prom-client Registry. */
  readonly metrics?: QueueMetricsTarget;
  /** Where warnings (eviction policy, dead letters, handlers that ignore their signal) go. */
  readonly logger?: QueueLogger;
  /**
   * How long a handler whose signal was aborted by a shutdown gets to return before its job
   * is put back anyway. Default 1000 ms.
   */
  readonly shutdownGraceMs?: number;
  /**
   * Run each handler in a @prod/core request context of its own (`requestId`: the job id,
   * plus the trace ids), so that loggers, audit and tracing see the job. Default true.
   *
   * Gotchas: on Node 20 and 22, AsyncLocalStorage in use makes every promise of the process a
   * little dearer (5 - 10 µs more CPU for a no-op job of 40 - 60 µs on BullMQ, see the
   * benchmarks); a process that serves HTTP through the @prod adapters pays that already.
   * Node 24 builds AsyncLocalStorage on AsyncContextFrame and the price is gone; so does Node 22
   * started with `--experimental-async-context-frame` (measured: no CPU left to the context).
   * On Node 20, or Node 22 without the flag, set false in a dedicated worker process whose
   * handlers do not log through the request context.
   */
  readonly jobContext?: boolean;
  /** How often the dead letters are counted for `deadLetterGrowth` listeners. Default 60 000 ms. */
  readonly deadLetterCheckIntervalMs?: number;
}

/** One job of a bulk enqueue. */
export type BulkItem<TJob extends AnyJobDefinition> = TJob extends AnyJobDefinition
  ? {
      readonly job: TJob | TJob['name'];
      readonly payload: PayloadInput<TJob['schema']>;
      readonly options?: EnqueueOptions;
    }
  : never;

/** Options of {@link Queue.work}. */
export interface WorkOptions<TJob extends AnyJobDefinition> {
  /** The jobs to work. Default every job of the queue that has a handler. */
  readonly jobs?: ReadonlyArray<TJob | TJob['name']>;
  /**
   * Stop taking jobs as soon as this aborts (running ones carry on): pass `health.signal` of
   * @prod/health so that no job starts once a shutdown has begun.
   */
  readonly stopOn?: AbortSignal;
}

/** Options of {@link Queue.close}. */
export interface CloseOptions {
  /** How long running jobs get to finish. Default 10 000 ms. */
  readonly timeoutMs?: number;
  /** Ends the wait early (a shutdown hook's own deadline). */
  readonly signal?: AbortSignal;
}

/** What {@link Queue.close} did. */
export interface CloseReport {
  /** Jobs that were running when the close began and finished within the deadline. */
  readonly drained: number;
  /** Jobs interrupted at the deadline that still ended (completed or failed) in the grace period. */
  readonly finished: number;
  /** Jobs put back to waiting without using an attempt (another worker, or the next start, runs them). */
  readonly requeued: number;
  /** Of those, the ones whose handler had still not returned (it ignores its signal). */
  readonly abandoned: number;
  /** With the memory driver: jobs still waiting or delayed, lost with the process. */
  readonly lost: number;
  readonly durationMs: number;
}

/** A cleanup hook for @prod/health's `onShutdown({ hooks })` (its `ShutdownHook` shape). */
export interface QueueShutdownHook {
  readonly name: string;
  /** Milliseconds the hook may take: the drain timeout plus the grace period and 2 s. */
  readonly timeout: number;
  close(signal: AbortSignal): Promise<CloseReport>;
}

/** Options of {@link Queue.shutdownHook}. */
export interface ShutdownHookOptions {
  /** Default `'queue'`. */
  readonly name?: string;
  /** How long running jobs get to finish. Default 10 000 ms. */
  readonly drainTimeoutMs?: number;
}

/** What the startup check found. */
export interface QueueCheck {
  readonly driver: QueueDriver['kind'];
  /** Redis' `maxmemory-policy` (undefined in memory). */
  readonly evictionPolicy: string | undefined;
  /** False when Redis may evict keys (any policy but `noeviction`): jobs could vanish. */
  readonly ok: boolean;
}

/** Options of {@link DeadLetters.list}. */
export interface ListDeadLettersOptions<TName extends string = string> {
  /** One job name; default all of the queue's. */
  readonly job?: TName;
  /** Default 50, at most 1000. */
  readonly limit?: number;
  readonly offset?: number;
}

/** The dead letters: jobs that failed for good, kept with their error history. */
export interface DeadLetters<TName extends string = string> {
  /** Newest first. */
  list(options?: ListDeadLettersOptions<TName>): Promise<Result<DeadLetter[], QueueError>>;
  /** One dead letter; `JOB_NOT_FOUND` when the id is not one. */
  get(id: string): Promise<Result<DeadLetter, QueueError>>;
  /** Runs it again with a fresh budget of attempts (its history is kept); `JOB_NOT_FOUND`. */
  retry(id: string): Promise<Result<void, QueueError>>;
  /** Runs every dead letter (of one job name, or all) again; how many. */
  retryAll(options?: {
    readonly job?: TName;
  }): Promise<Result<{ readonly retried: number }, QueueError>>;
  /** Deletes dead letters (older than `olderThanMs`, default all); how many. */
  purge(options?: {
    readonly job?: TName;
    readonly olderThanMs?: number;
  }): Promise<Result<{ readonly purged: number }, QueueError>>;
}

/** Typed background jobs on one engine. */
export interface Queue<TJob extends AnyJobDefinition = AnyJobDefinition> {
  readonly driver: QueueDriver;
  readonly jobs: readonly TJob[];
  /** Attempts running in this process. */
  readonly running: number;
  readonly deadLetters: DeadLetters<TJob['name']>;
  /**
   * Validates the payload (schema, size, JSON) and enqueues the job.
   *
   * @returns `Ok({ id, name })`; `Err` `JOB_PAYLOAD_INVALID`, `JOB_PAYLOAD_TOO_LARGE`,
   * `JOB_UNKNOWN` (nothing enqueued), `QUEUE_UNAVAILABLE` (Redis did not answer in time:
   * retry with the same idempotency key), `QUEUE_FULL`, `QUEUE_CLOSED`.
   */
  enqueue<TDefinition extends TJob>(
    job: TDefinition,
    payload: PayloadInput<TDefinition['schema']>,
    options?: EnqueueOptions,
  ): Promise<Result<EnqueuedJob, QueueError>>;
  enqueue<TName extends TJob['name']>(
    name: TName,
    payload: PayloadInput<JobNamed<TJob, TName>['schema']>,
    options?: EnqueueOptions,
  ): Promise<Result<EnqueuedJob, QueueError>>;
  /**
   * Validates every item, then enqueues them all (atomically per job name), or none when one
   * is invalid (its error says which: `details.index`).
   */
  enqueueMany(items: ReadonlyArray<BulkItem<TJob>>): Promise<Result<EnqueuedJob[], QueueError>>;
  /**
   * Creates or replaces a repeating job. The same id scheduled again (by a restart, or by
   * every instance at startup) replaces it: one job per tick, whatever the instance count.
   *
   * @returns `Err` `JOB_SCHEDULE_INVALID`, `JOB_PAYLOAD_INVALID`, `QUEUE_UNAVAILABLE`.
   */
  schedule<TDefinition extends TJob>(
    job: TDefinition | TDefinition['name'],
    options: ScheduleOptions<PayloadInput<TDefinition['schema']>>,
  ): Promise<Result<Schedule, QueueError>>;
  /** Removes a schedule; `Ok(false)` when there was none. */
  unschedule(job: TJob | TJob['name'], id: string): Promise<Result<boolean, QueueError>>;
  /** The schedules of one job name, or of all. */
  schedules(job?: TJob | TJob['name']): Promise<Result<Schedule[], QueueError>>;
  /** One job, in any state; `JOB_NOT_FOUND`. */
  getJob(id: string): Promise<Result<JobInfo, QueueError>>;
  /** Job counts by state, per job name. */
  counts(): Promise<Result<Record<TJob['name'], JobCounts>, QueueError>>;
  /** Starts working jobs (every job with a handler, unless `jobs` says). */
  work(options?: WorkOptions<TJob>): void;
  /** Checks the engine: Redis' eviction policy must be `noeviction`. */
  check(): Promise<Result<QueueCheck, QueueError>>;
  /**
   * Stops taking jobs, lets running ones finish within `timeoutMs`, then aborts their signals
   * and puts back those that do not finish within the grace period, and closes the engine
   * (with the last queue using it).
   */
  close(options?: CloseOptions): Promise<CloseReport>;
  /** {@link close} as a @prod/health shutdown hook. */
  shutdownHook(options?: ShutdownHookOptions): QueueShutdownHook;
  on<TEvent extends keyof QueueEvents>(
    event: TEvent,
    listener: (payload: QueueEvents[TEvent]) => void,
  ): Unsubscribe;
}

/** A job made ready by the outbox: validated, and what it needs to be stored later. */
export interface OutboxReady {
  readonly name: string;
  readonly json: string;
  readonly priority: number;
  readonly idempotencyKey: string | undefined;
}

/** What the outbox needs of a queue; not part of the public API. */
export interface QueueInternals {
  prepareForOutbox(
    job: unknown,
    payload: unknown,
    options: EnqueueOptions | undefined,
  ): Result<OutboxReady, QueueError> | Promise<Result<OutboxReady, QueueError>>;
  addFromOutbox(
    rows: ReadonlyArray<{
      readonly name: string;
      readonly json: string;
      readonly delay: number;
      readonly priority: number;
      readonly idempotencyKey: string;
    }>,
  ): Promise<Result<string[], QueueError>>;
  readonly events: Emitter<QueueEvents>;
  readonly logger: QueueLogger | undefined;
}

/** Where the internals of a queue are kept (a symbol, so they stay off the public type). */
export const INTERNALS = Symbol.for('@prod/queue/internals');

const check = optionChecks(QueueErrors.QUEUE_INVALID_OPTIONS);
const DAY = 86_400_000;
const PRIORITY_LIMIT = 2_097_151;
const NO_OPTIONS = Object.freeze({ delay: 0, priority: 0, key: undefined });

function keep(name: string, given: unknown, fallback: Keep): Keep {
  const limit = check.object<{ count?: number; ageMs?: number }>(name, given);
  return {
    count: check.integer(`${name}.count`, limit.count, fallback.count, { allowInfinity: true }),
    ageMs: check.number(`${name}.ageMs`, limit.ageMs, fallback.ageMs, { allowInfinity: true }),
  };
}

function info(raw: RawJob): JobInfo {
  const envelope = readEnvelope(raw.data);
  return {
    id: publicId(raw.name, raw.id),
    name: raw.name,
    state: raw.state,
    payload: envelope === undefined ? raw.data : envelope.payload,
    attemptsMade: raw.attemptsMade,
    maxAttempts: raw.maxAttempts,
    enqueuedAt: new Date(raw.enqueuedAt).toISOString(),
    ...(raw.processedAt === undefined
      ? {}
      : { processedAt: new Date(raw.processedAt).toISOString() }),
    ...(raw.finishedAt === undefined ? {} : { finishedAt: new Date(raw.finishedAt).toISOString() }),
    ...(raw.returnValue === undefined ? {} : { result: raw.returnValue }),
    history: raw.history,
  };
}

function deadLetter(raw: RawJob): DeadLetter {
  const base = info(raw);
  const last: AttemptRecord = raw.history.at(-1) ?? {
    attempt: raw.attemptsMade,
    code: 'INTERNAL',
    message: 'no error was recorded',
    retryable: false,
    at: base.finishedAt ?? base.enqueuedAt,
    durationMs: 0,
  };
  return { ...base, state: 'failed', error: last };
}

/**
 * Creates a queue of typed jobs on an engine: in memory by default, on Redis with
 * `bullmqDriver()` of `@prod/queue/bullmq`, the same code either way.
 *
 * Throws `QUEUE_INVALID_OPTIONS` for a bad option (a job not made by `defineJob`, two jobs
 * with one name, a bad retention).
 *
 * @example
 * declare const sendWelcome: JobDefinition<'email.welcome', PayloadSchema<{ userId: string }, { userId: string }>>;
 * const queue = createQueue({ jobs: [sendWelcome] });
 * queue.work();
 * const enqueued = await queue.enqueue(sendWelcome, { userId: '42' }, { idempotencyKey: 'signup-42' });
 * if (!enqueued.ok) console.error(enqueued.error.code); // JOB_PAYLOAD_INVALID, QUEUE_UNAVAILABLE...
 */
export function createQueue<TJob extends AnyJobDefinition>(
  options: QueueOptions<TJob>,
): Queue<TJob> {
  const given = check.object<QueueOptions<TJob>>('options', options);
  if (!Array.isArray(given.jobs) || given.jobs.length === 0) {
    check.fail('jobs', 'a non-empty array of jobs made by defineJob', given.jobs);
  }
  const definitions = new Map<string, TJob>();
  for (const [index, job] of given.jobs.entries()) {
    if (!isDefinition(job)) check.fail(`jobs[${index}]`, 'a job made by defineJob', job);
    if (definitions.has(job.name))
      check.fail(`jobs[${index}]`, `a job name used once (${job.name} is twice)`, job.name);
    definitions.set(job.name, job);
  }
  const driverOption = given.driver ?? memoryDriver();
  if (!isDriver(driverOption))
    check.fail('driver', 'memoryDriver() or bullmqDriver()', driverOption);
  const driver = driverOption as DriverImpl;
  const retention = check.object<RetentionOptions>('retention', given.retention);
  const keepCompleted = keep('retention.completed', retention.completed, {
    count: 1000,
    ageMs: DAY,
  });
  const keepFailed = keep('retention.failed', retention.failed, { count: 10_000, ageMs: 30 * DAY });
  const idempotencyTtlMs = check.integer('idempotencyTtlMs', given.idempotencyTtlMs, DAY, {
    min: 1,
  });
  const logger = given.logger;
  if (
    logger !== undefined &&
    (typeof logger !== 'object' ||
      typeof logger.warn !== 'function' ||
      typeof logger.error !== 'function')
  ) {
    check.fail('logger', 'a logger with warn() and error() (pino fits)', logger);
  }
  const graceMs = check.duration('shutdownGraceMs', given.shutdownGraceMs, 1000);
  const growthIntervalMs = check.duration(
    'deadLetterCheckIntervalMs',
    given.deadLetterCheckIntervalMs,
    60_000,
    { min: 10 },
  );
  const metrics: QueueMetrics | undefined =
    given.metrics === undefined ? undefined : queueMetrics(given.metrics);
  const events = new Emitter<QueueEvents>();
  const runner = new Runner({
    definitions: definitions as ReadonlyMap<string, AnyJobDefinition>,
    kind: driver.kind,
    metrics,
    events,
    logger,
    graceMs,
    jobContext: check.boolean('jobContext', given.jobContext, true),
  });
  const names = [...definitions.keys()];
  const workers = new Map<string, LaneWorker>();
  const stopping = new Map<string, Promise<void>>();
  let closing: Promise<CloseReport> | undefined;
  let growthTimer: ReturnType<typeof setInterval> | undefined;
  const lastFailed = new Map<string, number>();

  driver.acquire();
  const offError = driver.onError((error) => {
    events.emit('error', { source: 'driver', error });
  });
  const metricsSource = { jobs: names, counts: (name: string) => driver.counts(name) };
  metrics?.sources.add(metricsSource);

  const closedError = (): QueueError =>
    QueueErrors.QUEUE_CLOSED({ message: 'the queue is closed', captureStack: false });

  const resolve = (job: unknown): TJob | undefined => {
    const name = typeof job === 'string' ? job : isDefinition(job) ? job.name : undefined;
    return name === undefined ? undefined : definitions.get(name);
  };

  const unknown = (job: unknown): QueueError =>
    QueueErrors.JOB_UNKNOWN({
      message: `this queue has no job ${typeof job === 'string' ? JSON.stringify(job.slice(0, 128)) : isDefinition(job) ? JSON.stringify(job.name) : 'of that kind'} (it knows ${names.join(', ')})`,
      captureStack: false,
    });

  const readOptions = (
    opts: EnqueueOptions | undefined,
  ): { delay: number; priority: number; key: string | undefined } => {
    if (opts === undefined) return NO_OPTIONS;
    const o = check.object<EnqueueOptions>('options', opts);
    const delay = check.number('delay', o.delay, 0, { max: 100 * 365 * DAY });
    const priority = check.integer('priority', o.priority, 0, { min: 1, max: PRIORITY_LIMIT });
    const key = check.string('idempotencyKey', o.idempotencyKey, '', { nonEmpty: true });
    return {
      delay: Math.round(delay),
      priority: o.priority === undefined ? 0 : priority,
      key: o.idempotencyKey === undefined ? undefined : key,
    };
  };

  const stored = (
    definition: TJob,
    prepared: Pick<Prepared, 'json'> & { readonly envelope?: Prepared['envelope'] },
    delay: number,
    priority: number,
    key: string | undefined,
  ): StoredJob => ({
    name: definition.name,
    envelope: prepared.envelope ?? (JSON.parse(prepared.json) as Prepared['envelope']),
    json: prepared.json,
    delay,
    priority,
    maxAttempts: definition.retries + 1,
    dedupId: key === undefined ? undefined : idempotentId(definition.name, key),
    dedupTtlMs: idempotencyTtlMs,
    keepCompleted,
    keepFailed,
  });

  const withIndex = (error: QueueError, index: number): QueueError =>
    QueueErrors[error.code]({
      message: `item ${index}: ${error.message}`,
      details: { ...(error.details ?? {}), index },
      ...(error.errors === undefined ? {} : { errors: error.errors }),
      captureStack: false,
    });

  async function enqueueAll(
    items: ReadonlyArray<{
      readonly job: unknown;
      readonly payload: unknown;
      readonly options?: EnqueueOptions | undefined;
    }>,
  ): Promise<Result<EnqueuedJob[], QueueError>> {
    if (closing !== undefined) return err(closedError());
    const first = items[0];
    const label =
      items.length === 1 && first !== undefined ? (resolve(first.job)?.name ?? 'unknown') : 'bulk';
    const { span, carrier } = startSend(label, driver.kind, items.length);
    const jobs: StoredJob[] = [];
    for (const [index, item] of items.entries()) {
      const definition = resolve(item.job);
      if (definition === undefined) {
        const error = items.length === 1 ? unknown(item.job) : withIndex(unknown(item.job), index);
        endSpan(span, error.code, error.message);
        return err(error);
      }
      const opts = readOptions(item.options);
      let prepared = preparePayload(
        definition.name,
        definition.schema,
        item.payload,
        definition.maxPayloadBytes,
        carrier,
      );
      if (isThenable(prepared)) prepared = await prepared;
      if (!prepared.ok) {
        const error = items.length === 1 ? prepared.error : withIndex(prepared.error, index);
        endSpan(span, error.code, error.message);
        return err(error);
      }
      jobs.push(stored(definition, prepared.value, opts.delay, opts.priority, opts.key));
    }
    const added = await driver.add(jobs);
    if (!added.ok) {
      endSpan(span, added.error.code, added.error.message);
      return added;
    }
    const enqueued = added.value.map((engineId, index) => {
      const name = (jobs[index] as StoredJob).name;
      metrics?.enqueued(name, 1);
      return { id: publicId(name, engineId), name };
    });
    if (enqueued.length === 1)
      span.setAttribute('messaging.message.id', (enqueued[0] as EnqueuedJob).id);
    endSpan(span);
    return ok(enqueued);
  }

  const startGrowthChecks = (): void => {
    if (growthTimer !== undefined || closing !== undefined) return;
    const tick = async (): Promise<void> => {
      for (const name of names) {
        const counts = await driver.counts(name);
        if (!counts.ok) continue;
        const count = counts.value.failed;
        const previous = lastFailed.get(name);
        lastFailed.set(name, count);
        if (previous !== undefined && count > previous)
          events.emit('deadLetterGrowth', { name, count, previous });
      }
    };
    void tick();
    growthTimer = setInterval(() => void tick(), growthIntervalMs);
    growthTimer.unref?.();
  };

  const lanesOf = (job: string | undefined): Result<string[], QueueError> => {
    if (job === undefined) return ok(names);
    return definitions.has(job) ? ok([job]) : err(unknown(job));
  };

  const deadLetters: DeadLetters<TJob['name']> = {
    async list(listOptions = {}) {
      const o = check.object<ListDeadLettersOptions>('options', listOptions);
      const limit = check.integer('limit', o.limit, 50, { min: 1, max: 1000 });
      const offset = check.integer('offset', o.offset, 0);
      const lanes = lanesOf(o.job);
      if (!lanes.ok) return lanes;
      const all: DeadLetter[] = [];
      for (const lane of lanes.value) {
        const page = await driver.listFailed(lane, 0, offset + limit - 1);
        if (!page.ok) return page;
        all.push(...page.value.map(deadLetter));
      }
      all.sort((a, b) => (b.finishedAt ?? '').localeCompare(a.finishedAt ?? ''));
      return ok(all.slice(offset, offset + limit));
    },
    async get(id) {
      const found = await lookup(id);
      if (!found.ok) return found;
      if (found.value.state !== 'failed') return err(notFound(id, 'is not a dead letter'));
      return ok(deadLetter(found.value));
    },
    async retry(id) {
      const parsed = parseId(id);
      if (parsed === undefined || !definitions.has(parsed.name)) return err(notFound(id));
      const retried = await driver.retryFailed(parsed.name, parsed.engineId);
      if (!retried.ok) return retried;
      return retried.value ? ok(undefined) : err(notFound(id, 'is not a dead letter'));
    },
    async retryAll(retryOptions = {}) {
      const lanes = lanesOf(check.object<{ job?: string }>('options', retryOptions).job);
      if (!lanes.ok) return lanes;
      let retried = 0;
      for (const lane of lanes.value) {
        const count = await driver.retryAllFailed(lane);
        if (!count.ok) return count;
        retried += count.value;
      }
      return ok({ retried });
    },
    async purge(purgeOptions = {}) {
      const o = check.object<{ job?: string; olderThanMs?: number }>('options', purgeOptions);
      const olderThanMs = check.number('olderThanMs', o.olderThanMs, 0);
      const lanes = lanesOf(o.job);
      if (!lanes.ok) return lanes;
      let purged = 0;
      for (const lane of lanes.value) {
        const count = await driver.purgeFailed(lane, olderThanMs);
        if (!count.ok) return count;
        purged += count.value;
      }
      return ok({ purged });
    },
  };

  const notFound = (id: string, why = 'does not exist'): QueueError =>
    QueueErrors.JOB_NOT_FOUND({
      message: `job ${JSON.stringify(String(id).slice(0, 200))} ${why}`,
      captureStack: false,
    });

  async function lookup(id: string): Promise<Result<RawJob, QueueError>> {
    const parsed = parseId(id);
    if (parsed === undefined || !definitions.has(parsed.name)) return err(notFound(id));
    const found = await driver.getJob(parsed.name, parsed.engineId);
    if (!found.ok) return found;
    return found.value === undefined ? err(notFound(id)) : ok(found.value);
  }

  const stopLane = (name: string): Promise<void> => {
    const existing = stopping.get(name);
    if (existing !== undefined) return existing;
    const worker = workers.get(name);
    const stopped = worker === undefined ? Promise.resolve() : worker.close();
    stopping.set(name, stopped);
    return stopped;
  };

  const internals: QueueInternals = {
    prepareForOutbox(job, payload, opts) {
      const definition = resolve(job);
      if (definition === undefined) return err(unknown(job));
      const { priority, key } = readOptions(opts);
      // The send span is the insert into the outbox: it ends here, and the job continues it.
      const { span, carrier } = startSend(definition.name, driver.kind, 1);
      endSpan(span);
      const prepared = preparePayload(
        definition.name,
        definition.schema,
        payload,
        definition.maxPayloadBytes,
        carrier,
      );
      const build = (p: Result<Prepared, QueueError>): Result<OutboxReady, QueueError> =>
        p.ok ? ok({ name: definition.name, json: p.value.json, priority, idempotencyKey: key }) : p;
      return isThenable(prepared) ? prepared.then(build) : build(prepared);
    },
    async addFromOutbox(rows) {
      if (closing !== undefined) return err(closedError());
      const jobs: StoredJob[] = [];
      for (const row of rows) {
        const definition = definitions.get(row.name);
        if (definition === undefined) return err(unknown(row.name));
        jobs.push(
          stored(definition, { json: row.json }, row.delay, row.priority, row.idempotencyKey),
        );
      }
      const added = await driver.add(jobs);
      if (added.ok) for (const job of jobs) metrics?.enqueued(job.name, 1);
      return added;
    },
    events,
    logger,
  };

  const queue: Queue<TJob> & { readonly [INTERNALS]: QueueInternals } = {
    [INTERNALS]: internals,
    driver: driverOption,
    jobs: [...definitions.values()],
    get running() {
      return runner.running;
    },
    deadLetters,
    async enqueue(job: unknown, payload: unknown, opts?: EnqueueOptions) {
      // One item through the bulk path: its arrays cost nanoseconds against a Redis round trip,
      // and one path keeps the checks, span, errors and metrics the same for both.
      const added = await enqueueAll([{ job, payload, options: opts }]);
      return added.ok ? ok(added.value[0] as EnqueuedJob) : added;
    },
    enqueueMany(items) {
      if (!Array.isArray(items)) check.fail('items', 'an array', items);
      if (items.length === 0) return Promise.resolve(ok([]));
      return enqueueAll(
        items as ReadonlyArray<{ job: unknown; payload: unknown; options?: EnqueueOptions }>,
      );
    },
    async schedule(job, scheduleOptions) {
      if (closing !== undefined) return err(closedError());
      const definition = resolve(job);
      if (definition === undefined) return err(unknown(job));
      const o = check.object<ScheduleOptions<unknown>>('options', scheduleOptions);
      const invalid = (message: string): Result<never, QueueError> =>
        err(
          QueueErrors.JOB_SCHEDULE_INVALID({
            message: `schedule of ${definition.name}: ${message}`,
            captureStack: false,
          }),
        );
      if (typeof o.id !== 'string' || !/^[A-Za-z0-9._-]{1,128}$/.test(o.id)) {
        return invalid('id must be 1-128 characters of A-Z a-z 0-9 . _ -');
      }
      if ((o.cron === undefined) === (o.everyMs === undefined))
        return invalid('give exactly one of cron and everyMs');
      if (
        o.everyMs !== undefined &&
        (typeof o.everyMs !== 'number' ||
          !Number.isInteger(o.everyMs) ||
          o.everyMs < 10 ||
          o.everyMs > 365 * DAY)
      ) {
        return invalid('everyMs must be an integer from 10 ms to a year');
      }
      if (o.tz !== undefined && (typeof o.tz !== 'string' || !isTimeZone(o.tz)))
        return invalid(`unknown time zone ${JSON.stringify(o.tz)}`);
      if (o.cron !== undefined) {
        const problem =
          typeof o.cron !== 'string' || o.cron.length > 256
            ? 'not a string'
            : cronProblem(o.cron, o.tz);
        if (problem !== undefined)
          return invalid(`cron pattern ${JSON.stringify(String(o.cron).slice(0, 64))}: ${problem}`);
      }
      const { priority } = readOptions(o.priority === undefined ? {} : { priority: o.priority });
      let prepared = preparePayload(
        definition.name,
        definition.schema,
        o.payload,
        definition.maxPayloadBytes,
        undefined,
      );
      if (isThenable(prepared)) prepared = await prepared;
      if (!prepared.ok) return prepared;
      const spec = { id: o.id, cron: o.cron, everyMs: o.everyMs, tz: o.tz };
      const upserted = await driver.upsertSchedule(
        definition.name,
        spec,
        stored(definition, prepared.value, 0, priority, undefined),
      );
      if (!upserted.ok) return upserted;
      return ok({
        id: o.id,
        name: definition.name,
        ...(o.cron === undefined ? {} : { cron: o.cron }),
        ...(o.everyMs === undefined ? {} : { everyMs: o.everyMs }),
        ...(o.tz === undefined ? {} : { tz: o.tz }),
      });
    },
    async unschedule(job, id) {
      const definition = resolve(job);
      if (definition === undefined) return err(unknown(job));
      return driver.removeSchedule(definition.name, String(id));
    },
    async schedules(job) {
      const lanes = job === undefined ? ok(names) : lanesOf(resolve(job)?.name ?? String(job));
      if (!lanes.ok) return lanes;
      const out: Schedule[] = [];
      for (const lane of lanes.value) {
        const listed = await driver.listSchedules(lane);
        if (!listed.ok) return listed;
        out.push(...listed.value);
      }
      return ok(out);
    },
    async getJob(id) {
      const found = await lookup(id);
      return found.ok ? ok(info(found.value)) : found;
    },
    async counts() {
      const out: Record<string, JobCounts> = {};
      const all = await Promise.all(names.map((name) => driver.counts(name)));
      for (const [index, counts] of all.entries()) {
        if (!counts.ok) return counts;
        out[names[index] as string] = counts.value;
      }
      return ok(out as Record<TJob['name'], JobCounts>);
    },
    work(workOptions = {}) {
      if (closing !== undefined) throw closedError();
      const o = check.object<WorkOptions<TJob>>('options', workOptions);
      let chosen: TJob[];
      if (o.jobs === undefined) {
        chosen = [...definitions.values()].filter((definition) => definition.handler !== undefined);
      } else {
        if (!Array.isArray(o.jobs)) check.fail('jobs', 'an array of jobs or job names', o.jobs);
        chosen = o.jobs.map((job, index) => {
          const definition = resolve(job);
          if (definition === undefined)
            return check.fail(`jobs[${index}]`, `a job of this queue (${names.join(', ')})`, job);
          if (definition.handler === undefined)
            return check.fail(`jobs[${index}]`, 'a job with a handler', definition.name);
          return definition;
        });
      }
      for (const definition of chosen) {
        if (workers.has(definition.name))
          check.fail('jobs', `jobs not worked yet (${definition.name} is)`, definition.name);
      }
      for (const definition of chosen) {
        workers.set(
          definition.name,
          driver.work(definition.name, runner.processor(), {
            concurrency: definition.concurrency,
            rateLimit: definition.rateLimit,
            keepCompleted,
            keepFailed,
          }),
        );
      }
      const stopOn = o.stopOn;
      if (stopOn !== undefined) {
        const stop = (): void => {
          for (const definition of chosen) void stopLane(definition.name);
        };
        if (stopOn.aborted) stop();
        else stopOn.addEventListener('abort', stop, { once: true });
      }
    },
    async check() {
      const checked = await driver.check();
      if (!checked.ok) return checked;
      const policy = checked.value.evictionPolicy;
      return ok({
        driver: driver.kind,
        evictionPolicy: policy,
        ok: policy === undefined || policy === 'noeviction',
      });
    },
    close(closeOptions = {}) {
      if (closing !== undefined) return closing;
      const o = check.object<CloseOptions>('options', closeOptions);
      const timeoutMs = check.duration('timeoutMs', o.timeoutMs, 10_000, { allowInfinity: true });
      const signal = o.signal;
      closing = (async (): Promise<CloseReport> => {
        const started = performance.now();
        if (growthTimer !== undefined) clearInterval(growthTimer);
        const atStart = runner.running;
        const lanes = Promise.all([...workers.keys()].map(stopLane));
        const idle = runner.whenIdle();
        let deadline: ReturnType<typeof setTimeout> | undefined;
        let onAbort: (() => void) | undefined;
        const timedOut = await Promise.race([
          idle.then(() => false),
          new Promise<boolean>((done) => {
            if (timeoutMs !== Number.POSITIVE_INFINITY)
              deadline = setTimeout(() => done(true), timeoutMs);
            onAbort = () => done(true);
            if (signal?.aborted === true) done(true);
            else signal?.addEventListener('abort', onAbort, { once: true });
          }),
        ]);
        clearTimeout(deadline);
        if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
        const interruptedCount = timedOut ? runner.running : 0;
        if (timedOut) runner.interrupt();
        await lanes;
        metrics?.sources.delete(metricsSource);
        offError();
        const lost = await driver.release();
        if (lost > 0)
          logger?.warn(
            { lost },
            'queue: the memory driver closed with jobs still waiting; they are lost',
          );
        const { finished, requeued, abandoned } = runner.afterInterrupt;
        return {
          drained: Math.max(0, atStart - interruptedCount),
          finished,
          requeued,
          abandoned,
          lost,
          durationMs: Math.round(performance.now() - started),
        };
      })();
      return closing;
    },
    shutdownHook(hookOptions = {}) {
      const o = check.object<ShutdownHookOptions>('options', hookOptions);
      const name = check.string('name', o.name, 'queue', { nonEmpty: true });
      const drainTimeoutMs = check.duration('drainTimeoutMs', o.drainTimeoutMs, 10_000);
      return {
        name,
        timeout: drainTimeoutMs + graceMs + 2000,
        close: (signal: AbortSignal) => queue.close({ timeoutMs: drainTimeoutMs, signal }),
      };
    },
    on(event, listener) {
      const off = events.on(event, listener);
      if (event === 'deadLetterGrowth') startGrowthChecks();
      return off;
    },
  } as Queue<TJob> & { readonly [INTERNALS]: QueueInternals };

  if (driver.kind !== 'memory') {
    void driver.check().then((checked) => {
      if (!checked.ok) return;
      const policy = checked.value.evictionPolicy;
      if (policy !== undefined && policy !== 'noeviction') {
        const message = `Redis maxmemory-policy is ${policy}: under memory pressure Redis may evict job keys; set it to noeviction`;
        logger?.warn({ evictionPolicy: policy }, `queue: ${message}`);
        events.emit('warning', { code: 'REDIS_EVICTION_POLICY', message });
      }
    });
  }
  return queue;
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
