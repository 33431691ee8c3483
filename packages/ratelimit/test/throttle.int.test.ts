import { bruteForceKey, createBruteForce, createThrottle, redisStore } from '@prod/ratelimit';
import { redisTestUrl } from '@prod/testing';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';

const redis = await redisTestUrl();
const clients: Redis[] = [];
afterAll(async () => {
  for (const client of clients) client.disconnect();
  await redis.cleanup();
});

async function client(): Promise<Redis> {
  const made = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  made.on('error', () => {});
  clients.push(made);
  if (made.status !== 'ready') await new Promise((resolve) => made.once('ready', resolve));
  return made;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!redis.available)('clustered through Redis (skipped: Redis not reachable)', () => {
  it('two throttles of one name share maxConcurrent: their jobs never overlap', async () => {
    const name = `${redis.keyPrefix.replace(/:/g, '-')}shared`;
    const options = { name, maxConcurrent: 1, clearOnStart: true } as const;
    const one = createThrottle({ ...options, redis: await client() });
    expect((await one.ready()).ok).toBe(true);
    const two = createThrottle({ ...options, clearOnStart: false, redis: await client() });
    expect((await two.ready()).ok).toBe(true);
    let running = 0;
    let most = 0;
    const job = async (): Promise<number> => {
      running += 1;
      most = Math.max(most, running);
      await sleep(15);
      running -= 1;
      return 1;
    };
    const results = await Promise.all([
      ...Array.from({ length: 4 }, () => one.schedule(job)),
      ...Array.from({ length: 4 }, () => two.schedule(job)),
    ]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(most).toBe(1);
    await one.stop();
    await two.stop();
  }, 20_000);

  it('brute-force counts are shared through a Redis store', async () => {
    const shared = await client();
    const a = createBruteForce({
      name: 'shared-login',
      limit: 2,
      store: redisStore({ client: shared, prefix: redis.keyPrefix }),
    });
    const b = createBruteForce({
      name: 'shared-login',
      limit: 2,
      store: redisStore({ client: shared, prefix: redis.keyPrefix }),
    });
    const key = bruteForceKey('bob', '192.0.2.1');
    expect((await a.fail(key)).ok).toBe(true);
    const second = await b.fail(key);
    expect(!second.ok && second.error.code).toBe('RATELIMIT_BLOCKED');
    expect((await a.check(key)).ok).toBe(false);
    await a.succeed(key);
    expect((await b.check(key)).ok).toBe(true);
  });
});
