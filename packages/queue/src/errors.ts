import { defineErrors } from '@prod/core';

/**
 * The error codes of @prod/queue.
 *
 * Job-level codes (`JOB_*`) describe one job: they are returned by `enqueue` for bad input,
 * and recorded in a dead letter's history when a job fails. Queue-level codes (`QUEUE_*`)
 * describe the queue itself: its engine, its options, its state.
 *
 * - `JOB_PAYLOAD_INVALID`: the payload fails its schema, is not JSON, holds a prototype key or
 *   nests too deep (on enqueue: nothing enqueued; when processing: a dead letter).
 * - `JOB_PAYLOAD_TOO_LARGE`: the payload's JSON is over `maxPayloadBytes`.
 * - `JOB_UNKNOWN`: a job name this queue has no definition for.
 * - `JOB_TIMEOUT`: a handler ran past its `timeout` (its signal was aborted).
 * - `JOB_HANDLER_THREW`: a handler threw or rejected instead of returning a Result.
 * - `JOB_INVALID_RESULT`: a handler returned something that is not a Result.
 * - `JOB_STALLED`: the worker running the job died (or blocked its event loop) too many times.
 * - `JOB_NOT_FOUND`: no job (or no dead letter) with that id.
 * - `JOB_SCHEDULE_INVALID`: a schedule with a bad id, cron pattern, interval or time zone.
 * - `QUEUE_UNAVAILABLE`: the engine (Redis) did not answer within the enqueue timeout.
 * - `QUEUE_FULL`: the in-memory driver holds `maxJobs` jobs already.
 * - `QUEUE_CLOSED`: the queue (or outbox) was closed.
 * - `QUEUE_SHUTDOWN`: the reason a handler's signal aborts when a shutdown deadline passes.
 * - `QUEUE_OUTBOX_FAILED`: the outbox table could not be read or written.
 * - `QUEUE_INVALID_OPTIONS`: a bad option, thrown at construction.
 */
export const QueueErrors = defineErrors({
  JOB_PAYLOAD_INVALID: { status: 422, title: 'Invalid job payload' },
  JOB_PAYLOAD_TOO_LARGE: { status: 413, title: 'Job payload too large' },
  JOB_UNKNOWN: { status: 400, title: 'Unknown job' },
  JOB_TIMEOUT: { status: 504, title: 'Job timed out', retryable: true },
  JOB_HANDLER_THREW: { status: 500, title: 'Job handler threw' },
  JOB_INVALID_RESULT: { status: 500, title: 'Job handler returned no Result' },
  JOB_STALLED: { status: 500, title: 'Job stalled', retryable: true },
  JOB_NOT_FOUND: { status: 404, title: 'Job not found' },
  JOB_SCHEDULE_INVALID: { status: 422, title: 'Invalid job schedule' },
  QUEUE_UNAVAILABLE: { status: 503, title: 'Queue unavailable', retryable: true },
  QUEUE_FULL: { status: 503, title: 'Queue full', retryable: true },
  QUEUE_CLOSED: { status: 503, title: 'Queue closed' },
  QUEUE_SHUTDOWN: { status: 503, title: 'Queue shutting down', retryable: true },
  QUEUE_OUTBOX_FAILED: { status: 500, title: 'Outbox failed', retryable: true },
  QUEUE_INVALID_OPTIONS: { status: 500, title: 'Invalid queue options' },
});
