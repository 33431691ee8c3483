/**
 * @prod/cache side by side with raw lru-cache, bentocache 1.6 and cache-manager 7 (Keyv 5,
 * @keyv/redis 5), on one redis-server this file starts on a spare port (so that INFO
 * commandstats counts nobody else's commands) and stops at the end.
 *
 * Groups: L1 hit `get`; L1 hit `getOrSet`; L2-only `getOrSet` hit on Redis (L1 disabled);
 * `getMany` of 100 keys from Redis. After the timings, the parent process counts the Redis
 * commands each contender sends per operation (CONFIG RESETSTAT, 1 000 operations, INFO
 * commandstats) and prints them next to the ratios.
 *
 * Run: `pnpm bench:micro cache/bench/cache` (a redis-server binary is needed).
 */
import KeyvRedis from '@keyv/redis';
import { createCache, redisStore } from '@prod/cache';
import { redisCommand, redisCommandStats, startRedisServer } from '@prod/testing';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisDriver } from 'bentocache/drivers/redis';
import { createCache as createCacheManager } from 'cache-manager';
import { Redis } from 'ioredis';
import { Keyv } from 'keyv';
import { LRUCache } from 'lru-cache';
import { keep, type MicroGroup, runMicro } from '../../../config/bench-micro.js';

const CHILD = process.env.BENCH_MICRO_CHILD !== undefined;
const PORT_VARIABLE = 'PROD_CACHE_BENCH_REDIS_PORT';

// The parent starts the one Redis every measuring process uses.
const server = CHILD ? undefined : await startRedisServer();
if (server !== undefined) process.env[PORT_VARIABLE] = String(server.port);
const port = Number(process.env[PORT_VARIABLE]);
const url = `redis://127.0.0.1:${port}`;

// 1 000 keys, each a small JSON object (a typical row), visited in turn.
const KEYS = Array.from({ length: 1_000 }, (_, i) => `user:${i}`);
const VALUE = (i: number) => ({
  id: i,
  name: `user ${i}`,
  email: `user${i}@example.com`,
  roles: ['reader'],
  active: true,
});
let at = 0;
const nextKey = (): string => {
  at = (at + 1) % KEYS.length;
  return KEYS[at] as string;
};
const loader = () => VALUE(at);
const MANY = KEYS.slice(0, 100);

// --- L1 contenders ------------------------------------------------------------------------

const lruTtl = new LRUCache<string, object>({ max: 10_000, ttl: 60_000 });
const lruPlain = new LRUCache<string, object>({ max: 10_000 });
const ours = createCache({ namespace: 'bench', ttl: 60_000, jitter: 0, tracing: false });
const bentoL1 = new BentoCache({
  default: 'memory',
  stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: 10_000, serialize: false })) },
});
const managerL1 = createCacheManager({ stores: [new Keyv()] });
for (const [i, key] of KEYS.entries()) {
  lruTtl.set(key, VALUE(i));
  lruPlain.set(key, VALUE(i));
  await ours.set(key, VALUE(i));
  await bentoL1.set({ key, value: VALUE(i), ttl: '1m' });
  await managerL1.set(key, VALUE(i), 60_000);
}

// --- L2 contenders (Redis, no L1) -----------------------------------------------------------

const client = new Redis(url, { enableOfflineQueue: false, lazyConnect: true });
await client.connect();
const oursL2 = createCache({
  namespace: 'bench',
  ttl: 600_000,
  jitter: 0,
  l1: false,
  bus: false,
  tracing: false,
  l2: redisStore({ client, prefix: 'prod:' }),
});
const bentoL2 = new BentoCache({
  default: 'redis',
  stores: {
    redis: bentostore().useL2Layer(redisDriver({ connection: { host: '127.0.0.1', port } })),
  },
});
const keyvRedis = new KeyvRedis(url);
const managerL2 = createCacheManager({ stores: [new Keyv({ store: keyvRedis, namespace: 'cm' })] });

if (!CHILD) {
  for (const [i, key] of KEYS.entries()) {
    await oursL2.set(key, VALUE(i));
    await bentoL2.set({ key, value: VALUE(i), ttl: '10m' });
    await managerL2.set(key, VALUE(i), 600_000);
  }
}

const groups: MicroGroup[] = [
  {
    name: 'L1 hit: get',
    contenders: {
      '@prod/cache get': () => ours.get(nextKey()),
      'lru-cache get (ttl)': () => keep(lruTtl.get(nextKey())),
      'lru-cache get (no ttl)': () => keep(lruPlain.get(nextKey())),
      'lru-cache get, as a promise': () => Promise.resolve(lruTtl.get(nextKey())),
      'bentocache get': () => bentoL1.get({ key: nextKey() }),
      'cache-manager get': () => managerL1.get(nextKey()),
    },
    ratios: [
      {
        ours: '@prod/cache get',
        peer: 'lru-cache get (ttl)',
        label: '@prod/cache get vs raw lru-cache get (ttl set)',
      },
      {
        ours: '@prod/cache get',
        peer: 'lru-cache get, as a promise',
        label: '@prod/cache get vs raw lru-cache get, awaited',
      },
      { ours: '@prod/cache get', peer: 'bentocache get' },
      { ours: '@prod/cache get', peer: 'cache-manager get' },
    ],
  },
  {
    name: 'L1 hit: getOrSet',
    contenders: {
      '@prod/cache getOrSet': () => ours.getOrSet(nextKey(), loader),
      '@prod/cache getOrSet, options literal': () =>
        ours.getOrSet(nextKey(), loader, { ttl: 60_000 }),
      'bentocache getOrSet': () => bentoL1.getOrSet({ key: nextKey(), factory: loader, ttl: '1m' }),
      'cache-manager wrap': () => managerL1.wrap(nextKey(), loader, 60_000),
    },
    ratios: [
      { ours: '@prod/cache getOrSet', peer: 'bentocache getOrSet' },
      {
        ours: '@prod/cache getOrSet, options literal',
        peer: 'bentocache getOrSet',
        label: '@prod/cache getOrSet { ttl } vs bentocache getOrSet',
      },
      { ours: '@prod/cache getOrSet', peer: 'cache-manager wrap' },
    ],
  },
  {
    name: 'L2 only (Redis): getOrSet hit',
    clock: 'wall',
    contenders: {
      '@prod/cache getOrSet (l1: false)': () => oursL2.getOrSet(nextKey(), loader),
      'bentocache getOrSet (L2 only)': () =>
        bentoL2.getOrSet({ key: nextKey(), factory: loader, ttl: '10m' }),
      'cache-manager wrap (@keyv/redis)': () => managerL2.wrap(nextKey(), loader, 600_000),
      'ioredis GET (the floor)': () => client.get(`prod:{bench:${nextKey()}}`),
    },
    ratios: [
      { ours: '@prod/cache getOrSet (l1: false)', peer: 'bentocache getOrSet (L2 only)' },
      { ours: '@prod/cache getOrSet (l1: false)', peer: 'cache-manager wrap (@keyv/redis)' },
      {
        ours: '@prod/cache getOrSet (l1: false)',
        peer: 'ioredis GET (the floor)',
        label: '@prod/cache getOrSet vs a bare ioredis GET',
      },
    ],
  },
  {
    name: 'L2 (Redis): getMany of 100 keys',
    clock: 'wall',
    contenders: {
      '@prod/cache getMany (l1: false)': () => oursL2.getMany(MANY),
      'bentocache, 100 gets at once': () => Promise.all(MANY.map((key) => bentoL2.get({ key }))),
      'cache-manager mget (@keyv/redis)': () => managerL2.mget(MANY),
      'ioredis MGET (the floor)': () => client.mget(...MANY.map((key) => `prod:{bench:${key}}`)),
    },
    ratios: [
      { ours: '@prod/cache getMany (l1: false)', peer: 'bentocache, 100 gets at once' },
      { ours: '@prod/cache getMany (l1: false)', peer: 'cache-manager mget (@keyv/redis)' },
      {
        ours: '@prod/cache getMany (l1: false)',
        peer: 'ioredis MGET (the floor)',
        label: '@prod/cache getMany vs a bare ioredis MGET',
      },
    ],
  },
];

await runMicro({
  file: import.meta.url,
  title: '@prod/cache vs lru-cache, bentocache 1.6, cache-manager 7',
  groups,
});

if (server !== undefined) {
  // A second reading of the Redis groups, paired: each round runs a batch of every contender
  // back to back (in a rotated order) in this one process, so a noisy neighbour slows all of
  // them alike; the ratio is taken per round, then its median and range.
  const ROUNDS = Number(process.env.PAIRED_ROUNDS ?? 15);
  const BATCH = 300;
  const paired = async (
    title: string,
    contenders: Record<string, () => Promise<unknown>>,
    ours: string,
  ): Promise<void> => {
    const names = Object.keys(contenders);
    const times = new Map(names.map((name) => [name, [] as number[]]));
    for (let round = 0; round < ROUNDS; round += 1) {
      const shift = round % names.length;
      for (const name of [...names.slice(shift), ...names.slice(0, shift)]) {
        const op = contenders[name] as () => Promise<unknown>;
        for (let i = 0; i < 50; i += 1) await op();
        const started = process.hrtime.bigint();
        for (let i = 0; i < BATCH; i += 1) await op();
        times.get(name)?.push(Number(process.hrtime.bigint() - started) / BATCH / 1000);
      }
    }
    const median = (values: readonly number[]): number => {
      const sorted = [...values].sort((a, b) => a - b);
      const mid = sorted.length >> 1;
      return sorted.length % 2 === 1
        ? (sorted[mid] as number)
        : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
    };
    const own = times.get(ours) ?? [];
    const lines = [
      `#### ${title} (paired, ${ROUNDS} rounds of ${BATCH} calls)`,
      '',
      '| contender | µs/op (median) | min - max | peer / ours (median) | per round |',
      '| --- | ---: | ---: | ---: | ---: |',
    ];
    for (const name of names) {
      const mine = times.get(name) ?? [];
      const ratios = mine.map((t, i) => t / (own[i] ?? Number.NaN));
      const shown = name === ours ? '-' : `${median(ratios).toFixed(2)}x`;
      const range =
        name === ours
          ? '-'
          : `${Math.min(...ratios).toFixed(2)}x - ${Math.max(...ratios).toFixed(2)}x`;
      lines.push(
        `| ${name} | ${median(mine).toFixed(1)} | ${Math.min(...mine).toFixed(1)} - ${Math.max(...mine).toFixed(1)} | ${shown} | ${range} |`,
      );
    }
    console.log(['', ...lines, ''].join('\n'));
  };
  await paired(
    'L2 only (Redis): getOrSet hit',
    {
      '@prod/cache getOrSet (l1: false)': () => oursL2.getOrSet(nextKey(), loader),
      'bentocache getOrSet (L2 only)': () =>
        bentoL2.getOrSet({ key: nextKey(), factory: loader, ttl: '10m' }),
      'cache-manager wrap (@keyv/redis)': () => managerL2.wrap(nextKey(), loader, 600_000),
      'ioredis GET (the floor)': () => client.get(`prod:{bench:${nextKey()}}`),
    },
    '@prod/cache getOrSet (l1: false)',
  );
  await paired(
    'L2 (Redis): getMany of 100 keys',
    {
      '@prod/cache getMany (l1: false)': () => oursL2.getMany(MANY),
      'bentocache, 100 gets at once': () => Promise.all(MANY.map((key) => bentoL2.get({ key }))),
      'cache-manager mget (@keyv/redis)': () => managerL2.mget(MANY),
      'ioredis MGET (the floor)': () => client.mget(...MANY.map((key) => `prod:{bench:${key}}`)),
    },
    '@prod/cache getMany (l1: false)',
  );

  // Redis commands per operation, each contender alone on the server: 1 000 operations.
  const perOp = async (label: string, op: () => Promise<unknown>): Promise<string> => {
    await redisCommand(port, 'CONFIG', 'RESETSTAT');
    const n = 1_000;
    for (let i = 0; i < n; i += 1) await op();
    const stats = await redisCommandStats(port);
    const counted = [...stats].filter(([name]) => name !== 'info' && !name.startsWith('config'));
    const total = counted.reduce((sum, [, calls]) => sum + calls, 0);
    const detail = counted.map(([name, calls]) => `${name} ${(calls / n).toFixed(2)}`).join(', ');
    return `| ${label} | ${(total / n).toFixed(2)} | ${detail} |`;
  };
  const rows = [
    await perOp('@prod/cache getOrSet, L2 hit (l1: false)', () =>
      oursL2.getOrSet(nextKey(), loader),
    ),
    await perOp('bentocache getOrSet, L2 hit (L2 only)', () =>
      bentoL2.getOrSet({ key: nextKey(), factory: loader, ttl: '10m' }),
    ),
    await perOp('cache-manager wrap, L2 hit (@keyv/redis)', () =>
      managerL2.wrap(nextKey(), loader, 600_000),
    ),
    await perOp('@prod/cache getOrSet, miss then stored', () =>
      oursL2.getOrSet(`miss:${Math.random()}`, loader),
    ),
    await perOp('bentocache getOrSet, miss then stored', () =>
      bentoL2.getOrSet({ key: `miss:${Math.random()}`, factory: loader, ttl: '10m' }),
    ),
    await perOp('cache-manager wrap, miss then stored', () =>
      managerL2.wrap(`miss:${Math.random()}`, loader, 600_000),
    ),
    await perOp('@prod/cache getMany of 100', () => oursL2.getMany(MANY)),
    await perOp('bentocache, 100 gets at once', () =>
      Promise.all(MANY.map((key) => bentoL2.get({ key }))),
    ),
    await perOp('cache-manager mget of 100', () => managerL2.mget(MANY)),
  ];
  console.log(
    [
      '',
      '#### Redis commands per operation',
      '',
      '| operation | commands / op | by command |',
      '| --- | ---: | --- |',
      ...rows,
      '',
    ].join('\n'),
  );
}

await Promise.all([
  ours.close(),
  oursL2.close(),
  bentoL1.disconnectAll(),
  bentoL2.disconnectAll(),
  managerL2.disconnect(),
]);
client.disconnect();
await server?.stop();
