// Redis Cluster: a 3-master cluster started here with redis-server on spare ports (killed by PID
// after), an ioredis Cluster client, every algorithm. Each script touches one key, so keys of one
// decision may live on different nodes.
import { type Algorithm, createRateLimiter, redisStore } from '@prod/ratelimit';
import { type RedisClusterServers, redisServerAvailable, startRedisCluster } from '@prod/testing';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const canStart = await redisServerAvailable();

const ALGORITHMS: readonly Algorithm[] = [
  'fixed-window',
  'sliding-window',
  'token-bucket',
  'concurrency',
];

describe.skipIf(!canStart)('Redis Cluster, 3 masters (skipped: no redis-server)', () => {
  let cluster: RedisClusterServers;
  let client: Cluster;
  beforeAll(async () => {
    cluster = await startRedisCluster({ nodes: 3 });
    client = new Cluster([...cluster.startupNodes], {
      enableOfflineQueue: true,
      redisOptions: { maxRetriesPerRequest: 1 },
    });
    client.on('error', () => {});
    await new Promise((resolve) => client.once('ready', resolve));
  }, 30_000);
  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
  });

  for (const algorithm of ALGORITHMS) {
    it(`${algorithm}: exact under concurrency, on many keys over every node`, async () => {
      const limiter = createRateLimiter({
        store: redisStore({ client, timeout: 2000 }),
        policies: [
          algorithm === 'concurrency'
            ? { name: `c-${algorithm}`, limit: 5, algorithm }
            : { name: `c-${algorithm}`, limit: 5, window: 60_000, algorithm },
        ],
      });
      const keys = Array.from({ length: 12 }, (_, i) => `cluster-${algorithm}-${i}`);
      const decisions = await Promise.all(
        keys.flatMap((key) => Array.from({ length: 8 }, () => limiter.consume(key))),
      );
      expect(decisions.every((d) => d.ok)).toBe(true);
      const admitted = decisions.filter((d) => d.ok && d.value.allowed).length;
      expect(admitted).toBe(12 * 5);
      expect(decisions.some((d) => d.ok && d.value.degraded)).toBe(false);
      await limiter.close();
    });
  }

  it("the limiter's keys landed on every node (one key per script, any slot)", async () => {
    const sizes = await Promise.all(client.nodes('master').map((node) => node.dbsize()));
    expect(sizes).toHaveLength(3);
    for (const size of sizes) expect(size).toBeGreaterThan(0);
  });
});
