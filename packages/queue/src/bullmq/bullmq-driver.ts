import { err, isThenable, ok, optionChecks, type Result, withDeadline } from '@prod/core';
import {
  type Processor as BullProcessor,
  Queue as BullQueue,
  Worker as BullWorker,
  Job,
  type JobJson,
  type JobsOptions,
  type KeepJobs,
  UnrecoverableError,
  WaitingError,
} from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { QueueErrors } from '../errors.js';
import {
  type ActiveJob,
  brandDriver,
  type DriverImpl,
  type Keep,
  type LaneWorker,
  type Outcome,
  type RawJob,
  type StoredJob,
} from '../internal/driver.js';
import { WORKER_ID } from '../internal/ids.js';
import { raceDeadline } from '../internal/lazy-signal.js';
import type {
  AttemptRecord,
  JobCounts,
  JobState,
  QueueDriver,
  QueueError,
  Schedule,
} from '../types.js';

/** Options of {@link bullmqDriver}. */
export interface BullmqDriverOptions {
  /**
   * Where Redis is: a URL (`redis://127.0.0.1:6379`), ioredis options, or an ioredis client
   * (duplicated with the options BullMQ needs; yours is never closed or changed).
   */
  readonly connection: string | RedisOptions | Redis;
  /** Prefix of every key. Default `prod-queue`. */
  readonly prefix?: string;
  /**
   * How long an enqueue, a count, a dead-letter call or a schedule waits for Redis before it
   * answers `QUEUE_UNAVAILABLE`. Default 5000 ms.
   */
  readonly commandTimeoutMs?: number;
  /**
   * How long a worker's lock on a job lasts (renewed at half of it while the job runs): a
   * worker that dies mid-job has its job run again by another worker after about this long.
   * Default 30 000 ms (BullMQ's).
   */
  readonly lockDurationMs?: number;
  /** How often workers look for jobs whose worker died. Default 30 000 ms (BullMQ's). */
  readonly stalledIntervalMs?: number;
  /**
   * How many times a job may lose its worker before it is a dead letter (`JOB_STALLED`).
   * Default 1 (BullMQ's).
   */
  readonly maxStalledCount?: number;
  /** Events kept in each queue's Redis stream (bounds its memory). Default 1000. */
  readonly eventsMaxLen?: number;
}

const check = optionChecks(QueueErrors.QUEUE_INVALID_OPTIONS);
/** Retrying or purging every dead letter may take a while: its own, longer deadline. */
const BULK_TIMEOUT_MS = 60_000;
const PREFIX = /^[A-Za-z0-9{}._:-]{1,64}$/;

const PROD_BACKOFF = Object.freeze({ type: 'prod' });

interface RetryError extends Error {
  prodDelayMs?: number;
}

const isRedis = (value: unknown): value is Redis =>
  typeof value === 'object' && value !== null && typeof (value as Redis).duplicate === 'function';

/** BullMQ's form of a retention limit; undefined keeps every job. */
function keepJobs(keep: Keep): KeepJobs | undefined {
  const count = Number.isFinite(keep.count) ? keep.count : undefined;
  const age = Number.isFinite(keep.ageMs) ? Math.max(1, Math.ceil(keep.ageMs / 1000)) : undefined;
  if (age === undefined && count === undefined) return undefined;
  if (age === undefined) return { count: count as number };
  return count === undefined ? { age } : { age, count };
}

function keepOptions(
  completed: Keep,
  failed: Keep,
): { removeOnComplete?: KeepJobs; removeOnFail?: KeepJobs } {
  const onComplete = keepJobs(completed);
  const onFail = keepJobs(failed);
  return {
    ...(onComplete === undefined ? {} : { removeOnComplete: onComplete }),
    ...(onFail === undefined ? {} : { removeOnFail: onFail }),
  };
}

function isRecord(value: unknown): value is AttemptRecord {
  const candidate = value as Partial<AttemptRecord> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.code === 'string' &&
    typeof candidate.attempt === 'number' &&
    typeof candidate.message === 'string'
  );
}

const NO_HISTORY: readonly AttemptRecord[] = Object.freeze([]);

/** The error history of a BullMQ job: our records are what its stack traces hold. */
function history(job: Job): AttemptRecord[] {
  const out: AttemptRecord[] = [];
  for (const entry of job.stacktrace ?? []) {
    try {
      const parsed: unknown = JSON.parse(entry);
      if (isRecord(parsed)) {
        out.push(parsed);
        continue;
      }
    } catch {
      // Not one of ours: a stack trace written by BullMQ or by another producer.
    }
    out.push({
      attempt: out.length + 1,
      code: 'INTERNAL',
      message: String(entry).split('\n')[0] ?? '',
      retryable: false,
      at: new Date(job.finishedOn ?? job.timestamp).toISOString(),
      durationMs: 0,
    });
  }
  return out;
}

function rawJob(job: Job, state: JobState): RawJob {
  const records = history(job);
  // A job failed by the stalled checker (its worker died too often) gets no stack trace.
  const last = records.at(-1);
  const ours = last === undefined ? undefined : `${last.code}: ${last.message}`;
  if (state === 'failed' && job.failedReason !== undefined && job.failedReason !== ours) {
    const stalled = /stalled/i.test(job.failedReason);
    records.push({
      attempt: job.attemptsMade,
      code: stalled ? 'JOB_STALLED' : 'INTERNAL',
      message: stalled
        ? `${job.failedReason} (its worker died or blocked its event loop)`
        : job.failedReason,
      retryable: false,
      at: new Date(job.finishedOn ?? Date.now()).toISOString(),
      durationMs: 0,
    });
  }
  return {
    id: String(job.id),
    name: job.name,
    state,
    data: job.data,
    attemptsMade: job.attemptsMade,
    maxAttempts: job.opts.attempts ?? 1,
    enqueuedAt: job.timestamp,
    processedAt: job.processedOn ?? undefined,
    finishedAt: job.finishedOn ?? undefined,
    returnValue: job.returnvalue ?? undefined,
    history: records,
  };
}

function stateOf(state: string): JobState {
  switch (state) {
    case 'active':
    case 'delayed':
    case 'completed':
    case 'failed':
      return state;
    default:
      return 'waiting';
  }
}

const storable = (value: unknown): unknown => {
  // A handler that returns nothing (the most common) needs no trial serialization.
  if (value === undefined) return null;
  try {
    return JSON.stringify(value) === undefined ? null : value;
  } catch {
    return null;
  }
};

/**
 * The JSON of an envelope on its way to Redis, made by the payload's checks already, kept on
 * the envelope itself under a symbol (JSON leaves symbol keys out). A WeakMap entry per job
 * cost about 0.8 µs in one process, most of it collecting the entries of young keys.
 */
const ENCODED: unique symbol = Symbol('@prod/queue encoded envelope');
type Encodable = { [ENCODED]?: string };

/**
 * A BullMQ job whose data, when it is one of our envelopes, is stored as the JSON the
 * payload's checks made of it (the same text): BullMQ would encode it again otherwise.
 */
class PreparedJob extends Job {
  override asJSON(): JobJson {
    const data: unknown = this.data;
    const json =
      typeof data === 'object' && data !== null ? (data as Encodable)[ENCODED] : undefined;
    if (json === undefined) return super.asJSON();
    this.data = undefined;
    try {
      const out = super.asJSON();
      out.data = json;
      return out;
    } finally {
      this.data = data;
    }
  }
}

/** A BullMQ queue that adds {@link PreparedJob}s (BullMQ's documented hook to extend its jobs). */
class PreparedQueue extends BullQueue {
  protected override get Job(): typeof Job {
    // A subclass that adds no generics of its own: its construct signature is Job's.
    return PreparedJob as typeof Job;
  }
}

/**
 * The Redis engine, on BullMQ 6: jobs survive restarts, every instance shares them, a worker
 * killed mid-job has its job run again by another one, rate limits and schedules hold across
 * instances. Each job name is one BullMQ queue (`<prefix>:<job name>:*` keys).
 *
 * Redis must keep every key (`maxmemory-policy noeviction`): the queue checks at startup and
 * warns otherwise. Connections: one for enqueueing and reading (it fails fast while Redis is
 * away, so an enqueue answers `QUEUE_UNAVAILABLE` within `commandTimeoutMs`), and, once a
 * queue works jobs, one shared by the workers plus one blocking connection per worked job
 * name (they wait out outages).
 *
 * Throws `QUEUE_INVALID_OPTIONS` for a bad option.
 *
 * @example
 * import { createQueue, type JobDefinition } from '@prod/queue';
 * import { bullmqDriver } from '@prod/queue/bullmq';
 * declare const jobs: readonly JobDefinition[];
 * const queue = createQueue({
 *   jobs,
 *   driver: bullmqDriver({ connection: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }),
 * });
 */
export function bullmqDriver(options: BullmqDriverOptions): QueueDriver {
  const given = check.object<BullmqDriverOptions>('options', options);
  const connection = given.connection;
  if (typeof connection !== 'string' && (typeof connection !== 'object' || connection === null)) {
    check.fail('connection', 'a Redis URL, ioredis options or an ioredis client', connection);
  }
  if (typeof connection === 'string' && !/^rediss?:\/\//.test(connection)) {
    check.fail('connection', 'a redis:// or rediss:// URL', connection);
  }
  const prefix = check.string('prefix', given.prefix, 'prod-queue', { nonEmpty: true });
  if (!PREFIX.test(prefix))
    check.fail('prefix', 'up to 64 characters of A-Z a-z 0-9 { } . _ : -', prefix);
  const commandTimeoutMs = check.duration('commandTimeoutMs', given.commandTimeoutMs, 5000, {
    min: 1,
  });
  const lockDurationMs = check.duration('lockDurationMs', given.lockDurationMs, 30_000, {
    min: 100,
  });
  const stalledIntervalMs = check.duration('stalledIntervalMs', given.stalledIntervalMs, 30_000, {
    min: 100,
  });
  const maxStalledCount = check.integer('maxStalledCount', given.maxStalledCount, 1, { max: 1000 });
  const eventsMaxLen = check.integer('eventsMaxLen', given.eventsMaxLen, 1000, { min: 1 });

  const make = (overrides: RedisOptions): Redis => {
    const retryStrategy = (times: number): number => Math.min(100 * 2 ** Math.min(times, 6), 5000);
    // ioredis' own options type does not fit its constructor under exactOptionalPropertyTypes.
    const client = isRedis(connection)
      ? connection.duplicate({ retryStrategy, ...overrides } as never)
      : typeof connection === 'string'
        ? new Redis(connection, { retryStrategy, ...overrides } as never)
        : new Redis({ retryStrategy, ...connection, ...overrides } as never);
    client.on('error', (error: Error) => report(error));
    return client;
  };

  const listeners = new Set<(error: Error) => void>();
  let lastReport = 0;
  // A Redis outage makes every connection error on every reconnect attempt: one report per
  // 5 seconds is enough to see it.
  const report = (error: Error): void => {
    const now = Date.now();
    if (now - lastReport < 5000) return;
    lastReport = now;
    for (const listener of listeners) listener(error);
  };

  // Enqueues and reads: no offline queue, so nothing waits for a Redis that is away. No
  // ioredis `commandTimeout` either: it arms a timer per command (a bulk enqueue of 100 jobs is
  // 100 script calls), where `guard` bounds each of our calls with one.
  const producer = make({
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: commandTimeoutMs,
  });
  let workerConnection: Redis | undefined;
  const queues = new Map<string, { queue: BullQueue; ready: Promise<unknown>; isReady: boolean }>();
  const workers = new Set<BullWorker>();
  let users = 0;
  let closed = false;

  const unavailable = (error: unknown): QueueError => {
    const message = error instanceof Error ? error.message : String(error);
    return QueueErrors.QUEUE_UNAVAILABLE({
      message: `Redis did not answer: ${message}`,
      cause: error,
      captureStack: false,
    });
  };

  const connected = (): Promise<void> => {
    if (producer.status === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onReady = (): void => {
        producer.off('end', onEnd);
        resolve();
      };
      const onEnd = (): void => {
        producer.off('ready', onReady);
        reject(new Error('the connection is closed'));
      };
      producer.once('ready', onReady);
      producer.once('end', onEnd);
    });
  };

  // A BullMQ Queue whose first command failed stays broken: such a lane is rebuilt.
  const laneQueue = async (name: string): Promise<BullQueue> => {
    await connected();
    let lane = queues.get(name);
    if (lane === undefined) {
      const queue = new PreparedQueue(name, {
        connection: producer,
        prefix,
        skipWaitingForReady: true,
        streams: { events: { maxLen: eventsMaxLen } },
      });
      queue.on('error', (error: Error) => report(error));
      const created: { queue: BullQueue; ready: Promise<unknown>; isReady: boolean } = {
        queue,
        ready: queue.waitUntilReady(),
        isReady: false,
      };
      created.ready.then(
        () => {
          created.isReady = true;
        },
        () => {},
      );
      lane = created;
      queues.set(name, lane);
    }
    const current = lane;
    try {
      await current.ready;
    } catch (error) {
      if (queues.get(name) === current) queues.delete(name);
      void current.queue.close().catch(() => {});
      throw error;
    }
    return current.queue;
  };

  /** Runs `work` on a lane's queue within the command timeout; Redis errors as `QUEUE_UNAVAILABLE`. */
  const guard = async <TValue>(
    name: string,
    work: (queue: BullQueue) => Promise<TValue>,
    timeoutMs = commandTimeoutMs,
  ): Promise<Result<TValue, QueueError>> => {
    if (closed) {
      return err(
        QueueErrors.QUEUE_CLOSED({ message: 'the BullMQ driver is closed', captureStack: false }),
      );
    }
    const lane = queues.get(name);
    // The hot path, connected and set up: one timer, without withDeadline's signal.
    const outcome =
      lane?.isReady === true && producer.status === 'ready'
        ? await raceDeadline(() => work(lane.queue), timeoutMs)
        : await withDeadline(async () => work(await laneQueue(name)), { timeoutMs, unref: true });
    if (outcome.status === 'settled') return ok(outcome.value);
    return err(
      unavailable(
        outcome.status === 'threw' ? outcome.error : new Error(`no answer within ${timeoutMs} ms`),
      ),
    );
  };

  // As few options per job as possible: BullMQ stores and packs them with every job.
  // Retention is the worker's (its queue's `retention`), set on the BullMQ Worker.
  const jobOptions = (job: StoredJob): JobsOptions => {
    const options: JobsOptions = { attempts: job.maxAttempts };
    if (job.maxAttempts > 1) options.backoff = PROD_BACKOFF;
    if (job.priority > 0) options.priority = job.priority;
    return options;
  };

  const addOptions = (job: StoredJob): JobsOptions => {
    const options = jobOptions(job);
    if (job.delay > 0) options.delay = job.delay;
    if (job.dedupId !== undefined) {
      options.jobId = job.dedupId;
      options.deduplication = { id: job.dedupId, ttl: job.dedupTtlMs };
    }
    return options;
  };

  const toActive = (job: Job): ActiveJob => ({
    id: String(job.id),
    name: job.name,
    data: job.data,
    attemptsMade: job.attemptsMade,
    maxAttempts: job.opts.attempts ?? 1,
    enqueuedAt: job.timestamp,
    // A first attempt (the most common) has no history: one empty list for all of them.
    history: (job.stacktrace?.length ?? 0) === 0 ? NO_HISTORY : history(job),
  });

  /** What BullMQ is told of an outcome: a value completes the job, a throw fails or requeues it. */
  const settle = (outcome: Outcome, job: Job, token: string | undefined): unknown => {
    switch (outcome.kind) {
      case 'completed':
        return storable(outcome.value);
      case 'retry': {
        const error: RetryError = new Error(`${outcome.record.code}: ${outcome.record.message}`);
        // BullMQ keeps each failed attempt's `stack`: ours is the attempt's record.
        error.stack = JSON.stringify(outcome.record);
        error.prodDelayMs = outcome.delayMs;
        throw error;
      }
      case 'dead': {
        const error = new UnrecoverableError(`${outcome.record.code}: ${outcome.record.message}`);
        error.stack = JSON.stringify(outcome.record);
        throw error;
      }
      case 'requeue':
        // Back to waiting without using an attempt. If Redis is away, the lock expires
        // and the stalled check puts it back all the same.
        return job.moveToWait(token).then(
          () => {
            throw new WaitingError();
          },
          () => {
            throw new WaitingError();
          },
        );
    }
  };

  const workerRedis = (): Redis => {
    workerConnection ??= make({ maxRetriesPerRequest: null, enableOfflineQueue: true });
    return workerConnection;
  };

  const driver: DriverImpl = {
    kind: 'bullmq',
    acquire() {
      users += 1;
    },
    async release() {
      users -= 1;
      if (users > 0 || closed) return 0;
      closed = true;
      await Promise.allSettled([...workers].map((worker) => worker.close()));
      await Promise.allSettled([...queues.values()].map(({ queue }) => queue.close()));
      for (const client of [producer, workerConnection]) {
        if (client === undefined) continue;
        const quit = await withDeadline(() => client.quit(), { timeoutMs: 1000, unref: true });
        if (quit.status !== 'settled') client.disconnect();
      }
      return 0;
    },
    async add(jobs) {
      for (const job of jobs) (job.envelope as Encodable)[ENCODED] = job.json;
      const only = jobs.length === 1 ? jobs[0] : undefined;
      if (only !== undefined) {
        const added = await guard(only.name, (queue) =>
          queue.add(only.name, only.envelope, addOptions(only)),
        );
        return added.ok ? ok([String(added.value.id)]) : added;
      }
      const lanes = new Map<string, number[]>();
      jobs.forEach((job, index) => {
        const list = lanes.get(job.name) ?? [];
        list.push(index);
        lanes.set(job.name, list);
      });
      const ids: string[] = new Array<string>(jobs.length);
      const results = await Promise.all(
        [...lanes].map(([name, indexes]) =>
          guard(name, async (queue) => {
            if (indexes.length === 1) {
              const job = jobs[indexes[0] as number] as StoredJob;
              const added = await queue.add(name, job.envelope, addOptions(job));
              ids[indexes[0] as number] = String(added.id);
              return;
            }
            const added = await queue.addBulk(
              indexes.map((index) => {
                const job = jobs[index] as StoredJob;
                return { name, data: job.envelope, opts: addOptions(job) };
              }),
            );
            added.forEach((job, at) => {
              ids[indexes[at] as number] = String(job.id);
            });
          }),
        ),
      );
      for (const result of results) if (!result.ok) return result;
      return ok(ids);
    },
    work(name, processor, laneOptions): LaneWorker {
      // BullMQ awaits what its processor returns (a plain value too): a promise of ours only
      // when the attempt waited for something.
      const run = (job: Job, token?: string): unknown => {
        const outcome = processor(toActive(job));
        return isThenable(outcome)
          ? outcome.then((settled) => settle(settled, job, token))
          : settle(outcome, job, token);
      };
      const worker = new BullWorker(name, run as BullProcessor, {
        connection: workerRedis(),
        prefix,
        name: WORKER_ID,
        concurrency: laneOptions.concurrency,
        ...(laneOptions.rateLimit === undefined
          ? {}
          : {
              limiter: {
                max: laneOptions.rateLimit.max,
                duration: laneOptions.rateLimit.durationMs,
              },
            }),
        ...keepOptions(laneOptions.keepCompleted, laneOptions.keepFailed),
        lockDuration: lockDurationMs,
        stalledInterval: stalledIntervalMs,
        maxStalledCount,
        settings: {
          backoffStrategy: (_attemptsMade: number, _type?: string, error?: Error) =>
            (error as RetryError | undefined)?.prodDelayMs ?? 0,
        },
      });
      worker.on('error', (error: Error) => report(error));
      workers.add(worker);
      let closing: Promise<void> | undefined;
      return {
        close() {
          closing ??= worker.close().finally(() => workers.delete(worker));
          return closing;
        },
      };
    },
    counts(name) {
      return guard(name, async (queue): Promise<JobCounts> => {
        const c = await queue.getJobCounts(
          'waiting',
          'prioritized',
          'active',
          'delayed',
          'failed',
          'completed',
        );
        return {
          waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
          active: c.active ?? 0,
          delayed: c.delayed ?? 0,
          failed: c.failed ?? 0,
          completed: c.completed ?? 0,
        };
      });
    },
    getJob(name, id) {
      return guard(name, async (queue) => {
        const job = (await queue.getJob(id)) as Job | undefined;
        if (job === undefined) return undefined;
        const state = await job.getState();
        return state === 'unknown' ? undefined : rawJob(job, stateOf(state));
      });
    },
    listFailed(name, start, end) {
      return guard(name, async (queue) => {
        const jobs = (await queue.getFailed(start, end)) as Job[];
        return jobs.filter((job) => job !== undefined).map((job) => rawJob(job, 'failed'));
      });
    },
    retryFailed(name, id) {
      return guard(name, async (queue) => {
        const job = (await queue.getJob(id)) as Job | undefined;
        if (job === undefined || (await job.getState()) !== 'failed') return false;
        try {
          await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
          return true;
        } catch {
          return false; // retried (or removed) by someone else in between
        }
      });
    },
    retryAllFailed(name) {
      return guard(
        name,
        async (queue) => {
          // A snapshot first: a retried job that fails again at once must not be retried twice.
          const total = await queue.getFailedCount();
          const snapshot: Job[] = [];
          for (let start = 0; start < total; start += 500) {
            const page = (await queue.getFailed(start, start + 499)) as Job[];
            snapshot.push(...page.filter((job) => job !== undefined));
            if (page.length < 500) break;
          }
          let retried = 0;
          for (let at = 0; at < snapshot.length; at += 100) {
            const done = await Promise.all(
              snapshot.slice(at, at + 100).map((job) =>
                job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true }).then(
                  () => true,
                  () => false,
                ),
              ),
            );
            retried += done.filter(Boolean).length;
          }
          return retried;
        },
        BULK_TIMEOUT_MS,
      );
    },
    purgeFailed(name, olderThanMs) {
      return guard(
        name,
        async (queue) => (await queue.clean(olderThanMs, 0, 'failed')).length,
        BULK_TIMEOUT_MS,
      );
    },
    upsertSchedule(name, spec, template) {
      return guard(name, async (queue) => {
        await queue.upsertJobScheduler(
          spec.id,
          {
            ...(spec.cron === undefined ? {} : { pattern: spec.cron }),
            ...(spec.everyMs === undefined ? {} : { every: spec.everyMs }),
            ...(spec.tz === undefined ? {} : { tz: spec.tz }),
          },
          { name, data: template.envelope, opts: jobOptions(template) },
        );
      });
    },
    removeSchedule(name, id) {
      return guard(name, (queue) => queue.removeJobScheduler(id));
    },
    listSchedules(name) {
      return guard(name, async (queue) => {
        const list = await queue.getJobSchedulers(0, -1, true);
        return list.map(
          (s): Schedule => ({
            id: s.id ?? s.key,
            name,
            ...(s.pattern === undefined || s.pattern === null ? {} : { cron: s.pattern }),
            ...(s.every === undefined || s.every === null ? {} : { everyMs: Number(s.every) }),
            ...(s.tz === undefined || s.tz === null ? {} : { tz: s.tz }),
            ...(s.next === undefined || s.next === null
              ? {}
              : { nextRunAt: new Date(Number(s.next)).toISOString() }),
          }),
        );
      });
    },
    async check() {
      if (closed)
        return err(
          QueueErrors.QUEUE_CLOSED({ message: 'the BullMQ driver is closed', captureStack: false }),
        );
      const outcome = await withDeadline(
        async () => {
          await connected();
          return producer.info();
        },
        { timeoutMs: commandTimeoutMs, unref: true },
      );
      if (outcome.status === 'timeout')
        return err(unavailable(new Error(`no answer within ${commandTimeoutMs} ms`)));
      if (outcome.status === 'threw') return err(unavailable(outcome.error));
      const field = (key: string): string | undefined =>
        new RegExp(`^${key}:(.*)$`, 'm').exec(outcome.value)?.[1]?.trim();
      return ok({ evictionPolicy: field('maxmemory_policy'), version: field('redis_version') });
    },
    onError(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return brandDriver(driver) as QueueDriver;
}
