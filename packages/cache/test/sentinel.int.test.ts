import { createCache, redisStore } from '@prod/cache';
import { type RedisSentinelServers, redisServerAvailable, startRedisSentinel } from '@prod/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStoreSuite } from './support/store-suite.js';

// A master and a Sentinel on spare ports; the clients find the master through the Sentinel.
const available = await redisServerAvailable();
let sentinel: RedisSentinelServers | undefined;
const clients: Redis[] = [];

const connect = async (): Promise<Redis> => {
  if (sentinel === undefined) throw new Error('no sentinel');
  const client = new Redis({
    sentinels: [...sentinel.sentinels],
    name: sentinel.name,
    enableOfflineQueue: false,
    lazyConnect: true,
  });
  client.on('error', () => {});
  clients.push(client);
  await client.connect();
  return client;
};

describe.skipIf(!available)('Redis through Sentinel (skipped: no redis-server binary)', () => {
  beforeAll(async () => {
    sentinel = await startRedisSentinel();
  }, 30_000);
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await sentinel?.stop();
  });

  runStoreSuite('redisStore (Sentinel)', async () => {
    const store = redisStore({ client: await connect(), prefix: 'st:' });
    const peer = redisStore({ client: await connect(), prefix: 'st:' });
    return {
      store,
      peer,
      close: async () => void (await Promise.all([store.close(), peer.close()])),
    };
  });

  it('serves a cache whose L2 is found through the Sentinel', async () => {
    const store = redisStore({ client: await connect(), prefix: 'st:' });
    const cache = createCache({ namespace: 'sentinel', l2: store, jitter: 0 });
    await cache.set('a', { via: 'sentinel' });
    const other = createCache({ namespace: 'sentinel', l2: store, jitter: 0 });
    expect(await other.get('a')).toEqual({ via: 'sentinel' });
    await Promise.all([cache.close(), other.close(), store.close()]);
  });
});
