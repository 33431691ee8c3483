// What the queue asks of an engine. The two drivers (memory, BullMQ) implement it; everything
// that must behave the same on both (validation, Result handling, retries and their backoff,
// timeouts, tracing, metrics) lives in the queue, above this line.
import type { Result } from '@prod/core';
import type { AttemptRecord, JobCounts, JobState, QueueError, Schedule } from '../types.js';

/** The JSON stored as a job's data. `v` lets a later version read older jobs. */
export interface Envelope {
  readonly v: 1;
  readonly payload: unknown;
  /** W3C trace context of the enqueuing span (`traceparent`, `tracestate`). */
  readonly trace?: Readonly<Record<string, string>>;
}

/** Retention of finished jobs, in engine terms. */
export interface Keep {
  readonly count: number;
  readonly ageMs: number;
}

/** One job to add. */
export interface StoredJob {
  /** The job name, which is also its lane (one engine queue per job name). */
  readonly name: string;
  readonly envelope: Envelope;
  /** `JSON.stringify(envelope)`, already computed by the validation. */
  readonly json: string;
  readonly delay: number;
  /** 0 for none. */
  readonly priority: number;
  readonly maxAttempts: number;
  /** A hash of the idempotency key: the job id and the deduplication key. */
  readonly dedupId: string | undefined;
  readonly dedupTtlMs: number;
  readonly keepCompleted: Keep;
  readonly keepFailed: Keep;
}

/** A job handed to a processor. */
export interface ActiveJob {
  /** The engine's id, unique within the lane. */
  readonly id: string;
  readonly name: string;
  /** The stored data, parsed (not yet checked to be an {@link Envelope}). */
  readonly data: unknown;
  /** Failed attempts before this one. */
  readonly attemptsMade: number;
  readonly maxAttempts: number;
  readonly enqueuedAt: number;
  readonly history: readonly AttemptRecord[];
}

/** What the processor decided. */
export type Outcome =
  | { readonly kind: 'completed'; readonly value: unknown }
  | { readonly kind: 'retry'; readonly delayMs: number; readonly record: AttemptRecord }
  | { readonly kind: 'dead'; readonly record: AttemptRecord }
  /** Back to waiting without using an attempt (a shutdown interrupted it). */
  | { readonly kind: 'requeue' };

/** Runs one job; never rejects, settles in bounded time (at once when the attempt needed no waiting). */
export type Processor = (job: ActiveJob) => Outcome | Promise<Outcome>;

/** How a lane's worker runs. */
export interface LaneOptions {
  readonly concurrency: number;
  readonly rateLimit: { readonly max: number; readonly durationMs: number } | undefined;
  /** Retention of the jobs this worker finishes (the worker's queue decides). */
  readonly keepCompleted: Keep;
  readonly keepFailed: Keep;
}

/** One lane's worker. */
export interface LaneWorker {
  /**
   * Stops fetching jobs at once, then resolves when every job it started has been settled by
   * its processor and its outcome stored. Idempotent.
   */
  close(): Promise<void>;
}

/** A job as stored, in engine terms. */
export interface RawJob {
  readonly id: string;
  readonly name: string;
  readonly state: JobState;
  readonly data: unknown;
  readonly attemptsMade: number;
  readonly maxAttempts: number;
  readonly enqueuedAt: number;
  readonly processedAt: number | undefined;
  readonly finishedAt: number | undefined;
  readonly returnValue: unknown;
  readonly history: readonly AttemptRecord[];
}

/** A repeating job in engine terms. */
export interface ScheduleSpec {
  readonly id: string;
  readonly cron: string | undefined;
  readonly everyMs: number | undefined;
  readonly tz: string | undefined;
}

/** What the startup check found. */
export interface DriverCheck {
  /** Redis' `maxmemory-policy`; undefined for the memory driver. */
  readonly evictionPolicy: string | undefined;
  readonly version: string | undefined;
}

/** An engine. */
export interface DriverImpl {
  readonly kind: 'memory' | 'bullmq';
  /** A queue starts using the driver. */
  acquire(): void;
  /**
   * A queue stops using it; the last one closes it. Resolves with how many unfinished jobs
   * closing it dropped (the memory driver's waiting and delayed jobs; 0 for Redis).
   */
  release(): Promise<number>;
  /** Adds jobs (grouped by lane, each lane atomically); the engine ids, in order. */
  add(jobs: readonly StoredJob[]): Promise<Result<string[], QueueError>>;
  work(lane: string, processor: Processor, options: LaneOptions): LaneWorker;
  counts(lane: string): Promise<Result<JobCounts, QueueError>>;
  getJob(lane: string, id: string): Promise<Result<RawJob | undefined, QueueError>>;
  /** Dead letters, newest first, `start` to `end` inclusive. */
  listFailed(lane: string, start: number, end: number): Promise<Result<RawJob[], QueueError>>;
  /** False when the job is not a dead letter (or does not exist). */
  retryFailed(lane: string, id: string): Promise<Result<boolean, QueueError>>;
  retryAllFailed(lane: string): Promise<Result<number, QueueError>>;
  /** Removes dead letters older than `olderThanMs` (0: all). */
  purgeFailed(lane: string, olderThanMs: number): Promise<Result<number, QueueError>>;
  upsertSchedule(
    lane: string,
    spec: ScheduleSpec,
    template: StoredJob,
  ): Promise<Result<void, QueueError>>;
  removeSchedule(lane: string, id: string): Promise<Result<boolean, QueueError>>;
  listSchedules(lane: string): Promise<Result<Schedule[], QueueError>>;
  check(): Promise<Result<DriverCheck, QueueError>>;
  /** Engine trouble (connection errors) while nobody is waiting for a Result. */
  onError(listener: (error: Error) => void): () => void;
}

const DRIVER = Symbol.for('@prod/queue/driver');

/** Marks an object as a driver of this package. */
export function brandDriver<TDriver extends object>(driver: TDriver): TDriver {
  Object.defineProperty(driver, DRIVER, { value: true });
  return driver;
}

/** Whether `value` is a driver made by this package. */
export function isDriver(value: unknown): value is DriverImpl {
  return typeof value === 'object' && value !== null && DRIVER in value;
}
