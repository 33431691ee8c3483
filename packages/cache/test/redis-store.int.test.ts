import { redisStore } from '@prod/cache';
import { redisTestUrl } from '@prod/testing';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { runStoreSuite } from './support/store-suite.js';

const redis = await redisTestUrl();
afterAll(() => redis.cleanup());

describe.skipIf(!redis.available)(
  'redisStore on a single server (skipped: Redis not reachable)',
  () => {
    runStoreSuite('redisStore (single server)', async () => {
      const a = new Redis(redis.url, { enableOfflineQueue: false, lazyConnect: true });
      const b = new Redis(redis.url, { enableOfflineQueue: false, lazyConnect: true });
      await Promise.all([a.connect(), b.connect()]);
      const store = redisStore({ client: a, prefix: redis.keyPrefix });
      const peer = redisStore({ client: b, prefix: redis.keyPrefix });
      return {
        store,
        peer,
        close: async () => {
          await Promise.all([store.close(), peer.close()]);
          a.disconnect();
          b.disconnect();
        },
      };
    });

    it('uses a client with the offline queue off as it is, and duplicates one with it on', async () => {
      const off = new Redis(redis.url, { enableOfflineQueue: false, lazyConnect: true });
      const on = new Redis(redis.url, { lazyConnect: true });
      await off.connect();
      const direct = redisStore({ client: off, prefix: redis.keyPrefix });
      const duplicated = redisStore({ client: on, prefix: redis.keyPrefix });
      await direct.set([{ key: 'oq', value: 'v', ttlMs: 5_000 }]);
      // `on` was never connected: the store talks through a duplicate of its own.
      expect(on.status).toBe('wait');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await duplicated.get('oq')).toBe('v');
      expect(on.status).toBe('wait');
      await Promise.all([direct.close(), duplicated.close()]);
      off.disconnect();
      on.disconnect();
    });

    it('refuses something that is not an ioredis client, with CACHE_INVALID_OPTIONS', () => {
      expect(() => redisStore({ client: {} as never })).toThrow(
        expect.objectContaining({ code: 'CACHE_INVALID_OPTIONS' }),
      );
    });
  },
);
