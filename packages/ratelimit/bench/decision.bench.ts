/**
 * One rate-limit decision: @prod/ratelimit against rate-limiter-flexible 11 used directly, for
 * the same algorithm (fixed window), in memory (CPU time) and on the real Redis at
 * 127.0.0.1:6379 (wall time: a round trip), plus our sliding window and token bucket for
 * reference. Every decision is admitted (the limit is out of reach) and reads its remaining
 * count, as a caller writing headers would. Run: `pnpm bench:micro ratelimit/bench/decision`.
 */
import { createRateLimiter, memoryStore, redisStore } from '@prod/ratelimit';
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterRes } from 'rate-limiter-flexible';
import { keep, runMicro } from '../../../config/bench-micro.js';

const LIMIT = 2_000_000_000;
const WINDOW = 3600;
const prefix = `bench:${process.pid}:`;

// --- memory ------------------------------------------------------------------------------

const rlfMemory = new RateLimiterMemory({ keyPrefix: '', points: LIMIT, duration: WINDOW });
const ours = (algorithm: 'fixed-window' | 'sliding-window' | 'token-bucket') =>
  createRateLimiter({
    store: memoryStore(),
    policies: [{ name: 'p', limit: LIMIT, window: WINDOW * 1000, algorithm }],
  });
const oursFixed = ours('fixed-window');
const oursSliding = ours('sliding-window');
const oursBucket = ours('token-bucket');

let n = 0;
const key = (): string => {
  n = (n + 1) & 1023;
  return `client-${n}`;
};

const readRes = (res: RateLimiterRes): number => res.remainingPoints;
type Decided = Awaited<ReturnType<typeof oursFixed.consume>>;
const readOurs = (result: Decided): number =>
  result.ok ? (result.value.policies[0]?.remaining ?? 0) : -1;

// --- Redis -------------------------------------------------------------------------------

const redis = new Redis(process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379', {
  enableOfflineQueue: true,
  maxRetriesPerRequest: 1,
  lazyConnect: true,
});
let redisUp = false;
try {
  await redis.connect();
  await redis.ping();
  redisUp = true;
} catch {
  redis.disconnect();
}
const rlfRedis = redisUp
  ? new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `${prefix}rlf`,
      points: LIMIT,
      duration: WINDOW,
    })
  : undefined;
const store = redisUp ? redisStore({ client: redis, prefix, timeout: 1000 }) : undefined;
const oursRedis = (algorithm: 'fixed-window' | 'sliding-window' | 'token-bucket') =>
  store === undefined
    ? undefined
    : createRateLimiter({
        store,
        policies: [{ name: algorithm, limit: LIMIT, window: WINDOW * 1000, algorithm }],
      });
const oursRedisFixed = oursRedis('fixed-window');
const oursRedisBucket = oursRedis('token-bucket');

const RLF_MEMORY = 'rate-limiter-flexible RateLimiterMemory.consume';
const OURS_FIXED = '@prod/ratelimit fixed window (memory store, over rate-limiter-flexible)';
const OURS_SLIDING = '@prod/ratelimit sliding window (memory store)';
const OURS_BUCKET = '@prod/ratelimit token bucket / GCRA (memory store)';
const RLF_REDIS = 'rate-limiter-flexible RateLimiterRedis.consume';
const OURS_REDIS_FIXED = '@prod/ratelimit fixed window (Redis store, over rate-limiter-flexible)';
const OURS_REDIS_BUCKET = '@prod/ratelimit token bucket / GCRA (Redis store, Lua)';

try {
  await runMicro({
    file: import.meta.url,
    title: '@prod/ratelimit: one decision vs rate-limiter-flexible used directly',
    groups: [
      {
        name: 'memory, one decision (admitted, 1024 keys)',
        contenders: {
          [RLF_MEMORY]: async () => keep(readRes(await rlfMemory.consume(key(), 1))),
          [OURS_FIXED]: async () => keep(readOurs(await oursFixed.consume(key()))),
          [OURS_SLIDING]: async () => keep(readOurs(await oursSliding.consume(key()))),
          [OURS_BUCKET]: async () => keep(readOurs(await oursBucket.consume(key()))),
        },
        ratios: [
          {
            ours: OURS_FIXED,
            peer: RLF_MEMORY,
            label: 'fixed window, same algorithm (goal: >= 0.91, i.e. < 10 % overhead)',
          },
          {
            ours: OURS_BUCKET,
            peer: RLF_MEMORY,
            label: 'token bucket vs rate-limiter-flexible fixed window',
          },
          {
            ours: OURS_SLIDING,
            peer: RLF_MEMORY,
            label: 'sliding window vs rate-limiter-flexible fixed window',
          },
        ],
      },
      ...(rlfRedis === undefined || oursRedisFixed === undefined || oursRedisBucket === undefined
        ? []
        : [
            {
              name: 'Redis at 127.0.0.1:6379, one decision (one round trip each)',
              clock: 'wall' as const,
              contenders: {
                [RLF_REDIS]: async () => keep(readRes(await rlfRedis.consume(key(), 1))),
                [OURS_REDIS_FIXED]: async () => keep(readOurs(await oursRedisFixed.consume(key()))),
                [OURS_REDIS_BUCKET]: async () =>
                  keep(readOurs(await oursRedisBucket.consume(key()))),
              },
              ratios: [
                {
                  ours: OURS_REDIS_FIXED,
                  peer: RLF_REDIS,
                  label: 'fixed window on Redis, same algorithm (goal: >= 0.91)',
                },
                {
                  ours: OURS_REDIS_BUCKET,
                  peer: RLF_REDIS,
                  label: 'token bucket (Lua) vs rate-limiter-flexible fixed window',
                },
              ],
            },
          ]),
    ],
  });
} finally {
  if (redisUp) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  }
  redis.disconnect();
}
