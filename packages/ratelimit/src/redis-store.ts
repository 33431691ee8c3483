import { optionChecks } from '@prod/core';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { RateLimitErrors } from './errors.js';
import {
  type FixedWindowLimiter,
  fixedWindowAnswer,
  fixedWindowRefundable,
} from './internal/fixed-window.js';
import { CONCURRENCY, GCRA, type Script, SLIDING_WINDOW, script } from './internal/lua.js';
import {
  ENGINE,
  type FlexibleLimiter,
  type FlexibleOptions,
  type StoreAnswer,
  type StoreCall,
  type StoreEngine,
} from './internal/store.js';
import { MemoryEngine, type RateLimitStore } from './memory-store.js';
import type { Policy } from './types.js';

/**
 * What the Redis store needs of a client: an ioredis `Redis` or `Cluster` fits (ioredis 5 or
 * 6). Typed structurally: ioredis is never imported.
 */
export interface RedisClientLike {
  /** ioredis' connection state; anything but `ready` sends decisions to the insurance limiter. */
  readonly status?: string;
  evalsha(sha: string, numberOfKeys: number, ...args: (string | number)[]): Promise<unknown>;
  eval(source: string, numberOfKeys: number, ...args: (string | number)[]): Promise<unknown>;
  del(...keys: string[]): Promise<number>;
  /** rate-limiter-flexible defines its fixed-window script on the client with it. */
  defineCommand(name: string, definition: { numberOfKeys: number; lua: string }): void;
}

/** The insurance limiter: what answers while Redis fails or is slower than `timeout`. */
export interface InsuranceOptions {
  /**
   * Each instance admits `ceil(limit / divisor)` while it decides alone: the number of instances
   * sharing the limit, so that an outage neither blocks every request nor lets them all
   * through. Default 1 (each instance alone allows the full limit).
   */
  readonly divisor?: number;
}

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /**
   * An ioredis client, made with `enableOfflineQueue: false` and `maxRetriesPerRequest: 1` (so
   * a disconnected client fails at once instead of queueing for 30 s).
   */
  readonly client: RedisClientLike;
  /** Prepended to every key. Default `rl:`. */
  readonly prefix?: string;
  /**
   * The most a decision waits for Redis, in ms, before the insurance limiter answers. Default
   * 100.
   */
  readonly timeout?: number;
  /**
   * After a failure or a timeout, how long decisions go straight to the insurance limiter before
   * Redis is tried again, in ms (so that a dead Redis costs one timeout per period, not one per
   * request). Default 1000.
   */
  readonly breakDuration?: number;
  /** The insurance limiter, or `false` for none (see the limiter's `onStoreError`). Default `{ divisor: 1 }`. */
  readonly insurance?: InsuranceOptions | false;
}

const check = optionChecks(RateLimitErrors.RATELIMIT_INVALID_OPTIONS);
const SCRIPTS = {
  sliding: script(SLIDING_WINDOW),
  gcra: script(GCRA),
  concurrency: script(CONCURRENCY),
} as const;

type Reply = readonly [number, number, number, number];

const isNoScript = (error: unknown): boolean =>
  error instanceof Error && error.message.startsWith('NOSCRIPT');

class RedisEngine implements StoreEngine {
  readonly [ENGINE] = true as const;
  readonly kind = 'redis' as const;
  readonly insurance: { readonly store: StoreEngine; readonly divisor: number } | undefined;
  readonly timeout: number;
  readonly prefix: string;
  readonly #client: RedisClientLike;
  readonly #breakDuration: number;
  readonly #fixed = new Map<string, FixedWindowLimiter>();
  #brokenUntil = 0;

  constructor(
    client: RedisClientLike,
    prefix: string,
    timeout: number,
    breakDuration: number,
    insurance: InsuranceOptions | false,
  ) {
    this.#client = client;
    this.prefix = prefix;
    this.timeout = timeout;
    this.#breakDuration = breakDuration;
    this.insurance =
      insurance === false
        ? undefined
        : { store: new MemoryEngine(100_000, Date.now), divisor: insurance.divisor ?? 1 };
  }

  ready(): boolean {
    const status = this.#client.status;
    if (status !== undefined && status !== 'ready') return false;
    return this.#brokenUntil === 0 || Date.now() >= this.#brokenUntil;
  }

  flexible(options: FlexibleOptions): FlexibleLimiter {
    return new RateLimiterRedis({
      ...options,
      keyPrefix: `${this.prefix}${options.keyPrefix}`,
      storeClient: this.#client,
      rejectIfRedisNotReady: true,
    }) as unknown as FlexibleLimiter;
  }

  /** Told by the limiter that a call failed or timed out. */
  broke(): void {
    this.#brokenUntil = Date.now() + this.#breakDuration;
  }

  /** Told by the limiter that a call answered. */
  healed(): void {
    this.#brokenUntil = 0;
  }

  async #run(which: Script, key: string, args: (string | number)[]): Promise<unknown> {
    try {
      return await this.#client.evalsha(which.sha, 1, key, ...args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return this.#client.eval(which.source, 1, key, ...args);
    }
  }

  #fixedLimiter(call: StoreCall): FixedWindowLimiter {
    const id = `${call.policy.name}\u0000${call.limit}`;
    let limiter = this.#fixed.get(id);
    if (limiter === undefined) {
      limiter = new RateLimiterRedis({
        storeClient: this.#client,
        keyPrefix: '',
        points: call.limit,
        duration: call.policy.window / 1000,
        blockDuration: call.policy.blockDuration / 1000,
        rejectIfRedisNotReady: true,
      }) as unknown as FixedWindowLimiter;
      this.#fixed.set(id, limiter);
    }
    return limiter;
  }

  consume(call: StoreCall): Promise<StoreAnswer> | StoreAnswer {
    const { policy } = call;
    if (call.limit === 0) {
      const wait = policy.window || policy.lease;
      return { allowed: false, remaining: 0, resetMs: wait, retryMs: wait, charged: false };
    }
    switch (policy.algorithm) {
      case 'fixed-window':
        return this.#fixedLimiter(call)
          .consume(call.key, call.cost)
          .then(
            (res) => fixedWindowAnswer(res, call, true),
            (rejection: unknown) => {
              if (rejection instanceof RateLimiterRes)
                return fixedWindowAnswer(rejection, call, false);
              throw rejection;
            },
          );
      case 'sliding-window':
        return this.#run(SCRIPTS.sliding, call.key, [
          call.limit,
          policy.window,
          call.cost,
          policy.blockDuration,
          'c',
        ]).then(toAnswer);
      case 'token-bucket':
        return this.#run(SCRIPTS.gcra, call.key, [
          call.limit,
          policy.window,
          call.burst,
          call.cost,
          policy.blockDuration,
          'c',
        ]).then(toAnswer);
      case 'concurrency':
        return this.#run(SCRIPTS.concurrency, call.key, [
          call.limit,
          policy.lease,
          call.id,
          'a',
        ]).then(toAnswer);
    }
  }

  refund(call: StoreCall): Promise<unknown> | undefined {
    const { policy } = call;
    switch (policy.algorithm) {
      case 'fixed-window':
        return fixedWindowRefundable(call)
          ? this.#fixedLimiter(call).reward(call.key, call.cost)
          : undefined;
      case 'sliding-window':
        return this.#run(SCRIPTS.sliding, call.key, [call.limit, policy.window, call.cost, 0, 'r']);
      case 'token-bucket':
        return this.#run(SCRIPTS.gcra, call.key, [
          call.limit,
          policy.window,
          call.burst,
          call.cost,
          0,
          'r',
        ]);
      case 'concurrency':
        return this.release(call);
    }
  }

  release(call: StoreCall): Promise<unknown> {
    return this.#run(SCRIPTS.concurrency, call.key, [call.limit, call.policy.lease, call.id, 'r']);
  }

  async reset(key: string, _policy: Policy): Promise<void> {
    await this.#client.del(key);
  }

  async close(): Promise<void> {
    this.#fixed.clear();
    await this.insurance?.store.close();
  }
}

function toAnswer(reply: unknown): StoreAnswer {
  const [allowed, remaining, resetMs, retryMs] = reply as Reply;
  return {
    allowed: Number(allowed) === 1,
    remaining: Number(remaining),
    resetMs: Number(resetMs),
    retryMs: Number(retryMs),
    charged: Number(allowed) === 1,
  };
}

/** Tells the Redis engine how its last call went (the limiter's circuit). */
export function reportStoreHealth(store: StoreEngine, healthy: boolean): void {
  if (!(store instanceof RedisEngine)) return;
  if (healthy) store.healed();
  else store.broke();
}

/**
 * Counters in Redis, shared by every instance: one atomic script per policy and decision (one
 * round trip; the policies of a decision run in parallel), each on a single key, so it works
 * on Redis Cluster too. Fixed windows run on rate-limiter-flexible's `RateLimiterRedis`; sliding
 * windows, token buckets and concurrency slots on this package's Lua scripts. The time is
 * Redis's, so instances with skewed clocks agree.
 *
 * When Redis fails, or takes longer than `timeout`, the insurance limiter (memory, `limit /
 * divisor` per instance) answers, and Redis is left alone for `breakDuration`; decisions made
 * so are flagged `degraded`.
 *
 * @example
 * import { Redis } from 'ioredis';
 * const redis = new Redis({ enableOfflineQueue: false, maxRetriesPerRequest: 1 });
 * const limiter = createRateLimiter({
 *   store: redisStore({ client: redis, timeout: 50, insurance: { divisor: 4 } }),
 *   policies: [{ name: 'per-minute', limit: 600, window: 60_000, algorithm: 'sliding-window' }],
 * });
 */
export function redisStore(options: RedisStoreOptions): RateLimitStore {
  check.object('options', options);
  const client = options.client;
  if (
    typeof client !== 'object' ||
    client === null ||
    typeof client.evalsha !== 'function' ||
    typeof client.eval !== 'function' ||
    typeof client.defineCommand !== 'function'
  ) {
    check.fail('client', 'an ioredis client (Redis or Cluster)', client);
  }
  const prefix = check.string('prefix', options.prefix, 'rl:');
  const timeout = check.duration('timeout', options.timeout, 100, { min: 1 });
  const breakDuration = check.duration('breakDuration', options.breakDuration, 1000);
  let insurance: InsuranceOptions | false = { divisor: 1 };
  if (options.insurance === false) insurance = false;
  else if (options.insurance !== undefined) {
    const given = check.object<InsuranceOptions>('insurance', options.insurance);
    insurance = { divisor: check.integer('insurance.divisor', given.divisor, 1, { min: 1 }) };
  }
  return new RedisEngine(client, prefix, timeout, breakDuration, insurance);
}

/** The key prefix a store was made with (`''` for memory). */
export function storePrefix(store: RateLimitStore): string {
  return (store as { prefix?: string }).prefix ?? '';
}
