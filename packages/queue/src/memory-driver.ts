import { err, ok, optionChecks, type Result } from '@prod/core';
import { QueueErrors } from './errors.js';
import {
  brandDriver,
  type DriverCheck,
  type DriverImpl,
  type Keep,
  type LaneOptions,
  type LaneWorker,
  type Outcome,
  type Processor,
  type RawJob,
  type ScheduleSpec,
  type StoredJob,
} from './internal/driver.js';
import { Fifo, Heap } from './internal/heap.js';
import { idempotentId } from './internal/ids.js';
import { nextRun } from './internal/schedule.js';
import type { AttemptRecord, JobState, QueueDriver, QueueError, Schedule } from './types.js';

/** Options of {@link memoryDriver}. */
export interface MemoryDriverOptions {
  /**
   * Most jobs held at once that have not finished (waiting, delayed, active), over every job
   * name; past it, enqueue returns `QUEUE_FULL`. Default 100 000.
   */
  readonly maxJobs?: number;
}

interface MemJob {
  readonly id: string;
  readonly name: string;
  readonly json: string;
  readonly priority: number;
  readonly maxAttempts: number;
  readonly enqueuedAt: number;
  readonly keepCompleted: Keep;
  readonly keepFailed: Keep;
  readonly history: AttemptRecord[];
  attemptsMade: number;
  state: JobState;
  seq: number;
  runAt: number;
  processedAt: number | undefined;
  finishedAt: number | undefined;
  returnValue: unknown;
}

interface MemSchedule {
  readonly spec: ScheduleSpec;
  readonly template: StoredJob;
  nextRunAt: number | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
}

interface MemWorker {
  readonly processor: Processor;
  readonly options: LaneOptions;
  running: number;
  closing: boolean;
  windowStart: number;
  windowCount: number;
  limitTimer: ReturnType<typeof setTimeout> | undefined;
  idle: Array<() => void>;
}

const byPriority = (a: MemJob, b: MemJob): boolean =>
  a.priority < b.priority || (a.priority === b.priority && a.seq < b.seq);
const byRunAt = (a: MemJob, b: MemJob): boolean =>
  a.runAt < b.runAt || (a.runAt === b.runAt && a.seq < b.seq);

/** One job name's jobs. */
class Lane {
  readonly jobs = new Map<string, MemJob>();
  readonly wait = new Fifo<MemJob>();
  readonly prioritized = new Heap<MemJob>(byPriority);
  readonly delayed = new Heap<MemJob>(byRunAt);
  readonly active = new Set<MemJob>();
  readonly completed = new Map<string, MemJob>();
  readonly failed = new Map<string, MemJob>();
  readonly dedup = new Map<string, { readonly id: string; readonly until: number }>();
  readonly schedules = new Map<string, MemSchedule>();
  worker: MemWorker | undefined;
  nextId = 1;
  delayTimer: ReturnType<typeof setTimeout> | undefined;
  delayTimerAt = Number.POSITIVE_INFINITY;
  pumpScheduled = false;

  constructor(readonly name: string) {}
}

let seq = 0;

function trim(map: Map<string, MemJob>, jobs: Map<string, MemJob>, keep: Keep, now: number): void {
  const oldest = now - keep.ageMs;
  for (const [id, job] of map) {
    if (map.size <= keep.count && (job.finishedAt ?? now) >= oldest) break;
    map.delete(id);
    jobs.delete(id);
  }
}

function raw(job: MemJob): RawJob {
  return {
    id: job.id,
    name: job.name,
    state: job.state,
    data: JSON.parse(job.json) as unknown,
    attemptsMade: job.attemptsMade,
    maxAttempts: job.maxAttempts,
    enqueuedAt: job.enqueuedAt,
    processedAt: job.processedAt,
    finishedAt: job.finishedAt,
    returnValue: job.returnValue,
    history: [...job.history],
  };
}

const check = optionChecks(QueueErrors.QUEUE_INVALID_OPTIONS);
const closedError = (): Result<never, QueueError> =>
  err(QueueErrors.QUEUE_CLOSED({ message: 'the memory driver is closed', captureStack: false }));

/**
 * The in-process engine: the embedded default, with no infrastructure. Jobs, retries, delays,
 * priorities, idempotency keys, schedules, rate limits and dead letters behave as on BullMQ
 * (one behaviour suite runs on both), in this process's memory.
 *
 * Gotchas: nothing survives the process. Jobs still waiting when it exits are lost (`close()`
 * logs how many), and a schedule lives as long as the process that made it. Use it for
 * development, tests and single-instance services whose jobs can be lost; use
 * `bullmqDriver()` (Redis) for anything else.
 *
 * @example
 * const driver = memoryDriver({ maxJobs: 10_000 });
 */
export function memoryDriver(options: MemoryDriverOptions = {}): QueueDriver {
  const given = check.object<MemoryDriverOptions>('options', options);
  const maxJobs = check.integer('maxJobs', given.maxJobs, 100_000, { min: 1 });
  const lanes = new Map<string, Lane>();
  let users = 0;
  let pending = 0; // unfinished jobs over every lane
  let closed = false;

  const lane = (name: string): Lane => {
    let found = lanes.get(name);
    if (found === undefined) {
      found = new Lane(name);
      lanes.set(name, found);
    }
    return found;
  };

  const enqueueReady = (l: Lane, job: MemJob, front = false): void => {
    job.state = 'waiting';
    if (job.priority > 0) l.prioritized.push(job);
    else if (front) l.wait.unshift(job);
    else l.wait.push(job);
    schedulePump(l);
  };

  const armDelay = (l: Lane): void => {
    const top = l.delayed.peek();
    if (top === undefined) return;
    if (l.delayTimer !== undefined && l.delayTimerAt <= top.runAt) return;
    if (l.delayTimer !== undefined) clearTimeout(l.delayTimer);
    l.delayTimerAt = top.runAt;
    l.delayTimer = setTimeout(() => promote(l), Math.max(0, top.runAt - Date.now()));
    l.delayTimer.unref?.();
  };

  const promote = (l: Lane): void => {
    l.delayTimer = undefined;
    l.delayTimerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    for (
      let top = l.delayed.peek();
      top !== undefined && top.runAt <= now;
      top = l.delayed.peek()
    ) {
      l.delayed.pop();
      enqueueReady(l, top);
    }
    armDelay(l);
  };

  const place = (l: Lane, job: MemJob, delay: number): void => {
    if (delay > 0) {
      job.state = 'delayed';
      job.runAt = Date.now() + delay;
      l.delayed.push(job);
      armDelay(l);
    } else {
      enqueueReady(l, job);
    }
  };

  const next = (l: Lane): MemJob | undefined => l.wait.shift() ?? l.prioritized.pop();

  const mayStart = (l: Lane, worker: MemWorker): boolean => {
    const limit = worker.options.rateLimit;
    if (limit === undefined) return true;
    const now = Date.now();
    if (now >= worker.windowStart + limit.durationMs) {
      worker.windowStart = now;
      worker.windowCount = 0;
    }
    if (worker.windowCount < limit.max) return true;
    if (worker.limitTimer === undefined) {
      worker.limitTimer = setTimeout(
        () => {
          worker.limitTimer = undefined;
          schedulePump(l);
        },
        worker.windowStart + limit.durationMs - now,
      );
      worker.limitTimer.unref?.();
    }
    return false;
  };

  const finish = (l: Lane, job: MemJob, outcome: Outcome): void => {
    l.active.delete(job);
    const now = Date.now();
    switch (outcome.kind) {
      case 'completed':
        job.attemptsMade += 1;
        job.state = 'completed';
        job.finishedAt = now;
        job.returnValue = outcome.value;
        pending -= 1;
        l.completed.set(job.id, job);
        trim(l.completed, l.jobs, l.worker?.options.keepCompleted ?? job.keepCompleted, now);
        return;
      case 'dead':
        job.attemptsMade += 1;
        job.history.push(outcome.record);
        job.state = 'failed';
        job.finishedAt = now;
        pending -= 1;
        l.failed.set(job.id, job);
        trim(l.failed, l.jobs, l.worker?.options.keepFailed ?? job.keepFailed, now);
        return;
      case 'retry':
        job.attemptsMade += 1;
        job.history.push(outcome.record);
        place(l, job, outcome.delayMs);
        return;
      case 'requeue':
        enqueueReady(l, job, true);
        return;
    }
  };

  const start = (l: Lane, worker: MemWorker, job: MemJob): void => {
    job.state = 'active';
    job.processedAt = Date.now();
    l.active.add(job);
    worker.running += 1;
    if (worker.options.rateLimit !== undefined) worker.windowCount += 1;
    let running: Outcome | Promise<Outcome>;
    try {
      running = worker.processor({
        id: job.id,
        name: job.name,
        data: JSON.parse(job.json) as unknown,
        attemptsMade: job.attemptsMade,
        maxAttempts: job.maxAttempts,
        enqueuedAt: job.enqueuedAt,
        history: [...job.history],
      });
    } catch {
      running = { kind: 'requeue' };
    }
    // Settled on a later tick even when the processor answered at once: the pump that started
    // this job is still looping over the lane.
    Promise.resolve(running)
      .then(
        (outcome) => finish(l, job, outcome),
        // A processor never rejects; if one ever did, the job goes back rather than missing.
        () => finish(l, job, { kind: 'requeue' }),
      )
      .finally(() => {
        worker.running -= 1;
        if (worker.closing) {
          if (worker.running === 0) for (const wake of worker.idle.splice(0)) wake();
        } else {
          schedulePump(l);
        }
      });
  };

  const pump = (l: Lane): void => {
    l.pumpScheduled = false;
    const worker = l.worker;
    if (worker === undefined || worker.closing) return;
    while (worker.running < worker.options.concurrency && mayStart(l, worker)) {
      const job = next(l);
      if (job === undefined) return;
      start(l, worker, job);
    }
  };

  function schedulePump(l: Lane): void {
    if (l.pumpScheduled || l.worker === undefined || l.worker.closing) return;
    l.pumpScheduled = true;
    setImmediate(() => pump(l));
  }

  const addOne = (job: StoredJob, now: number): Result<string, QueueError> => {
    const l = lane(job.name);
    let id: string;
    if (job.dedupId !== undefined) {
      if (l.jobs.has(job.dedupId)) return ok(job.dedupId);
      const seen = l.dedup.get(job.dedupId);
      if (seen !== undefined && seen.until > now) return ok(seen.id);
      id = job.dedupId;
      l.dedup.set(job.dedupId, { id, until: now + job.dedupTtlMs });
      if (l.dedup.size > 10_000) {
        for (const [key, entry] of l.dedup) if (entry.until <= now) l.dedup.delete(key);
      }
    } else {
      id = String(l.nextId++);
    }
    if (pending >= maxJobs) {
      return err(
        QueueErrors.QUEUE_FULL({
          message: `the memory driver holds ${pending} unfinished jobs (maxJobs ${maxJobs})`,
          details: { maxJobs },
        }),
      );
    }
    const stored: MemJob = {
      id,
      name: job.name,
      json: job.json,
      priority: job.priority,
      maxAttempts: job.maxAttempts,
      enqueuedAt: now,
      keepCompleted: job.keepCompleted,
      keepFailed: job.keepFailed,
      history: [],
      attemptsMade: 0,
      state: 'waiting',
      seq: seq++,
      runAt: now,
      processedAt: undefined,
      finishedAt: undefined,
      returnValue: undefined,
    };
    l.jobs.set(id, stored);
    pending += 1;
    place(l, stored, job.delay);
    return ok(id);
  };

  const fire = (l: Lane, id: string): void => {
    const schedule = l.schedules.get(id);
    if (schedule === undefined || closed) return;
    const runAt = schedule.nextRunAt ?? Date.now();
    // One job per tick, whoever fires it: the tick is part of the job's idempotency key.
    addOne(
      {
        ...schedule.template,
        dedupId: idempotentId(l.name, `schedule\u0000${id}\u0000${runAt}`),
        dedupTtlMs: 60_000,
      },
      Date.now(),
    );
    arm(l, schedule, runAt);
  };

  const arm = (l: Lane, schedule: MemSchedule, after: number): void => {
    const at = nextRun(schedule.spec, after);
    schedule.nextRunAt = at;
    if (at === undefined) return;
    schedule.timer = setTimeout(() => fire(l, schedule.spec.id), Math.max(0, at - Date.now()));
    schedule.timer.unref?.();
  };

  const driver: DriverImpl = {
    kind: 'memory',
    acquire() {
      users += 1;
    },
    async release() {
      users -= 1;
      if (users > 0 || closed) return 0;
      closed = true;
      let lost = 0;
      for (const l of lanes.values()) {
        lost += l.wait.size + l.prioritized.size + l.delayed.size;
        if (l.delayTimer !== undefined) clearTimeout(l.delayTimer);
        for (const schedule of l.schedules.values()) clearTimeout(schedule.timer);
        if (l.worker?.limitTimer !== undefined) clearTimeout(l.worker.limitTimer);
      }
      return lost;
    },
    async add(jobs) {
      if (closed) return closedError();
      const free = maxJobs - pending;
      const fresh = jobs.filter((job) => job.dedupId === undefined).length;
      if (fresh > free) {
        return err(
          QueueErrors.QUEUE_FULL({
            message: `the memory driver holds ${pending} unfinished jobs (maxJobs ${maxJobs})`,
            details: { maxJobs },
          }),
        );
      }
      const now = Date.now();
      const ids: string[] = [];
      for (const job of jobs) {
        const added = addOne(job, now);
        if (!added.ok) return added;
        ids.push(added.value);
      }
      return ok(ids);
    },
    work(name, processor, options): LaneWorker {
      const l = lane(name);
      const worker: MemWorker = {
        processor,
        options,
        running: 0,
        closing: false,
        windowStart: 0,
        windowCount: 0,
        limitTimer: undefined,
        idle: [],
      };
      l.worker = worker;
      schedulePump(l);
      return {
        close() {
          worker.closing = true;
          if (worker.limitTimer !== undefined) clearTimeout(worker.limitTimer);
          if (l.worker === worker) l.worker = undefined;
          if (worker.running === 0) return Promise.resolve();
          return new Promise<void>((resolve) => worker.idle.push(resolve));
        },
      };
    },
    async counts(name) {
      if (closed) return closedError();
      const l = lane(name);
      return ok({
        waiting: l.wait.size + l.prioritized.size,
        active: l.active.size,
        delayed: l.delayed.size,
        failed: l.failed.size,
        completed: l.completed.size,
      });
    },
    async getJob(name, id) {
      if (closed) return closedError();
      const job = lane(name).jobs.get(id);
      return ok(job === undefined ? undefined : raw(job));
    },
    async listFailed(name, startAt, end) {
      if (closed) return closedError();
      const all = [...lane(name).failed.values()].reverse();
      return ok(all.slice(startAt, end + 1).map(raw));
    },
    async retryFailed(name, id) {
      if (closed) return closedError();
      const l = lane(name);
      const job = l.failed.get(id);
      if (job === undefined) return ok(false);
      if (pending >= maxJobs) {
        return err(
          QueueErrors.QUEUE_FULL({ message: 'the memory driver is full', details: { maxJobs } }),
        );
      }
      l.failed.delete(id);
      job.attemptsMade = 0;
      job.finishedAt = undefined;
      pending += 1;
      enqueueReady(l, job);
      return ok(true);
    },
    async retryAllFailed(name) {
      if (closed) return closedError();
      const l = lane(name);
      let count = 0;
      for (const id of [...l.failed.keys()]) {
        const retried = await driver.retryFailed(name, id);
        if (!retried.ok) return count === 0 ? retried : ok(count);
        if (retried.value) count += 1;
      }
      return ok(count);
    },
    async purgeFailed(name, olderThanMs) {
      if (closed) return closedError();
      const l = lane(name);
      const before = Date.now() - olderThanMs;
      let count = 0;
      for (const [id, job] of l.failed) {
        if (olderThanMs > 0 && (job.finishedAt ?? 0) > before) continue;
        l.failed.delete(id);
        l.jobs.delete(id);
        count += 1;
      }
      return ok(count);
    },
    async upsertSchedule(name, spec, template) {
      if (closed) return closedError();
      const l = lane(name);
      const existing = l.schedules.get(spec.id);
      if (existing !== undefined) clearTimeout(existing.timer);
      const schedule: MemSchedule = { spec, template, nextRunAt: undefined, timer: undefined };
      l.schedules.set(spec.id, schedule);
      if (spec.everyMs !== undefined) {
        // As BullMQ's job schedulers do: an interval schedule runs once at once, then on
        // every multiple of its interval.
        schedule.nextRunAt = Date.now();
        schedule.timer = setTimeout(() => fire(l, spec.id), 0);
        schedule.timer.unref?.();
      } else {
        arm(l, schedule, Date.now());
      }
      return ok(undefined);
    },
    async removeSchedule(name, id) {
      if (closed) return closedError();
      const l = lane(name);
      const existing = l.schedules.get(id);
      if (existing === undefined) return ok(false);
      clearTimeout(existing.timer);
      l.schedules.delete(id);
      return ok(true);
    },
    async listSchedules(name) {
      if (closed) return closedError();
      const out: Schedule[] = [];
      for (const { spec, nextRunAt } of lane(name).schedules.values()) {
        out.push({
          id: spec.id,
          name,
          ...(spec.cron === undefined ? {} : { cron: spec.cron }),
          ...(spec.everyMs === undefined ? {} : { everyMs: spec.everyMs }),
          ...(spec.tz === undefined ? {} : { tz: spec.tz }),
          ...(nextRunAt === undefined ? {} : { nextRunAt: new Date(nextRunAt).toISOString() }),
        });
      }
      return ok(out);
    },
    async check(): Promise<Result<DriverCheck, QueueError>> {
      return ok({ evictionPolicy: undefined, version: undefined });
    },
    onError() {
      return () => {};
    },
  };
  return brandDriver(driver) as QueueDriver;
}
