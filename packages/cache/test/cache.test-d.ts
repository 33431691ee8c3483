import type { HttpCachePolicy } from '@prod/cache';
import {
  type Cache,
  type CacheStore,
  createCache,
  httpCacheMeta,
  httpCachePart,
  memoryStore,
  type RedisClientLike,
  redisStore,
} from '@prod/cache';
import type { Part, ProdError, Result, RouteMeta } from '@prod/core';
import { createMetrics } from '@prod/metrics';
import { Cluster, Redis } from 'ioredis';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';

describe('@prod/cache types', () => {
  const cache = createCache();

  it('reads values as the caller says, undefined on a miss', () => {
    expectTypeOf(cache.get<{ id: number }>('k')).toEqualTypeOf<
      Promise<{ id: number } | undefined>
    >();
    expectTypeOf(cache.getMany<string>(['a'])).toEqualTypeOf<Promise<(string | undefined)[]>>();
    expectTypeOf(cache.has('k')).toEqualTypeOf<Promise<boolean>>();
  });

  it('infers the value from a schema', () => {
    const User = z.object({ id: z.string(), age: z.number() });
    expectTypeOf(cache.get('k', { schema: User })).toEqualTypeOf<
      Promise<{ id: string; age: number } | undefined>
    >();
    const loaded = cache.getOrSet('k', () => ({ id: '1', age: 3 }), { schema: User });
    expectTypeOf(loaded).toEqualTypeOf<Promise<Result<{ id: string; age: number }, ProdError>>>();
  });

  it('returns Results from writes and getOrSet, typed by the loader', () => {
    expectTypeOf(cache.set('k', 1)).toEqualTypeOf<Promise<Result<void, ProdError>>>();
    expectTypeOf(cache.getOrSet('k', async () => 42)).toEqualTypeOf<
      Promise<Result<number, ProdError>>
    >();
    expectTypeOf(
      cache.getOrSet('k', ({ stale }: { stale: string | undefined }) => stale ?? 'x'),
    ).toEqualTypeOf<Promise<Result<string, ProdError>>>();
    expectTypeOf(cache.invalidateTags(['t'])).toEqualTypeOf<Promise<Result<void, ProdError>>>();
    // @ts-expect-error: a ttl is a number of milliseconds
    cache.set('k', 1, { ttl: '60s' });
  });

  it('wraps a query into a function of the same arguments returning a Result', () => {
    const find = cache.wrap('find', async (id: string, limit: number) => [id, limit] as const, {
      tags: (id) => [`note:${id}`],
    });
    expectTypeOf(find).toEqualTypeOf<
      (id: string, limit: number) => Promise<Result<readonly [string, number], ProdError>>
    >();
    // @ts-expect-error: the arguments are checked
    find(1, 2);
  });

  it('takes ioredis clients (single, cluster) and @prod/metrics as they are', () => {
    expectTypeOf(new Redis({ lazyConnect: true })).toMatchTypeOf<RedisClientLike>();
    expectTypeOf(new Cluster([], { lazyConnect: true })).toMatchTypeOf<RedisClientLike>();
    expectTypeOf(
      redisStore({ client: new Redis({ lazyConnect: true }) }),
    ).toEqualTypeOf<CacheStore>();
    expectTypeOf(
      createCache({ l2: memoryStore(), metrics: createMetrics() }),
    ).toEqualTypeOf<Cache>();
  });

  it('exposes HTTP caching as a Part with typed route metadata', () => {
    expectTypeOf(httpCachePart({ cache })).toEqualTypeOf<Part>();
    expectTypeOf(httpCacheMeta({ maxAge: 60, private: true })).toEqualTypeOf<RouteMeta>();
    expectTypeOf(httpCacheMeta.read).returns.toEqualTypeOf<HttpCachePolicy | undefined>();
    // @ts-expect-error: unknown directive
    httpCacheMeta({ maxAgee: 60 });
  });
});
