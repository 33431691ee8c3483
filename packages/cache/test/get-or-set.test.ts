import { CacheErrors, createCache, memoryStore } from '@prod/cache';
import { CoreErrors } from '@prod/core';
import { describe, expect, it } from 'vitest';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A loader that counts its calls, answering `value()` after `ms`. */
function slowLoader<T>(ms: number, value: (call: number) => T) {
  const state = { calls: 0 };
  const loader = async (): Promise<T> => {
    state.calls += 1;
    const call = state.calls;
    await sleep(ms);
    return value(call);
  };
  return Object.assign(loader, { state });
}

describe('getOrSet: single-flight', () => {
  it('calls the loader once for 1,000 concurrent calls on a cold key', async () => {
    const cache = createCache();
    const loader = slowLoader(30, () => ({ id: 1 }));
    const results = await Promise.all(
      Array.from({ length: 1_000 }, () => cache.getOrSet('cold', loader)),
    );
    expect(loader.state.calls).toBe(1);
    expect(results.every((r) => r.ok && (r.value as { id: number }).id === 1)).toBe(true);
    expect(cache.stats().loads).toMatchObject({ calls: 1, coalesced: 999 });
    // And once cached, hits call nothing.
    await cache.getOrSet('cold', loader);
    expect(loader.state.calls).toBe(1);
  });

  it('loads once per process without the distributed lock, once in total with it', async () => {
    for (const [distributedLock, expected] of [
      [false, 2],
      [true, 1],
    ] as const) {
      const shared = memoryStore();
      const a = createCache({ l2: shared, distributedLock });
      const b = createCache({ l2: shared, distributedLock });
      const loader = slowLoader(30, () => 'v');
      const results = await Promise.all([
        ...Array.from({ length: 500 }, () => a.getOrSet('k', loader)),
        ...Array.from({ length: 500 }, () => b.getOrSet('k', loader)),
      ]);
      expect(loader.state.calls).toBe(expected);
      expect(results.every((r) => r.ok && r.value === 'v')).toBe(true);
    }
  });

  it('works with L2 only (l1: false)', async () => {
    const cache = createCache({ l1: false, l2: memoryStore() });
    const loader = slowLoader(20, () => 7);
    const results = await Promise.all(
      Array.from({ length: 100 }, () => cache.getOrSet('k', loader)),
    );
    expect(loader.state.calls).toBe(1);
    expect(results.every((r) => r.ok && r.value === 7)).toBe(true);
    expect(await cache.getOrSet('k', loader)).toEqual({ ok: true, value: 7 });
    expect(loader.state.calls).toBe(1);
  });

  it('reads L2 before loading, and gives L1 the entry with the time it has left', async () => {
    const store = memoryStore();
    const writer = createCache({ l2: store, ttl: 300, jitter: 0 });
    await writer.set('k', 'from-l2');
    await sleep(50);
    const reader = createCache({ l2: store, jitter: 0, ttl: 60_000 });
    const loader = slowLoader(0, () => 'loaded');
    expect(await reader.getOrSet('k', loader)).toEqual({ ok: true, value: 'from-l2' });
    expect(loader.state.calls).toBe(0);
    await sleep(300);
    // The L1 copy expired with the L2 entry (300 ms after it was written), not 60 s later.
    expect(await reader.getOrSet('k', loader)).toEqual({ ok: true, value: 'loaded' });
  });
});

describe('getOrSet: loader failures', () => {
  it('returns a ProdError the loader throws as it is, and caches nothing', async () => {
    const cache = createCache();
    let calls = 0;
    const loader = (): never => {
      calls += 1;
      throw CoreErrors.NOT_FOUND('no such note');
    };
    const result = await cache.getOrSet('k', loader);
    expect(result).toMatchObject({ ok: false, error: { code: 'NOT_FOUND', status: 404 } });
    await cache.getOrSet('k', loader);
    expect(calls).toBe(2);
  });

  it('wraps any other throw or rejection in CACHE_LOADER_FAILED, with the cause', async () => {
    const cache = createCache();
    const events: string[] = [];
    cache.on('loaderError', ({ key, error }) => events.push(`${key}:${error.code}`));
    const boom = new Error('db down');
    const rejected = await cache.getOrSet('a', async () => {
      throw boom;
    });
    expect(rejected).toMatchObject({
      ok: false,
      error: { code: 'CACHE_LOADER_FAILED', cause: boom },
    });
    const thrown = await cache.getOrSet('b', () => {
      throw 'a string';
    });
    expect(thrown).toMatchObject({ ok: false, error: { code: 'CACHE_LOADER_FAILED' } });
    expect(events).toEqual(['a:CACHE_LOADER_FAILED', 'b:CACHE_LOADER_FAILED']);
    expect(cache.stats().loads.errors).toBe(2);
  });

  it('refuses a loader value it cannot store, with CACHE_NOT_SERIALIZABLE', async () => {
    const cache = createCache();
    const result = await cache.getOrSet('k', () => ({ when: 1n }));
    expect(result).toMatchObject({ ok: false, error: { code: 'CACHE_NOT_SERIALIZABLE' } });
    expect(await cache.has('k')).toBe(false);
  });

  it('serves the grace value when the loader fails, then backs off', async () => {
    const cache = createCache({ ttl: 30, grace: 10_000, graceBackoff: 100, jitter: 0 });
    await cache.set('k', 'old');
    await sleep(50);
    let calls = 0;
    const failing = async (): Promise<string> => {
      calls += 1;
      throw new Error('down');
    };
    const stale: string[] = [];
    cache.on('stale', ({ reason }) => stale.push(reason));
    expect(await cache.getOrSet('k', failing)).toEqual({ ok: true, value: 'old' });
    expect(calls).toBe(1);
    // Within the backoff: the grace value at once, no new call to a failing loader.
    expect(await cache.getOrSet('k', failing)).toEqual({ ok: true, value: 'old' });
    expect(calls).toBe(1);
    await sleep(120);
    expect(await cache.getOrSet('k', async () => 'new')).toEqual({ ok: true, value: 'new' });
    expect(stale).toEqual(['grace', 'grace']);
  });

  it('without grace, an expired entry is not served when the loader fails', async () => {
    const cache = createCache({ ttl: 20, jitter: 0 });
    await cache.set('k', 'old');
    await sleep(40);
    expect(await cache.getOrSet('k', () => Promise.reject(new Error('x')))).toMatchObject({
      ok: false,
    });
  });
});

describe('getOrSet: stale-while-revalidate and timeouts', () => {
  it('answers the stale value at once and reloads once in the background', async () => {
    const cache = createCache({ ttl: 10_000, staleWhileRevalidate: 10_000, jitter: 0 });
    await cache.getOrSet('k', () => 'v1', { ttl: 30 });
    await sleep(50);
    const loader = slowLoader(400, () => 'v2');
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => cache.getOrSet('k', loader)),
    );
    // Well before the loader could have answered: nobody waited for it.
    expect(performance.now() - started).toBeLessThan(300);
    expect(answers.every((r) => r.ok && r.value === 'v1')).toBe(true);
    expect(loader.state.calls).toBe(1);
    await sleep(450);
    expect(await cache.getOrSet('k', loader)).toEqual({ ok: true, value: 'v2' });
    expect(loader.state.calls).toBe(1);
    expect(cache.stats().stale.swr).toBeGreaterThanOrEqual(50);
  });

  it('gives the loader the stale value it refreshes', async () => {
    const cache = createCache({ ttl: 10_000, staleWhileRevalidate: 10_000, jitter: 0 });
    await cache.set('count', 1, { ttl: 20 });
    await sleep(40);
    const stale = await cache.getOrSet<number>('count', ({ stale }) => (stale ?? 0) + 1);
    expect(stale).toEqual({ ok: true, value: 1 });
    let value = await cache.get('count');
    for (let i = 0; i < 100 && value !== 2; i += 1) {
      await sleep(5);
      value = await cache.get('count');
    }
    expect(value).toBe(2);
  });

  it('answers the stale value after softTimeout and keeps the late value', async () => {
    const cache = createCache({ ttl: 10_000, grace: 10_000, jitter: 0 });
    await cache.set('k', 'old', { ttl: 20 });
    await sleep(40);
    const started = performance.now();
    const result = await cache.getOrSet(
      'k',
      slowLoader(500, () => 'new'),
      { softTimeout: 20 },
    );
    expect(result).toEqual({ ok: true, value: 'old' });
    expect(performance.now() - started).toBeLessThan(400);
    await sleep(550);
    expect(await cache.get('k')).toBe('new');
    expect(cache.stats().stale.timeout).toBe(1);
  });

  it('gives up after hardTimeout with CACHE_LOADER_TIMEOUT, aborts the signal, and still caches the late value', async () => {
    const cache = createCache({ jitter: 0 });
    let signal: AbortSignal | undefined;
    const started = performance.now();
    const result = await cache.getOrSet(
      'k',
      async (context) => {
        signal = context.signal;
        await sleep(500);
        return 'late';
      },
      { hardTimeout: 30 },
    );
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'CACHE_LOADER_TIMEOUT', status: 504 },
    });
    expect(CacheErrors.CACHE_LOADER_TIMEOUT.is(result.ok ? undefined : result.error)).toBe(true);
    expect(performance.now() - started).toBeLessThan(400);
    expect(signal?.aborted).toBe(true);
    // A new call does not join the load that timed out: it starts its own.
    const second = await cache.getOrSet('k', () => 'second', { hardTimeout: 30 });
    expect(second).toEqual({ ok: true, value: 'second' });
    await sleep(550);
    expect(await cache.get('k')).toBe('late');
    expect(cache.stats().loads.timeouts).toBe(1);
  });

  it('answers the grace value at the hard timeout when there is one', async () => {
    const cache = createCache({ ttl: 20, grace: 10_000, jitter: 0 });
    await cache.set('k', 'old');
    await sleep(40);
    const result = await cache.getOrSet(
      'k',
      slowLoader(200, () => 'new'),
      { hardTimeout: 20 },
    );
    expect(result).toEqual({ ok: true, value: 'old' });
  });
});

describe('getOrSet: negative caching, adaptive options, early refresh', () => {
  it('does not cache "not found" unless negativeTtl says so', async () => {
    const cache = createCache({ jitter: 0 });
    let calls = 0;
    const missing = (): null => {
      calls += 1;
      return null;
    };
    await cache.getOrSet('a', missing);
    await cache.getOrSet('a', missing);
    expect(calls).toBe(2);
    calls = 0;
    expect(await cache.getOrSet('b', missing, { negativeTtl: 40 })).toEqual({
      ok: true,
      value: null,
    });
    expect(await cache.getOrSet('b', missing, { negativeTtl: 40 })).toEqual({
      ok: true,
      value: null,
    });
    expect(calls).toBe(1);
    await sleep(60);
    await cache.getOrSet('b', missing, { negativeTtl: 40 });
    expect(calls).toBe(2);
    // undefined counts as "not found" too, and comes back as undefined.
    expect(await cache.getOrSet('c', () => undefined, { negativeTtl: 1_000 })).toEqual({
      ok: true,
      value: undefined,
    });
    expect(await cache.has('c')).toBe(true);
  });

  it('caches negative entries in L2 too, for the other instances', async () => {
    const store = memoryStore();
    const a = createCache({ l2: store, negativeTtl: 1_000 });
    const b = createCache({ l2: store, negativeTtl: 1_000 });
    await a.getOrSet('k', () => null);
    let called = false;
    expect(
      await b.getOrSet('k', () => {
        called = true;
        return 'x';
      }),
    ).toEqual({ ok: true, value: null });
    expect(called).toBe(false);
  });

  it('lets the loader set the ttl and tags from the value, or skip caching', async () => {
    const cache = createCache({ ttl: 60_000, jitter: 0 });
    await cache.getOrSet('short', (context) => {
      context.setOptions({ ttl: 150, tags: ['adaptive'] });
      return 'v';
    });
    await cache.getOrSet('skip', (context) => {
      context.skip();
      return 'v';
    });
    expect(await cache.has('skip')).toBe(false);
    expect(await cache.get('short')).toBe('v');
    await sleep(200);
    expect(await cache.get('short')).toBeUndefined();
    await cache.getOrSet('tagged', (context) => {
      context.setOptions({ tags: ['adaptive'] });
      return 'v';
    });
    await cache.invalidateTags(['adaptive']);
    expect(await cache.get('tagged')).toBeUndefined();
    expect(
      await cache.getOrSet('bad', (context) => {
        context.setOptions({ ttl: -5 });
        return 'v';
      }),
    ).toMatchObject({ ok: false, error: { code: 'CACHE_INVALID_OPTIONS' } });
  });

  it('refreshes a hot key in the background before it expires (earlyRefresh)', async () => {
    const cache = createCache({ ttl: 200, jitter: 0 });
    const loader = slowLoader(30, (call) => `v${call}`);
    expect(await cache.getOrSet('hot', loader, { earlyRefresh: 100 })).toEqual({
      ok: true,
      value: 'v1',
    });
    expect(loader.state.calls).toBe(1);
    // loadMs ~30 and beta 100: a hit refreshes early with a probability of about 0.95.
    const hits = await Promise.all(
      Array.from({ length: 20 }, () => cache.getOrSet('hot', loader, { earlyRefresh: 100 })),
    );
    expect(hits.every((r) => r.ok && r.value === 'v1')).toBe(true);
    expect(loader.state.calls).toBe(2);
    await sleep(60);
    expect(await cache.get('hot')).toBe('v2');
  });

  it('never refreshes early without earlyRefresh', async () => {
    const cache = createCache({ ttl: 200, jitter: 0 });
    const loader = slowLoader(30, (call) => `v${call}`);
    await cache.getOrSet('hot', loader);
    await Promise.all(Array.from({ length: 20 }, () => cache.getOrSet('hot', loader)));
    expect(loader.state.calls).toBe(1);
  });

  it('checks per-call options when the call needs them: a hit reads three, a miss all', async () => {
    const cache = createCache();
    await cache.set('k', 'cached');
    // A fresh hit needs only forceFresh, schema and earlyRefresh.
    expect(await cache.getOrSet('k', () => 'x', { ttl: -1 })).toEqual({
      ok: true,
      value: 'cached',
    });
    expect(await cache.getOrSet('other', () => 'x', { ttl: -1 })).toMatchObject({
      ok: false,
      error: { code: 'CACHE_INVALID_OPTIONS', details: { option: 'ttl' } },
    });
    expect(await cache.getOrSet('k', () => 'x', { forceFresh: 'yes' as never })).toMatchObject({
      ok: false,
      error: { code: 'CACHE_INVALID_OPTIONS' },
    });
  });

  it('loads again with forceFresh', async () => {
    const cache = createCache();
    await cache.set('k', 'old');
    expect(await cache.getOrSet('k', () => 'new', { forceFresh: true })).toEqual({
      ok: true,
      value: 'new',
    });
    expect(await cache.get('k')).toBe('new');
  });

  it('does not keep a value loaded across an invalidation of its key', async () => {
    const cache = createCache();
    const pending = cache.getOrSet(
      'k',
      slowLoader(40, () => 'loaded-before-the-change'),
    );
    await sleep(10);
    await cache.set('k', 'set-meanwhile');
    expect(await pending).toEqual({ ok: true, value: 'loaded-before-the-change' });
    expect(await cache.get('k')).toBe('set-meanwhile');
    const tagged = cache.getOrSet(
      't',
      slowLoader(40, () => 'old'),
      { tags: ['x'] },
    );
    await sleep(10);
    await cache.invalidateTags(['x']);
    await tagged;
    expect(await cache.has('t')).toBe(false);
  });
});
