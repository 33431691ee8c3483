import { err, isProdError, ok, optionChecks, type ProdError, type Result } from '@prod/core';
import { RateLimitErrors } from './errors.js';
import {
  bottleneckEngine,
  EngineError,
  type ThrottleEngine,
} from './internal/bottleneck-engine.js';
import { registerSource } from './internal/metrics.js';
import type { MetricsTarget } from './types.js';

/** Options of {@link createThrottle}. */
export interface ThrottleOptions {
  /** Names the throttle (metrics; with Redis, the shared state: same name, same budget). Default `default`. */
  readonly name?: string;
  /** Jobs running at once. Default `Infinity`. */
  readonly maxConcurrent?: number;
  /** Least time between two job starts, in ms. Default 0. */
  readonly minTime?: number;
  /**
   * Jobs waiting at most; past it a job is refused at once with `THROTTLE_QUEUE_FULL` instead of
   * queueing without bound. Default 10 000 (`Infinity`: no bound).
   */
  readonly maxQueued?: number;
  /** Job starts available; when it reaches 0 nothing starts until it is refilled. Default: no reservoir. */
  readonly reservoir?: number;
  /** Every this many ms, `reservoir` is set back to `reservoirRefreshAmount` (a fixed-window quota). */
  readonly reservoirRefreshInterval?: number;
  readonly reservoirRefreshAmount?: number;
  /** Every this many ms, `reservoir` grows by `reservoirIncreaseAmount`, up to `reservoirIncreaseMaximum` (a token bucket). */
  readonly reservoirIncreaseInterval?: number;
  readonly reservoirIncreaseAmount?: number;
  readonly reservoirIncreaseMaximum?: number;
  /** Default per-job timeout in ms: a job running longer fails with `THROTTLE_TIMEOUT`. Default: none. */
  readonly timeout?: number;
  /**
   * An ioredis client: the throttle's counts live in Redis, so every instance with the same
   * `name` shares one `maxConcurrent`, `minTime` and reservoir.
   */
  readonly redis?: unknown;
  /** With `redis`: wipe the shared state at start (tests). Default false. */
  readonly clearOnStart?: boolean;
  /** Where metrics go (`createMetrics()` of @prod/metrics fits). */
  readonly metrics?: MetricsTarget;
}

/** Per-job options. */
export interface JobOptions {
  /** 0 (first) to 9 (last). Default 5. */
  readonly priority?: number;
  /** How much of `maxConcurrent` and of the reservoir this job takes. Default 1. */
  readonly weight?: number;
  /** This job's timeout in ms (instead of the throttle's). */
  readonly timeout?: number;
}

/** The failures of a throttled job; a job that throws a ProdError fails with that error itself. */
export type ThrottleError = ProdError;

/** Where a throttle stands. */
export interface ThrottleCounts {
  /** Waiting in this process. */
  readonly queued: number;
  /** Running in this process. */
  readonly running: number;
}

/** Outbound throttling: calls to a third-party API at the pace it accepts. */
export interface Throttle {
  readonly name: string;
  /**
   * Runs `job` when the throttle allows.
   *
   * @returns `Ok` with what the job returned, or `Err`: `THROTTLE_QUEUE_FULL` (refused at
   *   once), `THROTTLE_TIMEOUT`, `THROTTLE_STOPPED`, `THROTTLE_UNAVAILABLE` (Redis), the
   *   ProdError the job threw, or `THROTTLE_JOB_FAILED` (anything else it threw, as `cause`).
   */
  schedule<TValue>(
    job: () => TValue | Promise<TValue>,
    options?: JobOptions,
  ): Promise<Result<TValue, ThrottleError>>;
  /** `fn` with every call throttled. */
  wrap<TArgs extends unknown[], TValue>(
    fn: (...args: TArgs) => TValue | Promise<TValue>,
    options?: JobOptions,
  ): (...args: TArgs) => Promise<Result<TValue, ThrottleError>>;
  counts(): ThrottleCounts;
  /** Resolves once the throttle can run jobs (with Redis: connected and its scripts loaded). */
  ready(): Promise<Result<void, ThrottleError>>;
  /** Refuses new jobs; waits for the running ones; queued ones are dropped (`THROTTLE_STOPPED`) or, with `drain`, run first. */
  stop(options?: { readonly drain?: boolean }): Promise<void>;
}

const check = optionChecks(RateLimitErrors.RATELIMIT_INVALID_OPTIONS);
const NAME = /^[A-Za-z0-9._:-]{1,64}$/;
const OUTCOMES = ['done', 'failed', 'timeout', 'queue_full', 'stopped', 'unavailable'] as const;

interface Counters {
  readonly outcomes: number[];
  waitSeconds: number;
}

const optional = (name: string, value: unknown): number | null =>
  value === undefined ? null : check.integer(name, value, 0, { min: 0 });

/**
 * Throttles outbound calls (a payment API that takes 10 requests a second, 2 at a time) on
 * bottleneck, behind this package's own interface: bottleneck is unmaintained, so it stays an
 * implementation detail that can be replaced without changing your code. Every job returns a
 * Result; the queue is bounded (`maxQueued`), so a slow upstream cannot grow it without end.
 *
 * @example
 * const github = createThrottle({ name: 'github', maxConcurrent: 2, minTime: 100, maxQueued: 500 });
 * const user = await github.schedule(async () => {
 *   const response = await fetch('https://api.github.com/users/octocat');
 *   return response.json() as Promise<{ login: string }>;
 * });
 * if (!user.ok && user.error.code === 'THROTTLE_QUEUE_FULL') console.log('busy: try later');
 */
export function createThrottle(options: ThrottleOptions = {}): Throttle {
  check.object('options', options);
  const name = check.string('name', options.name, 'default');
  if (!NAME.test(name))
    check.fail('name', 'letters, digits, ".", "_", ":" or "-" (at most 64)', name);
  const maxConcurrent = check.integer(
    'maxConcurrent',
    options.maxConcurrent,
    Number.POSITIVE_INFINITY,
    {
      min: 1,
      allowInfinity: true,
    },
  );
  const maxQueued = check.integer('maxQueued', options.maxQueued, 10_000, {
    min: 0,
    allowInfinity: true,
  });
  const timeout =
    options.timeout === undefined
      ? null
      : check.duration('timeout', options.timeout, 0, { min: 1 });
  const redis = options.redis;
  if (
    redis !== undefined &&
    (typeof redis !== 'object' ||
      redis === null ||
      typeof (redis as { duplicate?: unknown }).duplicate !== 'function')
  ) {
    check.fail('redis', 'an ioredis client', redis);
  }
  const engine: ThrottleEngine = bottleneckEngine({
    id: `prod-throttle:${name}`,
    maxConcurrent: Number.isFinite(maxConcurrent) ? maxConcurrent : null,
    minTime: check.duration('minTime', options.minTime, 0),
    maxQueued: Number.isFinite(maxQueued) ? maxQueued : null,
    reservoir: optional('reservoir', options.reservoir),
    reservoirRefreshInterval: optional(
      'reservoirRefreshInterval',
      options.reservoirRefreshInterval,
    ),
    reservoirRefreshAmount: optional('reservoirRefreshAmount', options.reservoirRefreshAmount),
    reservoirIncreaseInterval: optional(
      'reservoirIncreaseInterval',
      options.reservoirIncreaseInterval,
    ),
    reservoirIncreaseAmount: optional('reservoirIncreaseAmount', options.reservoirIncreaseAmount),
    reservoirIncreaseMaximum: optional(
      'reservoirIncreaseMaximum',
      options.reservoirIncreaseMaximum,
    ),
    redis,
    clearOnStart: check.boolean('clearOnStart', options.clearOnStart, false),
  });
  const counters: Counters = { outcomes: OUTCOMES.map(() => 0), waitSeconds: 0 };
  const count = (outcome: (typeof OUTCOMES)[number]): void => {
    const at = OUTCOMES.indexOf(outcome);
    counters.outcomes[at] = (counters.outcomes[at] ?? 0) + 1;
  };
  const source = { name, counters, counts: () => engine.counts() };
  const unregister =
    options.metrics === undefined
      ? () => {}
      : registerSource(options.metrics, 'throttle', name, source, THROTTLE_METRICS);

  const schedule = async <TValue>(
    job: () => TValue | Promise<TValue>,
    jobOptions: JobOptions = {},
  ): Promise<Result<TValue, ThrottleError>> => {
    if (typeof job !== 'function') {
      throw RateLimitErrors.RATELIMIT_INVALID_OPTIONS({ message: 'schedule() takes a function' });
    }
    const priority = check.integer('priority', jobOptions.priority, 5, { max: 9 });
    const weight = check.integer('weight', jobOptions.weight, 1, { min: 0 });
    const jobTimeout =
      jobOptions.timeout === undefined
        ? timeout
        : check.duration('timeout', jobOptions.timeout, 0, { min: 1 });
    const queuedAt = performance.now();
    try {
      const value = await engine.submit({ priority, weight, timeout: jobTimeout }, async () => {
        counters.waitSeconds += (performance.now() - queuedAt) / 1000;
        return job();
      });
      count('done');
      return ok(value);
    } catch (error) {
      const failure = error instanceof EngineError ? error : new EngineError('job', error);
      switch (failure.kind) {
        case 'queue_full':
          count('queue_full');
          return err(
            RateLimitErrors.THROTTLE_QUEUE_FULL({
              message: `throttle ${name}: ${maxQueued} jobs already waiting`,
              captureStack: false,
            }),
          );
        case 'timeout':
          count('timeout');
          return err(
            RateLimitErrors.THROTTLE_TIMEOUT({
              message: `throttle ${name}: the job passed its timeout`,
              cause: failure.cause,
            }),
          );
        case 'stopped':
          count('stopped');
          return err(
            RateLimitErrors.THROTTLE_STOPPED({
              message: `throttle ${name} is stopped`,
              captureStack: false,
            }),
          );
        case 'unavailable':
          count('unavailable');
          return err(RateLimitErrors.THROTTLE_UNAVAILABLE({ cause: failure.cause }));
        default: {
          count('failed');
          const cause = failure.cause;
          return err(isProdError(cause) ? cause : RateLimitErrors.THROTTLE_JOB_FAILED({ cause }));
        }
      }
    }
  };

  return {
    name,
    schedule,
    wrap:
      <TArgs extends unknown[], TValue>(
        fn: (...args: TArgs) => TValue | Promise<TValue>,
        jobOptions?: JobOptions,
      ) =>
      (...args: TArgs) =>
        schedule(() => fn(...args), jobOptions),
    counts: () => engine.counts(),
    async ready() {
      try {
        await engine.ready();
        return ok();
      } catch (error) {
        return err(RateLimitErrors.THROTTLE_UNAVAILABLE({ cause: error }));
      }
    },
    async stop(stopOptions = {}) {
      unregister();
      await engine.stop(stopOptions.drain !== true);
    },
  };
}

type Source = { readonly name: string; readonly counters: Counters; counts(): ThrottleCounts };

const THROTTLE_METRICS = [
  {
    name: 'throttle_jobs_total',
    type: 'counter' as const,
    help: 'Throttled jobs by outcome (done, failed, timeout, queue_full, stopped, unavailable)',
    read: (source: Source) =>
      OUTCOMES.map((outcome, at) => ({
        value: source.counters.outcomes[at] ?? 0,
        labels: { throttle: source.name, outcome },
      })),
  },
  {
    name: 'throttle_wait_seconds_total',
    type: 'counter' as const,
    help: 'Time jobs spent queued before they started, summed (divide by throttle_jobs_total for the mean)',
    read: (source: Source) => [
      { value: source.counters.waitSeconds, labels: { throttle: source.name } },
    ],
  },
  {
    name: 'throttle_queued',
    type: 'gauge' as const,
    help: 'Jobs waiting in this process',
    read: (source: Source) => [
      { value: source.counts().queued, labels: { throttle: source.name } },
    ],
  },
  {
    name: 'throttle_running',
    type: 'gauge' as const,
    help: 'Jobs running in this process',
    read: (source: Source) => [
      { value: source.counts().running, labels: { throttle: source.name } },
    ],
  },
];
