import { err, ok, optionChecks, type ProdError, type Result } from '@prod/core';
import { clientIp } from './client-ip.js';
import { RateLimitErrors } from './errors.js';
import {
  type FlexibleLimiter,
  type FlexibleResult,
  isEngine,
  type StoreEngine,
} from './internal/store.js';
import { memoryStore, type RateLimitStore } from './memory-store.js';

/** Options of {@link createBruteForce}. */
export interface BruteForceOptions {
  /** Names the counters (and so separates two guards on one store). Default `login`. */
  readonly name?: string;
  /** Consecutive failures allowed; the next attempt is refused. Default 5. */
  readonly limit?: number;
  /** How long a failure is remembered, in ms (whole seconds). Default 15 minutes. */
  readonly window?: number;
  /** How long a key stays blocked once `limit` is reached, in ms (whole seconds). Default 15 minutes. */
  readonly blockDuration?: number;
  /** Where failures are counted. Default `memoryStore()`; a `redisStore` shares them. */
  readonly store?: RateLimitStore;
}

/** Where a key stands. */
export interface BruteForceStatus {
  /** Failures left before the key is blocked. */
  readonly remaining: number;
}

/** The failures of a brute-force guard (`RATELIMIT_BLOCKED` carries `retryAfterMs`). */
export type BruteForceError = ProdError<
  'RATELIMIT_BLOCKED' | 'RATELIMIT_STORE_UNAVAILABLE' | 'RATELIMIT_INVALID_KEY'
>;

/** Brute-force protection for one kind of attempt (a login, a password reset, a PIN). */
export interface BruteForce {
  /**
   * Before the attempt: `Err` `RATELIMIT_BLOCKED` (with `retryAfterMs`) while the key is
   * blocked, else `Ok` with the failures left.
   */
  check(key: string): Promise<Result<BruteForceStatus, BruteForceError>>;
  /** After a failed attempt: counts it; `Err` `RATELIMIT_BLOCKED` when this one reached the limit. */
  fail(key: string): Promise<Result<BruteForceStatus, BruteForceError>>;
  /** After a successful attempt: forgets the failures (consecutive failures only count). */
  succeed(key: string): Promise<Result<void, BruteForceError>>;
}

const check = optionChecks(RateLimitErrors.RATELIMIT_INVALID_OPTIONS);
const NAME = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The key of consecutive failures by user and client address: the same user from another
 * network keeps its own count, so an attacker cannot lock a victim out from everywhere, and
 * one address cannot try many passwords for one user. User names are lower-cased and trimmed;
 * IPv6 addresses are grouped by /64.
 *
 * @example
 * bruteForceKey('Alice@example.com ', '2001:db8::1'); // 'alice@example.com|2001:db8::/64'
 */
export function bruteForceKey(user: string, ip: string | undefined): string {
  return `${user.trim().toLowerCase()}|${clientIp(ip) ?? 'unknown'}`;
}

const blocked = (ms: number): BruteForceError =>
  RateLimitErrors.RATELIMIT_BLOCKED({
    message: 'Too many failed attempts: try again later',
    retryAfterMs: Math.max(1000, ms),
    captureStack: false,
  });

const unavailable = (cause: unknown): BruteForceError =>
  RateLimitErrors.RATELIMIT_STORE_UNAVAILABLE({ cause, captureStack: false });

/**
 * Brute-force protection on rate-limiter-flexible: after `limit` consecutive failures of a key,
 * the key is blocked for `blockDuration`; a success resets it. Use {@link bruteForceKey} for
 * user + address keys.
 *
 * @example
 * declare function passwordMatches(user: string, password: string): Promise<boolean>;
 * const logins = createBruteForce({ limit: 5, blockDuration: 15 * 60_000 });
 * async function login(user: string, password: string, ip: string): Promise<number> {
 *   const key = bruteForceKey(user, ip);
 *   const allowed = await logins.check(key);
 *   if (!allowed.ok) return allowed.error.status; // 429 while blocked
 *   if (await passwordMatches(user, password)) {
 *     await logins.succeed(key);
 *     return 200;
 *   }
 *   await logins.fail(key);
 *   return 401;
 * }
 */
export function createBruteForce(options: BruteForceOptions = {}): BruteForce {
  check.object('options', options);
  const name = check.string('name', options.name, 'login');
  if (!NAME.test(name)) check.fail('name', 'letters, digits, ".", "_" or "-" (at most 64)', name);
  const limit = check.integer('limit', options.limit, 5, { min: 1 });
  const window = check.integer('window', options.window, 15 * 60_000, { min: 1000 });
  const blockDuration = check.integer('blockDuration', options.blockDuration, 15 * 60_000, {
    min: 1000,
  });
  if (window % 1000 !== 0) check.fail('window', 'whole seconds in milliseconds', window);
  if (blockDuration % 1000 !== 0)
    check.fail('blockDuration', 'whole seconds in milliseconds', blockDuration);
  const store = options.store ?? memoryStore();
  if (!isEngine(store)) check.fail('store', 'a store made by memoryStore() or redisStore()', store);
  const limiter: FlexibleLimiter = (store as unknown as StoreEngine).flexible({
    keyPrefix: `bf:${name}`,
    points: limit,
    duration: window / 1000,
    blockDuration: 0,
  });
  const validKey = (key: unknown): key is string =>
    typeof key === 'string' && key !== '' && key.length <= 512;
  const badKey = (): BruteForceError =>
    RateLimitErrors.RATELIMIT_INVALID_KEY({
      message: 'the key must be a non-empty string of at most 512 characters',
    });

  const status = (res: FlexibleResult | null): Result<BruteForceStatus, BruteForceError> => {
    // rate-limiter-flexible's memory store hands back a record whose time is up until its timer
    // deletes it (-1 alone means "no expiry", which this guard never sets).
    if (res === null || (res.msBeforeNext <= 0 && res.msBeforeNext !== -1))
      return ok({ remaining: limit });
    if (res.consumedPoints >= limit) return err(blocked(res.msBeforeNext));
    return ok({ remaining: limit - res.consumedPoints });
  };

  return {
    async check(key) {
      if (!validKey(key)) return err(badKey());
      try {
        return status(await limiter.get(key));
      } catch (error) {
        return err(unavailable(error));
      }
    },
    async fail(key) {
      if (!validKey(key)) return err(badKey());
      let res: FlexibleResult;
      try {
        res = await limiter.consume(key, 1);
      } catch (rejection) {
        if (isFlexibleResult(rejection)) return err(blocked(rejection.msBeforeNext));
        return err(unavailable(rejection));
      }
      if (res.consumedPoints < limit) return ok({ remaining: limit - res.consumedPoints });
      try {
        // The limit-th failure starts the block (rate-limiter-flexible would wait for one more).
        await limiter.block(key, blockDuration / 1000);
      } catch (error) {
        return err(unavailable(error));
      }
      return err(blocked(blockDuration));
    },
    async succeed(key) {
      if (!validKey(key)) return err(badKey());
      try {
        await limiter.delete(key);
        return ok();
      } catch (error) {
        return err(unavailable(error));
      }
    },
  };
}

function isFlexibleResult(value: unknown): value is FlexibleResult {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as FlexibleResult).msBeforeNext === 'number' &&
    !(value instanceof Error)
  );
}
