import v8 from 'node:v8';
import { type Cache, createCache, redisStore } from '@prod/cache';
import {
  type RedisServer,
  redisCommandStats,
  redisServerAvailable,
  redisTestUrl,
  startRedisServer,
} from '@prod/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const redis = await redisTestUrl();
const canStart = await redisServerAvailable();
const clients: Redis[] = [];
afterAll(async () => {
  for (const client of clients) client.disconnect();
  await redis.cleanup();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function client(url: string): Promise<Redis> {
  const made = new Redis(url, {
    enableOfflineQueue: false,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
  });
  made.on('error', () => {});
  clients.push(made);
  await made.connect();
  return made;
}

/** Two instances of a service: separate L1s and connections, one Redis. */
async function twoInstances(
  namespace: string,
  options: Parameters<typeof createCache>[0] = {},
): Promise<[Cache, Cache]> {
  const make = async (): Promise<Cache> => {
    const cache = createCache({
      namespace,
      jitter: 0,
      ...options,
      l2: redisStore({ client: await client(redis.url), prefix: redis.keyPrefix }),
    });
    return cache;
  };
  const pair: [Cache, Cache] = [await make(), await make()];
  // Both buses subscribed before the test writes.
  for (let i = 0; i < 100 && !pair.every((cache) => cache.stats().bus.connected); i += 1)
    await sleep(10);
  return pair;
}

/** Polls until `read` gives `expected` (the bus is asynchronous), at most 2 s. */
async function eventually<T>(read: () => Promise<T>, expected: T): Promise<T> {
  let last = await read();
  for (let i = 0; i < 200 && last !== expected; i += 1) {
    await sleep(10);
    last = await read();
  }
  return last;
}

describe.skipIf(!redis.available)(
  'two instances on one Redis (skipped: Redis not reachable)',
  () => {
    it("drops the other instance's L1 copy on set, delete, invalidateTags and clear", async () => {
      const [a, b] = await twoInstances('inval');
      expect(a.stats().bus.connected).toBe(true);
      await a.set('k', 'v1', { tags: ['t'] });
      expect(await b.get('k')).toBe('v1'); // now in b's L1
      await a.set('k', 'v2', { tags: ['t'] });
      expect(await eventually(() => b.get('k'), 'v2')).toBe('v2');
      await a.delete('k');
      expect(await eventually(() => b.get('k'), undefined)).toBeUndefined();
      await a.set('k', 'v3', { tags: ['t'] });
      expect(await eventually(() => b.get('k'), 'v3')).toBe('v3');
      await a.invalidateTags(['t']);
      expect(await eventually(() => b.get('k'), undefined)).toBeUndefined();
      await a.set('k', 'v4');
      expect(await eventually(() => b.get('k'), 'v4')).toBe('v4');
      await a.clear();
      expect(await eventually(() => b.get('k'), undefined)).toBeUndefined();
      expect(b.stats().bus.received).toBeGreaterThanOrEqual(5);
      // b answered from its own L1 in between: the copies were real, and dropped by the bus.
      expect(b.stats().l1.hits).toBeGreaterThan(0);
      await Promise.all([a.close(), b.close()]);
    });

    it('calls the loader once per process for 1,000 concurrent cold calls, once in total with the lock', async () => {
      for (const [distributedLock, expected] of [
        [false, 2],
        [true, 1],
      ] as const) {
        const [a, b] = await twoInstances(`stampede-${distributedLock}`, { distributedLock });
        let calls = 0;
        const loader = async (): Promise<{ rows: number }> => {
          calls += 1;
          await sleep(50);
          return { rows: 42 };
        };
        const results = await Promise.all([
          ...Array.from({ length: 1_000 }, () => a.getOrSet('report', loader)),
          ...Array.from({ length: 1_000 }, () => b.getOrSet('report', loader)),
        ]);
        expect(calls).toBe(expected);
        expect(results.every((r) => r.ok && (r.value as { rows: number }).rows === 42)).toBe(true);
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('serves what the lock holder loaded to an instance that waited, without loading', async () => {
      const [a, b] = await twoInstances('waiter', { distributedLock: true });
      let calls = 0;
      const slow = async (): Promise<string> => {
        calls += 1;
        await sleep(150);
        return 'from-a';
      };
      const first = a.getOrSet('k', slow);
      await sleep(30); // a holds the lock now
      const second = await b.getOrSet('k', slow);
      expect(second).toEqual({ ok: true, value: 'from-a' });
      expect(await first).toEqual({ ok: true, value: 'from-a' });
      expect(calls).toBe(1);
      await Promise.all([a.close(), b.close()]);
    });

    it('takes over when the lock holder fails', async () => {
      const [a, b] = await twoInstances('takeover', { distributedLock: true });
      const failing = a.getOrSet('k', async () => {
        await sleep(60);
        throw new Error('holder failed');
      });
      await sleep(20);
      const second = await b.getOrSet('k', async () => 'from-b');
      expect(await failing).toMatchObject({ ok: false, error: { code: 'CACHE_LOADER_FAILED' } });
      expect(second).toEqual({ ok: true, value: 'from-b' });
      await Promise.all([a.close(), b.close()]);
    });
  },
);

describe.skipIf(!canStart)(
  'Redis commands per operation, on a redis-server of its own (skipped: no redis-server)',
  () => {
    let server: RedisServer;
    let cache: Cache;
    beforeAll(async () => {
      server = await startRedisServer();
      cache = createCache({
        namespace: 'count',
        jitter: 0,
        l2: redisStore({ client: await client(server.url), prefix: 'c:' }),
      });
      for (let i = 0; i < 50 && !cache.stats().bus.connected; i += 1) await sleep(10);
    });
    afterAll(async () => {
      await cache?.close();
      await server?.stop();
    });

    const delta = async (work: () => Promise<unknown>): Promise<Map<string, number>> => {
      const before = await redisCommandStats(server);
      await work();
      const after = await redisCommandStats(server);
      const changes = new Map<string, number>();
      for (const [name, calls] of after) {
        const diff = calls - (before.get(name) ?? 0);
        // INFO itself is the only command of the measuring side.
        if (diff > 0 && name !== 'info') changes.set(name, diff);
      }
      return changes;
    };

    it('reads 100 keys that miss L1 with one MGET', async () => {
      const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
      await cache.setMany(keys.map((key, i) => ({ key, value: i })));
      const other = createCache({
        namespace: 'count',
        jitter: 0,
        bus: false,
        l2: redisStore({ client: await client(server.url), prefix: 'c:' }),
      });
      let values: unknown[] = [];
      const used = await delta(async () => {
        values = await other.getMany(keys);
      });
      expect(values).toEqual(keys.map((_, i) => i));
      expect([...used]).toEqual([['mget', 1]]);
      await other.close();
    });

    it('writes 100 entries with one pipeline: 100 SETs and one PUBLISH', async () => {
      const keys = Array.from({ length: 100 }, (_, i) => `w${i}`);
      const used = await delta(() => cache.setMany(keys.map((key, i) => ({ key, value: i }))));
      expect(Object.fromEntries(used)).toEqual({ set: 100, publish: 1 });
    });

    it('answers an L2 hit of getOrSet with one GET, and an L1 hit with none', async () => {
      await cache.set('hit', 'v');
      const fresh = createCache({
        namespace: 'count',
        jitter: 0,
        bus: false,
        l2: redisStore({ client: await client(server.url), prefix: 'c:' }),
      });
      const l2Hit = await delta(() => fresh.getOrSet('hit', () => 'never'));
      expect([...l2Hit]).toEqual([['get', 1]]);
      const l1Hit = await delta(() => fresh.getOrSet('hit', () => 'never'));
      expect(l1Hit.size).toBe(0);
      await fresh.close();
    });
  },
);

describe.skipIf(!redis.available)(
  'a binary serializer on Redis (skipped: Redis not reachable)',
  () => {
    it('reads its bytes back whole, through GET, MGET and the lock script', async () => {
      const v8Serializer = {
        id: 'v8',
        binary: true,
        serialize: (value: unknown) => v8.serialize(value),
        deserialize: (data: string | Uint8Array) => v8.deserialize(Buffer.from(data as Uint8Array)),
      };
      const make = async (): Promise<Cache> =>
        createCache({
          namespace: 'binary',
          serializer: v8Serializer,
          distributedLock: true,
          l1: false,
          l2: redisStore({ client: await client(redis.url), prefix: redis.keyPrefix }),
        });
      const [a, b] = [await make(), await make()];
      const value = { at: new Date(0), bytes: Buffer.from([0, 10, 13, 255]), big: 2n ** 70n };
      expect(await a.set('k', value)).toEqual({ ok: true, value: undefined });
      expect(await b.get('k')).toEqual(value);
      expect(await b.getMany(['k', 'missing'])).toEqual([value, undefined]);
      expect(await b.getOrSet('k', () => 'never')).toEqual({ ok: true, value });
      expect(await b.getOrSet('loaded', () => new Map([[1, 'one']]))).toEqual({
        ok: true,
        value: new Map([[1, 'one']]),
      });
      expect(await a.getOrSet('loaded', () => 'never')).toEqual({
        ok: true,
        value: new Map([[1, 'one']]),
      });
      await Promise.all([a.close(), b.close()]);
    });
  },
);
