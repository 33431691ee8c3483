// One attempt of one job, the same on every engine: envelope, definition and schema checks,
// the handler under its timeout and the shutdown signal, the Result read into an outcome
// (complete, retry after a backoff, dead letter, or back to waiting), spans and metrics.
import { isSpanContextValid, context as otelContext, type Span } from '@opentelemetry/api';
import {
  isProdError,
  isResult,
  isThenable,
  MAX_TIMER_MS,
  ProdError,
  runWithContext,
} from '@prod/core';
import { QueueErrors } from '../errors.js';
import type {
  AnyJobDefinition,
  AttemptRecord,
  JobContext,
  QueueEvents,
  QueueLogger,
} from '../types.js';
import type { ActiveJob, Envelope, Outcome, Processor } from './driver.js';
import type { Emitter } from './emitter.js';
import { publicId, WORKER_ID } from './ids.js';
import { LazySignal, raceDeadline, type Settled } from './lazy-signal.js';
import type { QueueMetrics } from './metrics.js';
import { type Checked, checkSchema, readEnvelope } from './payload.js';
import { endSpan, startProcess, UNTRACED } from './trace.js';

const MAX_MESSAGE = 1000;
const MAX_STACK = 2000;

interface Running {
  readonly signal: LazySignal;
  interrupted: boolean;
  span: Span | undefined;
  /** Settles the attempt now, whatever the handler does. */
  force: (outcome: Outcome) => void;
  /** Set by interrupt(): the grace timer that forces the attempt. */
  grace?: ReturnType<typeof setTimeout>;
}

/** What a runner needs from its queue. */
export interface RunnerDeps {
  readonly definitions: ReadonlyMap<string, AnyJobDefinition>;
  readonly kind: string;
  readonly metrics: QueueMetrics | undefined;
  readonly events: Emitter<QueueEvents>;
  readonly logger: QueueLogger | undefined;
  /** How long an interrupted handler gets to return before its job is requeued anyway. */
  readonly graceMs: number;
  /** Run handlers in a @prod/core request context of their own. */
  readonly jobContext: boolean;
}

const cut = (text: string, max: number): string =>
  text.length > max ? `${text.slice(0, max)}...` : text;

function record(
  attempt: number,
  error: ProdError,
  durationMs: number,
  stack?: string,
): AttemptRecord {
  return {
    attempt,
    code: error.code,
    message: cut(error.message, MAX_MESSAGE),
    retryable: error.retryable === true,
    at: new Date().toISOString(),
    durationMs: Math.round(durationMs * 1000) / 1000,
    worker: WORKER_ID,
    ...(stack === undefined ? {} : { stack: cut(stack, MAX_STACK) }),
  };
}

/**
 * What a handler is told of its job. A class, so that its two getters live on the prototype:
 * an object literal with getters makes two closures per job.
 */
class AttemptContext implements JobContext {
  readonly name: string;
  readonly maxAttempts: number;
  readonly history: readonly AttemptRecord[];
  readonly #enqueuedAt: number;
  readonly #lazy: LazySignal;

  constructor(
    readonly id: string,
    readonly attempt: number,
    job: ActiveJob,
    lazy: LazySignal,
  ) {
    this.name = job.name;
    this.maxAttempts = job.maxAttempts;
    this.history = job.history;
    this.#enqueuedAt = job.enqueuedAt;
    this.#lazy = lazy;
  }

  get signal(): AbortSignal {
    return this.#lazy.signal;
  }

  get enqueuedAt(): Date {
    return new Date(this.#enqueuedAt);
  }
}

const REQUEUE: Outcome = Object.freeze({ kind: 'requeue' });
// The outcome of most jobs (`ok(undefined)`): one object for all of them.
const COMPLETED: Outcome = Object.freeze({ kind: 'completed', value: undefined });
const noop = (): void => {};

/** Runs the attempts of the jobs a queue works, and interrupts them on shutdown. */
export class Runner {
  private readonly active = new Set<Running>();
  private idle: Array<() => void> = [];
  /** Jobs that settled after `interrupt()` began: finished, or requeued. */
  readonly afterInterrupt = { finished: 0, requeued: 0, abandoned: 0 };
  private interrupting = false;

  constructor(private readonly deps: RunnerDeps) {}

  get running(): number {
    return this.active.size;
  }

  /** The processor of one lane. */
  processor(): Processor {
    return (job) => this.process(job);
  }

  /** Resolves once no attempt runs (at once when none does). */
  whenIdle(): Promise<void> {
    if (this.active.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /**
   * Aborts every running handler's signal with `QUEUE_SHUTDOWN`; a handler that returns a
   * failure then (or throws) has its job put back without using an attempt, and one that has
   * not returned within the grace period is put back anyway (abandoned).
   */
  interrupt(): void {
    this.interrupting = true;
    const reason = QueueErrors.QUEUE_SHUTDOWN({
      message: 'the worker is shutting down: stop and return',
      captureStack: false,
    });
    for (const run of this.active) {
      if (run.interrupted) continue;
      run.interrupted = true;
      run.signal.abort(reason);
      run.grace = setTimeout(() => {
        if (!this.active.has(run)) return;
        this.afterInterrupt.abandoned += 1;
        run.force({ kind: 'requeue' });
      }, this.deps.graceMs);
      run.grace.unref?.();
    }
  }

  private process(job: ActiveJob): Outcome | Promise<Outcome> {
    // A job the engine handed over while the shutdown deadline passed: back, untouched.
    if (this.interrupting) {
      this.deps.metrics?.processed(job.name, 'requeued', 0);
      return REQUEUE;
    }
    const run: Running = {
      signal: new LazySignal(),
      interrupted: false,
      span: undefined,
      force: noop,
    };
    this.active.add(run);
    const started = performance.now();
    let attempted: Outcome | Promise<Outcome>;
    try {
      attempted = this.attempt(job, run, started);
    } catch (error) {
      attempted = this.bug(job, error);
    }
    // An attempt that answered at once (a synchronous schema and handler) needs no promise of
    // ours: nothing can interrupt it in between.
    if (!isThenable(attempted)) return this.settle(job, run, attempted, started);
    // One promise, settled by the attempt, or earlier by interrupt() (for a handler that
    // ignores its aborted signal).
    return new Promise<Outcome>((resolve) => {
      let settled = false;
      const finish = (outcome: Outcome): void => {
        if (settled) return;
        settled = true;
        resolve(this.settle(job, run, outcome, started));
      };
      run.force = finish;
      attempted.then(finish, (error: unknown) => finish(this.bug(job, error)));
    });
  }

  /** attempt() catches what a handler does; reaching here is a bug of ours. The job goes back rather than missing. */
  private bug(job: ActiveJob, error: unknown): Outcome {
    this.deps.logger?.error({ err: error, job: job.name }, 'queue: processing failed');
    return REQUEUE;
  }

  private settle(job: ActiveJob, run: Running, outcome: Outcome, started: number): Outcome {
    this.active.delete(run);
    if (run.grace !== undefined) clearTimeout(run.grace);
    if (this.active.size === 0 && this.idle.length > 0)
      for (const wake of this.idle.splice(0)) wake();
    this.report(job, run, outcome, (performance.now() - started) / 1000);
    return outcome;
  }

  private report(job: ActiveJob, run: Running, outcome: Outcome, seconds: number): void {
    const { metrics, events, logger } = this.deps;
    const id = publicId(job.name, job.id);
    if (this.interrupting && run.interrupted) {
      if (outcome.kind === 'requeue') this.afterInterrupt.requeued += 1;
      else this.afterInterrupt.finished += 1;
    }
    switch (outcome.kind) {
      case 'completed':
        metrics?.processed(job.name, 'completed', seconds);
        if (run.span !== undefined) endSpan(run.span);
        return;
      case 'retry':
        metrics?.processed(job.name, 'retried', seconds);
        if (run.span !== undefined) endSpan(run.span, outcome.record.code, outcome.record.message);
        if (events.has('retry')) {
          events.emit('retry', {
            id,
            name: job.name,
            error: outcome.record,
            delayMs: outcome.delayMs,
          });
        }
        return;
      case 'dead':
        metrics?.processed(job.name, 'dead_lettered', seconds, outcome.record.code);
        if (run.span !== undefined) endSpan(run.span, outcome.record.code, outcome.record.message);
        logger?.warn(
          { job: job.name, id, code: outcome.record.code, attempts: outcome.record.attempt },
          'queue: job moved to the dead letters',
        );
        events.emit('deadLetter', { id, name: job.name, error: outcome.record });
        return;
      case 'requeue':
        metrics?.processed(job.name, 'requeued', seconds);
        if (run.span !== undefined)
          endSpan(run.span, 'QUEUE_SHUTDOWN', 'interrupted by a shutdown');
        return;
    }
  }

  private dead(job: ActiveJob, error: ProdError, started: number): Outcome {
    return {
      kind: 'dead',
      record: record(job.attemptsMade + 1, error, performance.now() - started),
    };
  }

  private failure(
    definition: AnyJobDefinition,
    job: ActiveJob,
    error: ProdError,
    started: number,
    stack?: string,
  ): Outcome {
    const attempt = job.attemptsMade + 1;
    const base = record(attempt, error, performance.now() - started, stack);
    if (!base.retryable || attempt >= job.maxAttempts) return { kind: 'dead', record: base };
    const previous = job.history.at(-1)?.retryDelayMs ?? 0;
    let delay = 0;
    try {
      delay = definition.backoff(attempt, previous);
    } catch {
      delay = 0;
    }
    if (!Number.isFinite(delay) || delay < 0) delay = 0;
    const retryAfter = error.retryAfterMs;
    if (retryAfter !== undefined && Number.isFinite(retryAfter) && retryAfter > delay)
      delay = retryAfter;
    const delayMs = Math.min(Math.round(delay), MAX_TIMER_MS);
    return { kind: 'retry', delayMs, record: { ...base, retryDelayMs: delayMs } };
  }

  private attempt(job: ActiveJob, run: Running, started: number): Outcome | Promise<Outcome> {
    const envelope = readEnvelope(job.data);
    if (envelope === undefined) {
      return this.dead(
        job,
        QueueErrors.JOB_PAYLOAD_INVALID({
          message: `the data of ${job.name} is not a job of @prod/queue (no envelope)`,
          captureStack: false,
        }),
        started,
      );
    }
    const definition = this.deps.definitions.get(job.name);
    const handler = definition?.handler;
    if (definition === undefined || handler === undefined) {
      return this.dead(
        job,
        QueueErrors.JOB_UNKNOWN({
          message: `no handler for the job name ${job.name} on this worker`,
          captureStack: false,
        }),
        started,
      );
    }
    const checked = checkSchema(job.name, definition.schema, envelope.payload);
    return isThenable(checked)
      ? checked.then((settled) => this.call(job, run, started, definition, envelope, settled))
      : this.call(job, run, started, definition, envelope, checked);
  }

  /** Runs the handler on a checked payload, under its timeout, the trace and the job's context. */
  private call(
    job: ActiveJob,
    run: Running,
    started: number,
    definition: AnyJobDefinition,
    envelope: Envelope,
    checked: Checked,
  ): Outcome | Promise<Outcome> {
    if (!checked.ok) return this.dead(job, checked.error, started);
    const payload = checked.value;
    const handler = definition.handler as NonNullable<AnyJobDefinition['handler']>;
    const id = publicId(job.name, job.id);
    const attempt = job.attemptsMade + 1;
    const traced = startProcess(job.name, this.deps.kind, id, attempt, envelope.trace);
    const { span, context } = traced;
    run.span = span;
    const spanContext = span.spanContext();
    const lazy = run.signal;
    const jobContext = new AttemptContext(id, attempt, job, lazy);
    const timeoutMs = definition.timeout;
    // Untraced (no SDK, nothing propagated): known invalid, without the id checks' regexes.
    const valid = traced !== UNTRACED && isSpanContextValid(spanContext);
    const race = (): Settled | Promise<Settled> =>
      raceDeadline(
        () => handler(payload, jobContext),
        timeoutMs,
        () =>
          lazy.abort(
            QueueErrors.JOB_TIMEOUT({
              message: `${job.name} ran past its timeout of ${timeoutMs} ms`,
              details: { timeoutMs },
              captureStack: false,
            }),
          ),
      );
    const call = (): Settled | Promise<Settled> =>
      !this.deps.jobContext
        ? race()
        : runWithContext(
            valid
              ? { requestId: id, traceId: spanContext.traceId, spanId: spanContext.spanId }
              : { requestId: id },
            race,
          );
    // No trace to continue (no SDK, nothing propagated): no OpenTelemetry context to enter.
    const raced = valid ? otelContext.with(context, call) : call();
    return isThenable(raced)
      ? raced.then((settled) => this.outcome(job, run, started, definition, id, settled))
      : this.outcome(job, run, started, definition, id, raced);
  }

  /** Reads how the handler ended into the job's outcome. */
  private outcome(
    job: ActiveJob,
    run: Running,
    started: number,
    definition: AnyJobDefinition,
    id: string,
    outcome: Settled,
  ): Outcome {
    if (outcome.status === 'timeout') {
      if (run.interrupted) return REQUEUE;
      this.watchOverrun(job.name, id, outcome.pending, started);
      return this.failure(
        definition,
        job,
        QueueErrors.JOB_TIMEOUT({
          message: `${job.name} ran past its timeout of ${definition.timeout} ms`,
          details: { timeoutMs: definition.timeout },
          captureStack: false,
        }),
        started,
      );
    }
    if (outcome.status === 'threw') {
      if (run.interrupted) return REQUEUE;
      const thrown = ProdError.from(outcome.error);
      const error = QueueErrors.JOB_HANDLER_THREW({
        message: `the handler threw instead of returning a Result: ${isProdError(outcome.error) ? `${thrown.code}: ` : ''}${thrown.message}`,
        retryable: thrown.retryable,
        cause: outcome.error,
        captureStack: false,
      });
      const stack = outcome.error instanceof Error ? outcome.error.stack : undefined;
      return this.failure(definition, job, error, started, stack);
    }
    const value: unknown = outcome.value;
    if (!isResult(value)) {
      return this.dead(
        job,
        QueueErrors.JOB_INVALID_RESULT({
          message: `the handler of ${job.name} returned ${value === null ? 'null' : typeof value}, not a Result (return ok(value) or err(error))`,
          captureStack: false,
        }),
        started,
      );
    }
    if (value.ok) {
      return value.value === undefined ? COMPLETED : { kind: 'completed', value: value.value };
    }
    if (run.interrupted) return REQUEUE;
    const error = isProdError(value.error) ? value.error : ProdError.from(value.error);
    return this.failure(definition, job, error, started);
  }

  private watchOverrun(
    name: string,
    id: string,
    pending: PromiseLike<unknown> | undefined,
    started: number,
  ): void {
    if (pending === undefined) return;
    const logger = this.deps.logger;
    const noted = (): void => {
      logger?.warn(
        { job: name, id, durationMs: Math.round(performance.now() - started) },
        'queue: a handler returned after its timeout; it does not stop on its signal',
      );
    };
    Promise.resolve(pending).then(noted, noted);
  }
}
