// The one file that knows bottleneck (unmaintained since 2020): the throttle speaks only the
// ThrottleEngine interface, so replacing bottleneck means rewriting this file alone.
import Bottleneck from 'bottleneck';

/** How a job ended, when it did not return. */
export type EngineFailure = 'queue_full' | 'timeout' | 'stopped' | 'job' | 'unavailable';

/** A job's failure, told apart from the job's own error. */
export class EngineError extends Error {
  readonly kind: EngineFailure;
  constructor(kind: EngineFailure, cause: unknown) {
    super(kind, { cause });
    this.kind = kind;
  }
}

export interface EngineOptions {
  readonly id: string;
  readonly maxConcurrent: number | null;
  readonly minTime: number;
  readonly maxQueued: number | null;
  readonly reservoir: number | null;
  readonly reservoirRefreshInterval: number | null;
  readonly reservoirRefreshAmount: number | null;
  readonly reservoirIncreaseInterval: number | null;
  readonly reservoirIncreaseAmount: number | null;
  readonly reservoirIncreaseMaximum: number | null;
  /** An ioredis client: the throttle's state lives in Redis, shared by every instance with the same id. */
  readonly redis: unknown;
  readonly clearOnStart: boolean;
}

export interface EngineJob {
  readonly priority: number;
  readonly weight: number;
  readonly timeout: number | null;
}

/** What a throttle needs of a scheduler. */
export interface ThrottleEngine {
  submit<TValue>(job: EngineJob, fn: () => Promise<TValue>): Promise<TValue>;
  counts(): { readonly queued: number; readonly running: number };
  ready(): Promise<void>;
  stop(dropQueued: boolean): Promise<void>;
}

const DROPPED = 'This job has been dropped by Bottleneck';
const STOPPED = 'This limiter has been stopped';

export function bottleneckEngine(options: EngineOptions): ThrottleEngine {
  const client = options.redis as { constructor: unknown } | undefined;
  const connection =
    client === undefined
      ? undefined
      : new Bottleneck.IORedisConnection({ client, Redis: client.constructor });
  const limiter = new Bottleneck({
    id: options.id,
    maxConcurrent: options.maxConcurrent,
    minTime: options.minTime,
    highWater: options.maxQueued,
    strategy: Bottleneck.strategy.OVERFLOW,
    reservoir: options.reservoir,
    reservoirRefreshInterval: options.reservoirRefreshInterval,
    reservoirRefreshAmount: options.reservoirRefreshAmount,
    reservoirIncreaseInterval: options.reservoirIncreaseInterval,
    reservoirIncreaseAmount: options.reservoirIncreaseAmount,
    reservoirIncreaseMaximum: options.reservoirIncreaseMaximum,
    ...(connection === undefined
      ? {}
      : { datastore: 'ioredis', connection, clearDatastore: options.clearOnStart }),
  });
  // Redis errors surface on the limiter; jobs fail on their own, the process must not.
  limiter.on('error', () => {});
  connection?.on('error', () => {});
  let queuedLocally = 0;
  return {
    async submit<TValue>(job: EngineJob, fn: () => Promise<TValue>): Promise<TValue> {
      let started = false;
      queuedLocally += 1;
      try {
        return await limiter.schedule(
          {
            priority: job.priority,
            weight: job.weight,
            ...(job.timeout === null ? {} : { expiration: job.timeout }),
          },
          () => {
            started = true;
            queuedLocally -= 1;
            return fn().catch((error: unknown) => {
              throw new EngineError('job', error);
            });
          },
        );
      } catch (error) {
        if (error instanceof EngineError) throw error;
        const message = error instanceof Error ? error.message : '';
        if (message.startsWith(DROPPED)) throw new EngineError('queue_full', error);
        if (message.startsWith(STOPPED)) throw new EngineError('stopped', error);
        if (message.includes('timed out')) throw new EngineError('timeout', error);
        throw new EngineError(started ? 'job' : 'unavailable', error);
      } finally {
        if (!started) queuedLocally -= 1;
      }
    },
    counts() {
      const counts = limiter.counts();
      return {
        queued: connection === undefined ? (counts.QUEUED ?? 0) : Math.max(0, queuedLocally),
        running: (counts.RUNNING ?? 0) + (counts.EXECUTING ?? 0),
      };
    },
    ready: async () => {
      await limiter.ready();
    },
    async stop(dropQueued) {
      await limiter.stop({ dropWaitingJobs: dropQueued });
      try {
        // A shared connection answers synchronously (undefined), a local one with a promise.
        await limiter.disconnect(false);
      } catch {
        // Already gone: nothing to close.
      }
      // The connection is ours, its client the caller's: close only the subscriber we duplicated.
      (
        connection as unknown as { subscriber?: { disconnect(): void } } | undefined
      )?.subscriber?.disconnect();
    },
  };
}
