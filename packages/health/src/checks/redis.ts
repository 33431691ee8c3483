import { err, ok, type ProdError, type Result } from '@prod/core';
import type { CheckOptions, HealthCheck, Observation } from '../check.js';
import { HealthErrors } from '../errors.js';
import { buildCheck, elapsed } from '../internal/build-check.js';
import { describeThrown } from '../internal/safe-output.js';

/**
 * The part of an ioredis client (v5 or v6, `Redis` or `Cluster`) the check uses, so this
 * package never imports ioredis.
 */
export interface RedisPingClient {
  ping(): Promise<string>;
  /** ioredis' connection state: `wait`, `connecting`, `connect`, `ready`, `reconnecting`, `close`, `end`. */
  readonly status?: string;
}

/** Options of {@link redisCheck}. */
export interface RedisCheckOptions extends CheckOptions {
  /** Answer with `warn` when PING takes longer than this many ms. */
  readonly warnLatency?: number;
}

// States in which ioredis would only queue the PING (offline queue): fail at once instead.
const DOWN_STATES: ReadonlySet<string> = new Set(['reconnecting', 'close', 'end']);

/**
 * A readiness check that sends `PING` to Redis and reports its latency
 * (`redis:responseTime`, ms).
 *
 * ioredis queues commands while disconnected (the offline queue), so a PING can hang for
 * as long as Redis is down: the check is bounded by its own `timeout` (default 500 ms) and
 * fails at once when the client says it is reconnecting or closed.
 *
 * @returns a {@link HealthCheck}; its runs fail with `HEALTH_CHECK_FAILED` (error,
 * unexpected reply, client down) or `HEALTH_CHECK_TIMEOUT`.
 * @example
 * import { Redis } from 'ioredis';
 * const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
 * createHealth({ checks: [redisCheck(redis, { interval: 5_000 })] });
 */
export function redisCheck(client: RedisPingClient, options: RedisCheckOptions = {}): HealthCheck {
  return buildCheck(
    {
      name: 'redis',
      measurement: 'responseTime',
      kind: 'readiness',
      componentType: 'datastore',
      timeout: 500,
    },
    options,
    async (): Promise<Result<Observation, ProdError>> => {
      const state = client.status;
      if (state !== undefined && DOWN_STATES.has(state)) {
        return err(
          HealthErrors.HEALTH_CHECK_FAILED({
            message: `redis connection is ${state}`,
            captureStack: false,
          }),
        );
      }
      const started = performance.now();
      let reply: unknown;
      try {
        reply = await client.ping();
      } catch (error) {
        return err(
          HealthErrors.HEALTH_CHECK_FAILED({
            message: describeThrown(error),
            cause: error,
            captureStack: false,
          }),
        );
      }
      const latency = elapsed(started);
      if (reply !== 'PONG') {
        return err(
          HealthErrors.HEALTH_CHECK_FAILED({
            message: 'unexpected reply to PING',
            captureStack: false,
          }),
        );
      }
      const slow = options.warnLatency !== undefined && latency > options.warnLatency;
      return ok({
        observedValue: latency,
        observedUnit: 'ms',
        ...(slow ? { status: 'warn', output: `PING took over ${options.warnLatency} ms` } : {}),
      });
    },
  );
}
