// The `t` of an allowed answer against real Redis (the Lua scripts and rate-limiter-flexible's
// fixed window): after `r=0;t=T`, a request at T-1 s is refused and one at T s passes. Every
// instant is read from the Redis clock (the scripts' own), and a probe that a loaded machine
// sent too late to judge is redone with a fresh key, so the verdict never depends on timing.
import {
  type Algorithm,
  createRateLimiter,
  type RateLimitDecision,
  type RateLimiter,
  rateLimitHeaders,
  redisStore,
} from '@prod/ratelimit';
import { redisTestUrl } from '@prod/testing';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';

const redis = await redisTestUrl();
const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await redis.cleanup();
});

const WINDOW = 2000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function connect(): Promise<Redis> {
  const made = new Redis(redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  made.on('error', () => {});
  cleanups.push(() => made.disconnect());
  if (made.status !== 'ready') await new Promise((resolve) => made.once('ready', resolve));
  return made;
}

function header(decision: RateLimitDecision): { r: number; t: number } {
  const match = /;r=(\d+);t=(\d+)/.exec(rateLimitHeaders(decision).ratelimit ?? '');
  if (match === null) throw new Error('no r and t');
  return { r: Number(match[1]), t: Number(match[2]) };
}

interface Verdict {
  readonly t: number;
  readonly resetMs: number;
  readonly early: boolean;
  readonly onTime: boolean;
}

async function scenario(
  client: Redis,
  limiter: RateLimiter,
  key: string,
): Promise<Verdict | undefined> {
  const redisNow = async (): Promise<number> => {
    const [seconds = 0, micros = 0] = (await client.time()) as unknown as [number, number];
    return Number(seconds) * 1000 + Number(micros) / 1000;
  };
  const until = async (at: number): Promise<void> => {
    for (let now = await redisNow(); now < at; now = await redisNow()) {
      await sleep(Math.min(50, Math.max(1, at - now - 5)));
    }
  };
  const decide = async (): Promise<RateLimitDecision> => {
    const result = await limiter.consume(key);
    if (!result.ok) throw result.error;
    return result.value;
  };
  // Early in an (epoch-aligned) window, so that the sliding window's t leaves room to judge.
  while ((await redisNow()) % WINDOW > 300) await sleep(10);
  let last: RateLimitDecision | undefined;
  let before = 0;
  let after = 0;
  for (let i = 0; i < 10 && last?.policies[0]?.remaining !== 0; i += 1) {
    before = await redisNow();
    last = await decide();
    after = await redisNow();
    expect(last.allowed).toBe(true);
  }
  const answer = last as RateLimitDecision;
  const { r, t } = header(answer);
  expect(r).toBe(0);
  const resetMs = answer.policies[0]?.resetMs ?? 0;
  // The answer was decided between `before` and `after`; a request passes resetMs after it.
  await until(after + (t - 1) * 1000);
  const early = await decide();
  const earlyEnd = await redisNow();
  if (earlyEnd >= before + resetMs - 1) return undefined; // sent too late to judge
  // On time: T s after the answer, on the Redis clock.
  await until(after + t * 1000 + 20);
  const onTime = await decide();
  return { t, resetMs, early: early.allowed, onTime: onTime.allowed };
}

describe.skipIf(!redis.available)(
  'Redis store: t on an allowed answer (skipped: Redis not reachable)',
  () => {
    it('after r=0;t=T a request at T-1 s is refused and one at T s passes, for each algorithm', async () => {
      const client = await connect();
      const algorithms: Algorithm[] = ['sliding-window', 'token-bucket', 'fixed-window'];
      const verdicts = await Promise.all(
        algorithms.map(async (algorithm) => {
          const limiter = createRateLimiter({
            name: `t-${algorithm}`,
            store: redisStore({ client, prefix: redis.keyPrefix }),
            // The refusal at T-1 s would be remembered locally until its own retry time: this
            // test is about what the store's answers say, each probe asks Redis.
            denyCache: false,
            policies: [{ name: `t-${algorithm}`, algorithm, limit: 3, window: WINDOW }],
          });
          cleanups.push(() => limiter.close());
          for (let attempt = 0; attempt < 5; attempt += 1) {
            const verdict = await scenario(client, limiter, `${algorithm}-${attempt}`);
            if (verdict !== undefined) return [algorithm, verdict] as const;
          }
          throw new Error(`${algorithm}: the machine was too slow to judge, five times`);
        }),
      );
      // [algorithm, admitted at T-1 s, admitted at T s]
      expect(
        verdicts.map(([algorithm, verdict]) => [algorithm, verdict.early, verdict.onTime]),
      ).toEqual(algorithms.map((algorithm) => [algorithm, false, true]));
      for (const [, verdict] of verdicts) {
        expect(verdict.resetMs).toBeGreaterThan((verdict.t - 1) * 1000);
        expect(verdict.resetMs).toBeLessThanOrEqual(verdict.t * 1000);
      }
      console.log(
        'r=0 answers on Redis:',
        Object.fromEntries(verdicts.map(([algorithm, verdict]) => [algorithm, `t=${verdict.t}`])),
      );
    }, 60_000);
  },
);
