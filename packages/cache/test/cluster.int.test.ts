import { createCache, redisStore } from '@prod/cache';
import { type RedisClusterServers, redisServerAvailable, startRedisCluster } from '@prod/testing';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStoreSuite } from './support/store-suite.js';

// A 3-master Redis Cluster started on spare ports for this file, killed by PID at the end.
const available = await redisServerAvailable();
let cluster: RedisClusterServers | undefined;
const clients: Cluster[] = [];

const connect = async (): Promise<Cluster> => {
  if (cluster === undefined) throw new Error('no cluster');
  const client = new Cluster([...cluster.startupNodes], {
    enableOfflineQueue: false,
    lazyConnect: true,
  });
  client.on('error', () => {});
  clients.push(client);
  await client.connect();
  return client;
};

describe.skipIf(!available)('Redis Cluster, 3 nodes (skipped: no redis-server binary)', () => {
  beforeAll(async () => {
    cluster = await startRedisCluster({ nodes: 3 });
  }, 30_000);
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await cluster?.stop();
  });

  runStoreSuite('redisStore (Cluster)', async () => {
    const store = redisStore({ client: await connect(), prefix: 'cl:' });
    const peer = redisStore({ client: await connect(), prefix: 'cl:' });
    expect(store.kind).toBe('redis-cluster');
    return {
      store,
      peer,
      close: async () => void (await Promise.all([store.close(), peer.close()])),
    };
  });

  it('spreads keys over the three nodes and still reads many in one call', async () => {
    const client = await connect();
    const cache = createCache({
      namespace: 'spread',
      l1: false,
      l2: redisStore({ client, prefix: 'cl:' }),
      jitter: 0,
    });
    const keys = Array.from({ length: 60 }, (_, i) => `k${i}`);
    expect(await cache.setMany(keys.map((key, i) => ({ key, value: i })))).toEqual({
      ok: true,
      value: undefined,
    });
    expect(await cache.getMany(keys)).toEqual(keys.map((_, i) => i));
    // Every node holds some of them: the keys were not forced into one slot.
    const counts = await Promise.all(client.nodes('master').map((node) => node.dbsize()));
    expect(counts.filter((count) => count > 0).length).toBe(3);
    await cache.close();
  });

  it('runs the distributed lock on one slot per key, and loads once across two instances', async () => {
    const [a, b] = [await connect(), await connect()];
    const storeA = redisStore({ client: a, prefix: 'cl:' });
    const storeB = redisStore({ client: b, prefix: 'cl:' });
    const one = createCache({ namespace: 'lock', l2: storeA, distributedLock: true, jitter: 0 });
    const two = createCache({ namespace: 'lock', l2: storeB, distributedLock: true, jitter: 0 });
    let calls = 0;
    const loader = async (): Promise<string> => {
      calls += 1;
      await new Promise((resolve) => setTimeout(resolve, 50));
      return 'loaded';
    };
    const results = await Promise.all([
      ...Array.from({ length: 200 }, () => one.getOrSet('hot', loader)),
      ...Array.from({ length: 200 }, () => two.getOrSet('hot', loader)),
    ]);
    expect(calls).toBe(1);
    expect(results.every((r) => r.ok && r.value === 'loaded')).toBe(true);
    await Promise.all([one.close(), two.close(), storeA.close(), storeB.close()]);
  });

  it('invalidates tags and clears a namespace across the nodes', async () => {
    const client = await connect();
    const store = redisStore({ client, prefix: 'cl:' });
    const cache = createCache({ namespace: 'tags', l1: false, l2: store, jitter: 0 });
    for (let i = 0; i < 20; i += 1)
      await cache.set(`t${i}`, i, { tags: i % 2 === 0 ? ['even'] : ['odd'] });
    expect(await cache.invalidateTags(['even'])).toEqual({ ok: true, value: undefined });
    const left = await cache.getMany(Array.from({ length: 20 }, (_, i) => `t${i}`));
    expect(left.filter((v) => v !== undefined)).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
    expect(await cache.clear()).toEqual({ ok: true, value: undefined });
    expect((await cache.getMany(['t1', 't3'])).every((v) => v === undefined)).toBe(true);
    await Promise.all([cache.close(), store.close()]);
  });
});
