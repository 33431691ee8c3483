import { optionChecks } from '@prod/core';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { RateLimitErrors } from './errors.js';
import {
  gcraConsume,
  gcraRefund,
  type SlidingState,
  slidingConsume,
  slidingRefund,
} from './internal/algorithms.js';
import {
  type FixedWindowLimiter,
  type FixedWindowResult,
  fixedWindowAnswer,
  fixedWindowRefundable,
} from './internal/fixed-window.js';
import {
  ENGINE,
  type FlexibleLimiter,
  type FlexibleOptions,
  type MaybePromise,
  type StoreAnswer,
  type StoreCall,
  type StoreEngine,
} from './internal/store.js';
import type { Policy } from './types.js';

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /**
   * The most keys kept for the sliding-window, token-bucket and concurrency policies; past it
   * the oldest are dropped (a flood of random keys cannot grow the heap without bound).
   * Default 100 000.
   */
  readonly maxKeys?: number;
  /** Now, in milliseconds (tests). Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * Where a limiter keeps its counters. Made by {@link memoryStore} (the embedded default) or
 * {@link redisStore}; anything else is refused.
 */
export interface RateLimitStore {
  readonly kind: 'memory' | 'redis';
  /** Stops timers and, for a store that made its own Redis client, closes it. */
  close(): Promise<void>;
}

// Every field present from the start: one object shape for every entry, whatever its policy.
interface Entry {
  expires: number;
  sliding: SlidingState | undefined;
  tat: number | undefined;
  slots: Map<string, number> | undefined;
}

const check = optionChecks(RateLimitErrors.RATELIMIT_INVALID_OPTIONS);
// rate-limiter-flexible's per-call options (none), shared: its default would be a new `{}` a call.
const NO_FLEXIBLE_OPTIONS = Object.freeze({});

/**
 * The counter store inside rate-limiter-flexible's `RateLimiterMemory` (its `_memoryStorage`):
 * `consume` is these two calls wrapped in a new promise. Driven directly (see
 * {@link MemoryEngine.fixedConsumeNow}), a decision needs no promise of its own.
 */
interface FlexibleMemoryStorage {
  incrby(key: string, value: number, durationSec: number): FixedWindowResult;
  set(key: string, value: number, durationSec: number): FixedWindowResult;
}

/** One fixed-window limit: rate-limiter-flexible's limiter, and its counters when reachable. */
interface FixedLimit {
  readonly policy: Policy;
  readonly limit: number;
  readonly limiter: FixedWindowLimiter;
  /** Undefined when this rate-limiter-flexible does not have the storage read here. */
  readonly storage: FlexibleMemoryStorage | undefined;
  /** Seconds, as rate-limiter-flexible's `duration` and `blockDuration`. */
  readonly duration: number;
  readonly blockDuration: number;
}

/** The limiter's storage when it is the one this package drives (rate-limiter-flexible 11). */
function memoryStorageOf(limiter: unknown): FlexibleMemoryStorage | undefined {
  const storage = (limiter as { readonly _memoryStorage?: Partial<FlexibleMemoryStorage> })
    ._memoryStorage;
  const plain = limiter as { readonly execEvenly?: unknown; readonly keyPrefix?: unknown };
  return typeof storage?.incrby === 'function' &&
    typeof storage.set === 'function' &&
    plain.execEvenly === false &&
    plain.keyPrefix === ''
    ? (storage as FlexibleMemoryStorage)
    : undefined;
}

/** Whether a fixed-window rejection is rate-limiter-flexible's refusal (not a failure). */
export function isFlexibleRefusal(rejection: unknown): rejection is FixedWindowResult {
  return rejection instanceof RateLimiterRes;
}

/** The memory engine: exported for the Redis store's insurance limiter. */
export class MemoryEngine implements StoreEngine {
  readonly [ENGINE] = true as const;
  readonly kind = 'memory' as const;
  readonly insurance = undefined;
  readonly timeout = Number.POSITIVE_INFINITY;
  readonly #entries = new Map<string, Entry>();
  readonly #fixed = new Map<string, FixedLimit>();
  readonly #lastFixed = new WeakMap<Policy, FixedLimit>();
  #recentFixed: FixedLimit | undefined;
  readonly #maxKeys: number;
  readonly #now: () => number;
  #sweeps = 0;

  constructor(maxKeys: number, now: () => number) {
    this.#maxKeys = maxKeys;
    this.#now = now;
  }

  ready(): boolean {
    return true;
  }

  flexible(options: FlexibleOptions): FlexibleLimiter {
    return new RateLimiterMemory({ ...options }) as unknown as FlexibleLimiter;
  }

  #entry(key: string, now: number, ttl: number): Entry {
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      if (this.#entries.size >= this.#maxKeys) this.#evict(now);
      entry = { expires: now + ttl, sliding: undefined, tat: undefined, slots: undefined };
      this.#entries.set(key, entry);
    } else if (entry.expires <= now) {
      // Made anew, as the newest key (eviction drops the oldest first), in the same object.
      this.#entries.delete(key);
      if (this.#entries.size >= this.#maxKeys) this.#evict(now);
      entry.expires = now + ttl;
      entry.sliding = undefined;
      entry.tat = undefined;
      entry.slots = undefined;
      this.#entries.set(key, entry);
    }
    return entry;
  }

  /** Drops expired entries, then the oldest, so that one more fits. */
  #evict(now: number): void {
    this.#sweeps += 1;
    for (const [key, entry] of this.#entries) {
      if (entry.expires <= now) this.#entries.delete(key);
    }
    const over = this.#entries.size - this.#maxKeys + 1;
    if (over <= 0) return;
    let dropped = 0;
    // Map order is insertion order: the first keys are the oldest.
    for (const key of this.#entries.keys()) {
      if (dropped >= Math.max(over, this.#maxKeys >> 6)) break;
      this.#entries.delete(key);
      dropped += 1;
    }
  }

  #fixedLimit(policy: Policy, limit: number): FixedLimit {
    // The common case, one limit per policy, without building an id string per call; the last
    // limit resolved first, without even the WeakMap lookup.
    const recent = this.#recentFixed;
    if (recent !== undefined && recent.policy === policy && recent.limit === limit) {
      return recent;
    }
    const last = this.#lastFixed.get(policy);
    if (last !== undefined && last.limit === limit) {
      this.#recentFixed = last;
      return last;
    }
    const id = `${policy.name}\u0000${limit}`;
    let fixed = this.#fixed.get(id);
    if (fixed === undefined) {
      const duration = policy.window / 1000;
      const blockDuration = policy.blockDuration / 1000;
      const limiter = new RateLimiterMemory({
        keyPrefix: '',
        points: limit,
        duration,
        blockDuration,
      });
      fixed = {
        policy,
        limit,
        limiter: limiter as unknown as FixedWindowLimiter,
        storage: memoryStorageOf(limiter),
        duration,
        blockDuration,
      };
      this.#fixed.set(id, fixed);
    }
    this.#lastFixed.set(policy, fixed);
    this.#recentFixed = fixed;
    return fixed;
  }

  /**
   * A fixed-window call as rate-limiter-flexible's `RateLimiterMemory.consume` makes it, the same
   * steps on the same counters, answered at once rather than through a new promise: refused when
   * `consumedPoints > limit` (then, as there, a first excess starts the block). Undefined when
   * the storage is not reachable: use {@link fixedConsume}. Takes the parts of a `StoreCall`,
   * so that an admission allocates none.
   */
  fixedConsumeNow(
    policy: Policy,
    limit: number,
    key: string,
    cost: number,
  ): FixedWindowResult | undefined {
    const fixed = this.#fixedLimit(policy, limit);
    const storage = fixed.storage;
    if (storage === undefined) return undefined;
    const res = storage.incrby(key, cost, fixed.duration);
    const consumed = res.consumedPoints;
    (res as { remainingPoints: number }).remainingPoints = Math.max(limit - consumed, 0);
    if (consumed > limit && fixed.blockDuration > 0 && consumed <= limit + cost) {
      return storage.set(key, consumed, fixed.blockDuration);
    }
    return res;
  }

  /**
   * A fixed-window call as rate-limiter-flexible answers it, its own promise with nothing
   * chained: a refusal rejects with its `RateLimiterRes` (see {@link isFlexibleRefusal}).
   */
  fixedConsume(call: StoreCall): Promise<FixedWindowResult> {
    return this.#fixedLimit(call.policy, call.limit).limiter.consume(
      call.key,
      call.cost,
      NO_FLEXIBLE_OPTIONS,
    );
  }

  consume(call: StoreCall): MaybePromise<StoreAnswer> {
    const { policy } = call;
    switch (policy.algorithm) {
      case 'fixed-window': {
        if (call.limit === 0) {
          return {
            allowed: false,
            remaining: 0,
            resetMs: policy.window,
            retryMs: policy.window,
            charged: false,
          };
        }
        const now = this.fixedConsumeNow(policy, call.limit, call.key, call.cost);
        if (now !== undefined)
          return fixedWindowAnswer(now, call, now.consumedPoints <= call.limit);
        return this.fixedConsume(call).then(
          (res) => fixedWindowAnswer(res, call, true),
          (rejection: unknown) => {
            if (rejection instanceof RateLimiterRes)
              return fixedWindowAnswer(rejection, call, false);
            throw rejection;
          },
        );
      }
      case 'sliding-window': {
        const now = this.#now();
        const entry = this.#entry(call.key, now, policy.window * 2);
        entry.sliding ??= {
          start: now - (now % policy.window),
          current: 0,
          previous: 0,
          blockedUntil: 0,
        };
        const answer = slidingConsume(
          entry.sliding,
          now,
          policy.window,
          call.limit,
          call.cost,
          policy.blockDuration,
        );
        entry.expires = Math.max(
          entry.expires,
          entry.sliding.start + policy.window * 2,
          entry.sliding.blockedUntil,
        );
        return answer;
      }
      case 'token-bucket': {
        const now = this.#now();
        const entry = this.#entry(call.key, now, policy.window);
        const { answer, tat } = gcraConsume(
          entry.tat ?? 0,
          now,
          policy.window,
          call.limit,
          call.burst,
          call.cost,
          policy.blockDuration,
        );
        entry.tat = tat;
        entry.expires = Math.max(now + 1, Math.ceil(tat));
        return answer;
      }
      case 'concurrency': {
        const now = this.#now();
        const entry = this.#entry(call.key, now, policy.lease);
        entry.slots ??= new Map();
        const slots = entry.slots;
        let soonest = Number.POSITIVE_INFINITY;
        for (const [id, until] of slots) {
          if (until <= now) slots.delete(id);
          else soonest = Math.min(soonest, until);
        }
        if (slots.size + 1 > call.limit) {
          const wait = Number.isFinite(soonest) ? soonest - now : policy.lease;
          return {
            allowed: false,
            remaining: 0,
            resetMs: wait,
            retryMs: Math.max(1, wait),
            charged: false,
          };
        }
        slots.set(call.id, now + policy.lease);
        entry.expires = Math.max(entry.expires, now + policy.lease);
        return {
          allowed: true,
          remaining: call.limit - slots.size,
          resetMs: 0,
          retryMs: 0,
          charged: true,
        };
      }
    }
  }

  refund(call: StoreCall): MaybePromise<unknown> {
    const { policy } = call;
    if (policy.algorithm === 'fixed-window') {
      return fixedWindowRefundable(call)
        ? this.#fixedLimit(call.policy, call.limit).limiter.reward(call.key, call.cost)
        : undefined;
    }
    if (policy.algorithm === 'concurrency') return this.release(call);
    const entry = this.#entries.get(call.key);
    if (entry === undefined) return undefined;
    const now = this.#now();
    if (entry.sliding !== undefined) slidingRefund(entry.sliding, now, policy.window, call.cost);
    if (entry.tat !== undefined)
      entry.tat = gcraRefund(entry.tat, now, policy.window, call.limit, call.cost);
    return undefined;
  }

  release(call: StoreCall): MaybePromise<unknown> {
    this.#entries.get(call.key)?.slots?.delete(call.id);
    return undefined;
  }

  async reset(key: string, policy: Policy): Promise<void> {
    this.#entries.delete(key);
    for (const [id, fixed] of this.#fixed) {
      if (id.startsWith(`${policy.name}\u0000`)) await fixed.limiter.delete(key);
    }
  }

  /** How many keys the sliding, token-bucket and concurrency policies hold (tests, metrics). */
  get size(): number {
    return this.#entries.size;
  }

  async close(): Promise<void> {
    this.#entries.clear();
    this.#fixed.clear();
  }
}

/**
 * The embedded default store: counters in this process, nothing to run. Each process counts
 * alone, so N instances behind a load balancer admit up to N x the limit: use
 * {@link redisStore} to share the counts.
 *
 * @example
 * const limiter = createRateLimiter({
 *   store: memoryStore({ maxKeys: 50_000 }),
 *   policies: [{ name: 'per-minute', limit: 60, window: 60_000 }],
 * });
 */
export function memoryStore(options: MemoryStoreOptions = {}): RateLimitStore {
  check.object('options', options);
  const maxKeys = check.integer('maxKeys', options.maxKeys, 100_000, { min: 1 });
  const now = check.fn<() => number>('now', options.now) ?? Date.now;
  return new MemoryEngine(maxKeys, now);
}
