import { fileURLToPath } from 'node:url';
import {
  type Algorithm,
  createRateLimiter,
  type RateLimitDecision,
  type RateLimiter,
  redisStore,
} from '@prod/ratelimit';
import {
  type FixtureProcess,
  type RedisServer,
  redisCommandStats,
  redisServerAvailable,
  redisTestUrl,
  spawnFixture,
  startRedisServer,
} from '@prod/testing';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

const redis = await redisTestUrl();
const canStart = await redisServerAvailable();
afterAll(() => redis.cleanup());

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function client(url: string, options: Record<string, unknown> = {}): Redis {
  const made = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, ...options });
  made.on('error', () => {});
  cleanups.push(() => made.disconnect());
  return made;
}

async function ready(made: Redis): Promise<Redis> {
  if (made.status !== 'ready') await new Promise((resolve) => made.once('ready', resolve));
  return made;
}

function limiter(options: Parameters<typeof createRateLimiter>[0]): RateLimiter {
  const made = createRateLimiter(options);
  cleanups.push(() => made.close());
  return made;
}

async function decide(made: RateLimiter, key: string): Promise<RateLimitDecision> {
  const result = await made.consume(key);
  if (!result.ok) throw result.error;
  return result.value;
}

const ALGORITHMS: readonly Algorithm[] = ['fixed-window', 'sliding-window', 'token-bucket'];
const CONTENDER = fileURLToPath(new URL('./fixtures/contender.ts', import.meta.url));

/** A contender process: prints `ready`, takes the instant to start at on stdin, prints its counts. */
function contender(args: string[]): FixtureProcess {
  const child = spawnFixture(CONTENDER, {
    args,
    conditions: ['@prod/source'],
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdin: true,
  });
  cleanups.push(() => child.kill());
  return child;
}

async function counts(child: FixtureProcess): Promise<{ admitted: number; errors: number }> {
  const exit = await child.exited;
  if (exit.code !== 0) throw new Error(`contender exited ${exit.signal ?? exit.code}`);
  return JSON.parse(child.lines.at(-1) ?? '') as { admitted: number; errors: number };
}

describe.skipIf(!redis.available)(
  'Redis store against real Redis (skipped: Redis not reachable)',
  () => {
    for (const algorithm of ALGORITHMS) {
      it(`${algorithm}: two processes sharing a key never admit more than the limit in total`, async () => {
        const key = `atomic-${algorithm}`;
        const args = [redis.url, redis.keyPrefix, algorithm, '100', '150', key];
        const one = contender(args);
        const two = contender(args);
        await Promise.all([one.waitForLine('ready'), two.waitForLine('ready')]);
        const at = Date.now() + 100;
        one.write(`${at}\n`);
        two.write(`${at}\n`);
        const [a, b] = await Promise.all([counts(one), counts(two)]);
        expect(a.errors + b.errors).toBe(0);
        expect(a.admitted + b.admitted).toBe(100);
        // both processes took part (they start on one wall-clock instant, in waves)
        expect(Math.min(a.admitted, b.admitted)).toBeGreaterThan(0);
        console.log(`${algorithm}: admitted ${a.admitted} + ${b.admitted} of 300 sent, limit 100`);
      }, 20_000);
    }

    it.skipIf(!canStart)(
      'a decision is one script call per policy, sent together; a refused key costs no more calls (deny cache; skipped: no redis-server)',
      async () => {
        // A server of its own: the shared one counts every other test's scripts too.
        const own = await startRedisServer();
        cleanups.push(() => own.stop());
        const made = await ready(client(own.url));
        const policies = [
          { name: 'rt-fixed', limit: 5, window: 60_000 },
          { name: 'rt-sliding', limit: 50, window: 60_000, algorithm: 'sliding-window' as const },
          { name: 'rt-bucket', limit: 50, window: 60_000, algorithm: 'token-bucket' as const },
        ];
        const limited = limiter({ store: redisStore({ client: made, prefix: 'rt:' }), policies });
        await decide(limited, 'warm'); // scripts loaded, limiters made
        const calls = async (): Promise<number> => {
          const stats = await redisCommandStats(own);
          return (stats.get('evalsha') ?? 0) + (stats.get('eval') ?? 0);
        };
        const before = await calls();
        for (let i = 0; i < 5; i += 1) expect((await decide(limited, 'rt')).allowed).toBe(true);
        expect((await calls()) - before).toBe(15);
        const refused = await decide(limited, 'rt');
        expect(refused.violated).toEqual(['rt-fixed']);
        const afterRefusal = await calls();
        for (let i = 0; i < 20; i += 1) expect((await decide(limited, 'rt')).allowed).toBe(false);
        expect((await calls()) - afterRefusal).toBe(0);
      },
    );

    it('Redis TIME is the clock: each algorithm admits what its window rule allows across an edge', async () => {
      // Limit 20 per second; a burst of 20 before a window edge and 20 after it. What each
      // algorithm may admit is computed from the Redis clock read around each burst, so a slow
      // or loaded machine changes the figures, never the verdict.
      const made = await ready(client(redis.url));
      const redisNow = async (): Promise<number> => {
        const [seconds = 0, micros = 0] = (await made.time()) as unknown as [number, number];
        return Number(seconds) * 1000 + Number(micros) / 1000;
      };
      const results: Record<string, number> = {};
      for (const algorithm of ALGORITHMS) {
        const name = `edge-${algorithm}`;
        const limited = limiter({
          store: redisStore({ client: made, prefix: redis.keyPrefix }),
          policies: [{ name, limit: 20, window: 1000, algorithm }],
        });
        const burst = async (
          key: string,
        ): Promise<{ admitted: number; start: number; end: number }> => {
          const start = await redisNow();
          const decisions = await Promise.all(
            Array.from({ length: 20 }, () => limited.consume(key)),
          );
          const end = await redisNow();
          return { admitted: decisions.filter((d) => d.ok && d.value.allowed).length, start, end };
        };
        // The first burst must lie inside one (epoch-aligned) window: start it early in one,
        // and take a fresh key if the machine was so slow that it ran into the next.
        let key = name;
        let first = { admitted: 0, start: 0, end: 0 };
        for (let attempt = 0; ; attempt += 1) {
          while ((await redisNow()) % 1000 > 300) {
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
          key = `${name}-${attempt}`;
          first = await burst(key);
          if (Math.floor(first.start / 1000) === Math.floor(first.end / 1000) || attempt >= 20)
            break;
        }
        // Fixed windows start at the key's first request, somewhere inside the first burst
        // (later than its start on a loaded machine): wait a second past the burst's end, on
        // the Redis clock.
        while ((await redisNow()) < first.end + 1000) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        const second = await burst(key);
        const gap = second.end - first.start; // the longest the two bursts can be apart
        expect(first.admitted, algorithm).toBe(20);
        if (algorithm === 'fixed-window') {
          // A new window: the whole second burst goes through (the classic edge burst).
          expect(second.admitted).toBe(20);
        } else if (algorithm === 'token-bucket') {
          // The bucket refilled at 20/s for at most `gap` ms: never more than that.
          expect(second.admitted).toBeLessThanOrEqual(Math.ceil((20 * gap) / 1000) + 1);
          expect(second.admitted).toBeGreaterThan(0);
        } else {
          // Sliding window (epoch-aligned): the previous window's 20 still weigh (1 - f), where f
          // is how far into its window the second burst ran: at most 20 f (+1 for rounding).
          const f = (second.end % 1000) / 1000;
          expect(second.admitted).toBeLessThanOrEqual(Math.ceil(20 * f) + 1);
        }
        results[algorithm] = (first.admitted + second.admitted) / 20;
      }
      console.log('admitted / limit over two bursts a second apart:', results);
    });

    it('concurrency slots are shared by instances and freed by release', async () => {
      const made = await ready(client(redis.url));
      const policies = [{ name: 'slots', limit: 2, algorithm: 'concurrency' as const }];
      const one = limiter({
        name: 'a',
        store: redisStore({ client: made, prefix: redis.keyPrefix }),
        policies,
      });
      const two = limiter({
        name: 'b',
        store: redisStore({ client: made, prefix: redis.keyPrefix }),
        policies,
      });
      const first = await decide(one, 'c');
      await decide(two, 'c');
      expect((await decide(one, 'c')).allowed).toBe(false);
      first.release();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect((await decide(two, 'c')).allowed).toBe(true);
    });

    it('tiers and reset work on Redis', async () => {
      const made = await ready(client(redis.url));
      const limited = limiter({
        store: redisStore({ client: made, prefix: redis.keyPrefix }),
        policies: [{ name: 'tiered', limit: 1, window: 60_000, algorithm: 'sliding-window' }],
        tiers: { pro: { tiered: 3 } },
      });
      const pro = await limited.consume('t', { tier: 'pro' });
      expect(pro.ok && pro.value.policies[0]?.remaining).toBe(2);
      await decide(limited, 't');
      expect((await decide(limited, 't')).allowed).toBe(false);
      expect((await limited.reset('t')).ok).toBe(true);
      expect((await decide(limited, 't')).allowed).toBe(true);
    });
  },
);

describe.skipIf(!canStart)('Redis cut mid-traffic (a spare redis-server, killed by PID)', () => {
  let spare: RedisServer | undefined;
  afterEach(async () => {
    await spare?.stop();
    spare = undefined;
  });

  it('the insurance limiter (limit / divisor) answers within the timeout, and Redis takes over again', async () => {
    spare = await startRedisServer();
    const made = await ready(client(spare.url, { retryStrategy: () => 50 }));
    const limited = limiter({
      store: redisStore({
        client: made,
        timeout: 100,
        breakDuration: 200,
        insurance: { divisor: 2 },
      }),
      policies: [{ name: 'cut', limit: 10, window: 60_000, algorithm: 'sliding-window' }],
    });
    const before = await decide(limited, 'k');
    expect(before.degraded).toBe(false);
    await spare.kill();
    const started = performance.now();
    const during: RateLimitDecision[] = [];
    for (let i = 0; i < 8; i += 1) during.push(await decide(limited, 'k'));
    const elapsed = performance.now() - started;
    expect(during.every((d) => d.degraded)).toBe(true);
    // insurance: ceil(10 / 2) = 5 per instance
    expect(during.filter((d) => d.allowed).length).toBe(5);
    expect(during[0]?.policies[0]?.limit).toBe(5);
    // no stall: 8 decisions in far less than one 30 s offline-queue wait
    expect(elapsed).toBeLessThan(2000);
    await spare.restart();
    await ready(made);
    await new Promise((resolve) => setTimeout(resolve, 250));
    const after = await decide(limited, 'k2');
    expect(after.degraded).toBe(false);
    expect(after.policies[0]?.limit).toBe(10);
  }, 20_000);

  it('a Redis that hangs (DEBUG SLEEP) costs one timeout, then the insurance answers at once', async () => {
    spare = await startRedisServer({ args: ['--enable-debug-command', 'local'] });
    const made = await ready(client(spare.url));
    const admin = await ready(client(spare.url));
    const limited = limiter({
      store: redisStore({ client: made, timeout: 80, breakDuration: 5000 }),
      policies: [{ name: 'hang', limit: 3, window: 60_000, algorithm: 'token-bucket' }],
    });
    await decide(limited, 'k');
    void admin.call('DEBUG', 'SLEEP', '1.5').catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 20));
    const first = performance.now();
    const timedOut = await decide(limited, 'k');
    const firstMs = performance.now() - first;
    expect(timedOut.degraded).toBe(true);
    expect(firstMs).toBeGreaterThanOrEqual(70);
    expect(firstMs).toBeLessThan(1000);
    const next = await decide(limited, 'k');
    expect(next.degraded).toBe(true);
  }, 20_000);

  it('onStoreError "error": a RATELIMIT_STORE_UNAVAILABLE failure, never a hang', async () => {
    spare = await startRedisServer();
    const made = await ready(client(spare.url, { retryStrategy: () => 100 }));
    const limited = limiter({
      store: redisStore({ client: made, insurance: false }),
      policies: [{ name: 'strict', limit: 3, window: 60_000 }],
    });
    await spare.kill();
    const result = await limited.consume('k');
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('RATELIMIT_STORE_UNAVAILABLE');
      expect(result.error.status).toBe(503);
    }
    const open = limiter({
      name: 'open',
      store: redisStore({ client: made, insurance: false }),
      onStoreError: 'allow',
      policies: [{ name: 'strict', limit: 3, window: 60_000 }],
    });
    const allowed = await open.consume('k');
    expect(allowed.ok && allowed.value.allowed && allowed.value.degraded).toBe(true);
  }, 20_000);
});
