import v8 from 'node:v8';
import { type CacheStore, createCache, memoryStore } from '@prod/cache';
import { describe, expect, it } from 'vitest';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const OK = { ok: true, value: undefined };

/** A store wrapper that counts the writes reaching it. */
function counting(inner: CacheStore): CacheStore & { writes: number } {
  const wrapper = Object.create(inner) as CacheStore & { writes: number };
  wrapper.writes = 0;
  wrapper.set = (writes, message) => {
    wrapper.writes += writes.length;
    return inner.set(writes, message);
  };
  return wrapper;
}

describe('createCache options', () => {
  const invalid = expect.objectContaining({ code: 'CACHE_INVALID_OPTIONS' });
  it.each([
    ['ttl: 0', { ttl: 0 }],
    ['ttl: -1', { ttl: -1 }],
    ['ttl: NaN', { ttl: Number.NaN }],
    ['ttl as a string', { ttl: '60s' }],
    ['jitter over 1', { jitter: 1.5 }],
    ['grace negative', { grace: -5 }],
    ['l1.maxEntries 0', { l1: { maxEntries: 0 } }],
    ['l1 as a string', { l1: 'yes' }],
    ['l1: false without l2', { l1: false }],
    ['l2 that is not a store', { l2: { get() {} } }],
    ['l2Options.timeout 0', { l2Options: { timeout: 0 } }],
    ['a bad circuit breaker', { l2Options: { circuitBreaker: { consecutiveFailures: 0 } } }],
    ['namespace empty', { namespace: '' }],
    ['namespace with a lone surrogate', { namespace: 'a\uD800' }],
    ['maxKeyLength 0', { maxKeyLength: 0 }],
    ['maxValueSize over 512 MiB', { maxValueSize: 2 ** 40 }],
    ['serializer without id', { serializer: { serialize: String, deserialize: String } }],
    ['metrics without a registry', { metrics: { registry: {} } }],
    ['bus as a string', { bus: 'on' }],
  ])('throws CACHE_INVALID_OPTIONS for %s', (_, options) => {
    expect(() => createCache(options as never)).toThrow(invalid);
  });

  it('names the option, what it expected and what it got', () => {
    try {
      createCache({ ttl: -1 });
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({
        code: 'CACHE_INVALID_OPTIONS',
        status: 500,
        details: { option: 'ttl', received: '-1' },
      });
    }
  });

  it('accepts Infinity where a duration means "no limit"', async () => {
    const cache = createCache({ ttl: Number.POSITIVE_INFINITY, grace: Number.POSITIVE_INFINITY });
    expect(await cache.set('k', 1)).toEqual(OK);
    expect(await cache.get('k')).toBe(1);
  });
});

describe('L1 only (the embedded default)', () => {
  it('gets, sets, has and deletes', async () => {
    const cache = createCache({ jitter: 0 });
    expect(await cache.get('missing')).toBeUndefined();
    expect(await cache.has('missing')).toBe(false);
    expect(await cache.set('user', { id: 1, name: 'Ada' })).toEqual(OK);
    expect(await cache.get('user')).toEqual({ id: 1, name: 'Ada' });
    expect(await cache.has('user')).toBe(true);
    expect(await cache.delete('user')).toEqual(OK);
    expect(await cache.get('user')).toBeUndefined();
    expect(cache.stats().l2.kind).toBeUndefined();
  });

  it('expires entries after their ttl', async () => {
    const cache = createCache({ ttl: 40, jitter: 0 });
    await cache.set('k', 'v');
    expect(await cache.get('k')).toBe('v');
    await sleep(80);
    expect(await cache.get('k')).toBeUndefined();
  });

  it('shortens ttls by at most the jitter, never lengthens them', async () => {
    const cache = createCache({ ttl: 400, jitter: 0.5 });
    await cache.setMany(Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: i })));
    await sleep(100);
    expect(
      (await cache.getMany(Array.from({ length: 40 }, (_, i) => `k${i}`))).every(
        (v) => v !== undefined,
      ),
    ).toBe(true);
    await sleep(350);
    expect(
      (await cache.getMany(Array.from({ length: 40 }, (_, i) => `k${i}`))).every(
        (v) => v === undefined,
      ),
    ).toBe(true);
  });

  it('spreads expiries with jitter', async () => {
    const cache = createCache({ ttl: 200, jitter: 0.9 });
    const keys = Array.from({ length: 50 }, (_, i) => `k${i}`);
    await cache.setMany(keys.map((key) => ({ key, value: 1 })));
    await sleep(110);
    const alive = (await cache.getMany(keys)).filter((v) => v !== undefined).length;
    // With ttl uniform in [20, 200] ms, about half are gone at 110 ms.
    expect(alive).toBeGreaterThan(5);
    expect(alive).toBeLessThan(45);
  });

  it('keeps a copy: changing the object given to set does not change the cache', async () => {
    const cache = createCache();
    const value = { list: [1, 2] };
    await cache.set('k', value);
    value.list.push(3);
    expect(await cache.get('k')).toEqual({ list: [1, 2] });
  });

  it('answers with what the serializer keeps, whichever tier answers (a Date becomes its ISO text)', async () => {
    const cache = createCache();
    const at = new Date('2026-01-02T03:04:05.000Z');
    await cache.set('k', { at });
    expect(await cache.get('k')).toEqual({ at: '2026-01-02T03:04:05.000Z' });
  });

  it('keeps Buffers as Buffers', async () => {
    const cache = createCache();
    await cache.set('k', { avatar: Buffer.from([1, 2, 255]) });
    const back = (await cache.get<{ avatar: Buffer }>('k'))?.avatar;
    expect(Buffer.isBuffer(back)).toBe(true);
    expect(back?.equals(Buffer.from([1, 2, 255]))).toBe(true);
  });

  it('reads and writes many keys', async () => {
    const cache = createCache();
    expect(
      await cache.setMany([
        { key: 'a', value: 1 },
        { key: 'b', value: 2, options: { ttl: 10_000 } },
      ]),
    ).toEqual(OK);
    expect(await cache.getMany(['b', 'nope', 'a'])).toEqual([2, undefined, 1]);
    expect(await cache.delete(['a', 'b'])).toEqual(OK);
    expect(await cache.getMany(['a', 'b'])).toEqual([undefined, undefined]);
  });

  it('evicts the least recently used past l1.maxEntries', async () => {
    const cache = createCache({ l1: { maxEntries: 2 } });
    await cache.set('a', 1);
    await cache.set('b', 2);
    await cache.get('a');
    await cache.set('c', 3);
    expect(await cache.getMany(['a', 'b', 'c'])).toEqual([1, undefined, 3]);
    expect(cache.stats().l1.size).toBe(2);
  });

  it('bounds L1 by bytes with l1.maxBytes', async () => {
    const cache = createCache({ l1: { maxBytes: 100 } });
    await cache.set('a', 'x'.repeat(40));
    await cache.set('b', 'y'.repeat(40));
    await cache.set('c', 'z'.repeat(40));
    expect(await cache.get('a')).toBeUndefined();
    expect(await cache.get('c')).toBe('z'.repeat(40));
  });

  it('caches null and undefined when set explicitly', async () => {
    const cache = createCache();
    await cache.set('none', null);
    await cache.set('nothing', undefined);
    expect(await cache.get('none')).toBeNull();
    expect(await cache.has('nothing')).toBe(true);
  });

  it('drops the L1 copy after l1Ttl, before the entry expires', async () => {
    const store = memoryStore();
    const cache = createCache({ l2: store, jitter: 0, ttl: 10_000, l1Ttl: 30 });
    await cache.set('k', 'v');
    await sleep(60);
    await store.set([]); // nothing: the value is still in L2
    expect(await cache.get('k')).toBe('v');
    expect(cache.stats().l1.misses).toBe(1);
    expect(cache.stats().l2.hits).toBe(1);
  });
});

describe('a serializer of your own', () => {
  const v8Serializer = {
    id: 'v8',
    binary: true,
    serialize: (value: unknown) => v8.serialize(value),
    deserialize: (data: string | Uint8Array) => v8.deserialize(Buffer.from(data as Uint8Array)),
  };

  it('keeps what it can keep (a Date, a Map, a BigInt) through L2, as bytes', async () => {
    const store = memoryStore();
    const writer = createCache({ l2: store, serializer: v8Serializer });
    const reader = createCache({ l2: store, serializer: v8Serializer });
    const value = { at: new Date(0), tags: new Map([['a', 1n]]) };
    expect(await writer.set('k', value)).toEqual(OK);
    const stored = await store.get('k', { binary: true });
    expect(stored instanceof Uint8Array).toBe(true);
    expect(await reader.get('k')).toEqual(value);
    expect(await reader.getOrSet('other', () => new Set([1]))).toEqual({
      ok: true,
      value: new Set([1]),
    });
    expect(await writer.get('other')).toEqual(new Set([1]));
  });

  it("reads another serializer's entries as misses", async () => {
    const store = memoryStore();
    await createCache({ l2: store }).set('k', 'json');
    const other = createCache({ l2: store, serializer: v8Serializer });
    expect(await other.get('k')).toBeUndefined();
    await other.set('k2', 'v8');
    expect(await createCache({ l2: store }).get('k2')).toBeUndefined();
  });
});

describe('namespaces', () => {
  it('keeps namespaces apart and clears one without the others', async () => {
    const cache = createCache({ namespace: 'app' });
    const users = cache.namespace('users');
    const posts = cache.namespace('posts');
    expect(users.prefix).toBe('app:users:');
    await users.set('1', 'ada');
    await posts.set('1', 'hello');
    expect(await users.get('1')).toBe('ada');
    expect(await posts.get('1')).toBe('hello');
    expect(await cache.clear('users')).toEqual(OK);
    expect(await users.get('1')).toBeUndefined();
    expect(await posts.get('1')).toBe('hello');
    expect(await cache.clear()).toEqual(OK);
    expect(await posts.get('1')).toBeUndefined();
  });

  it('clears only its own namespace on L2, and tells the other instances', async () => {
    const store = memoryStore();
    const a = createCache({ namespace: 'ns', l2: store });
    const b = createCache({ namespace: 'ns', l2: store });
    const other = createCache({ namespace: 'other', l2: store });
    await a.set('k', 1);
    await other.set('k', 2);
    expect(await b.get('k')).toBe(1);
    await a.clear();
    await sleep(5);
    expect(await b.get('k')).toBeUndefined();
    expect(await other.get('k')).toBe(2);
  });

  it('refuses an empty namespace with CACHE_INVALID_OPTIONS', () => {
    expect(() => createCache().namespace('')).toThrow(
      expect.objectContaining({ code: 'CACHE_INVALID_OPTIONS' }),
    );
  });
});

describe('bad input writes nothing', () => {
  const cases: [string, unknown][] = [
    ['a function', { run: () => 1 }],
    ['a BigInt', { n: 10n }],
    ['a Map', { m: new Map([[1, 2]]) }],
    ['a Set', new Set([1])],
    ['a symbol', { s: Symbol('x') }],
    [
      'a cycle',
      (() => {
        const a: Record<string, unknown> = {};
        a.self = a;
        return a;
      })(),
    ],
    [
      'nesting 100 000 deep',
      (() => {
        let deep: unknown = 1;
        for (let i = 0; i < 100_000; i += 1) deep = [deep];
        return deep;
      })(),
    ],
  ];

  it.each(cases)('refuses %s with CACHE_NOT_SERIALIZABLE', async (_, value) => {
    const inner = memoryStore();
    const store = counting(inner);
    const cache = createCache({ l2: store });
    const result = await cache.set('k', value);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('CACHE_NOT_SERIALIZABLE');
    expect(await cache.has('k')).toBe(false);
    expect(store.writes).toBe(0);
  });

  it('refuses a value over maxValueSize with CACHE_VALUE_TOO_LARGE', async () => {
    const store = counting(memoryStore());
    const cache = createCache({ l2: store, maxValueSize: 1_000 });
    const result = await cache.set('k', 'x'.repeat(2_000));
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'CACHE_VALUE_TOO_LARGE', details: { bytes: 2_002 } },
    });
    expect(await cache.has('k')).toBe(false);
    expect(store.writes).toBe(0);
    // Bytes, not characters: 400 three-byte characters are 1 202 bytes of JSON.
    expect((await cache.set('k', '€'.repeat(400))).ok).toBe(false);
  });

  it.each([
    ['an empty key', ''],
    ['a key over maxKeyLength', 'k'.repeat(300)],
    ['a key with a lone surrogate', 'a\uDC00b'],
    ['a number', 42],
    ['undefined', undefined],
  ])('refuses %s with CACHE_INVALID_KEY', async (_, key) => {
    const store = counting(memoryStore());
    const cache = createCache({ l2: store, maxKeyLength: 256 });
    const result = await cache.set(key as string, 1);
    expect(result).toMatchObject({ ok: false, error: { code: 'CACHE_INVALID_KEY' } });
    expect(await cache.get(key as string)).toBeUndefined();
    expect(await cache.has(key as string)).toBe(false);
    expect(await cache.getOrSet(key as string, () => 1)).toMatchObject({
      ok: false,
      error: { code: 'CACHE_INVALID_KEY' },
    });
    expect(await cache.delete(key as string)).toMatchObject({
      ok: false,
      error: { code: 'CACHE_INVALID_KEY' },
    });
    expect(store.writes).toBe(0);
  });

  it('checks every entry of setMany before writing any', async () => {
    const store = counting(memoryStore());
    const cache = createCache({ l2: store });
    const result = await cache.setMany([
      { key: 'a', value: 1 },
      { key: 'b', value: () => 2 },
      { key: 'c', value: 3 },
    ]);
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'CACHE_NOT_SERIALIZABLE', details: { index: 1 } },
    });
    expect(await cache.getMany(['a', 'b', 'c'])).toEqual([undefined, undefined, undefined]);
    expect(store.writes).toBe(0);
    const badKey = await cache.setMany([
      { key: 'a', value: 1 },
      { key: '', value: 2 },
    ]);
    expect(badKey).toMatchObject({
      ok: false,
      error: { code: 'CACHE_INVALID_KEY', details: { index: 1 } },
    });
    expect(await cache.has('a')).toBe(false);
  });

  it('refuses bad per-call options with CACHE_INVALID_OPTIONS, writing nothing', async () => {
    const cache = createCache();
    expect(await cache.set('k', 1, { ttl: -1 })).toMatchObject({
      ok: false,
      error: { code: 'CACHE_INVALID_OPTIONS' },
    });
    expect(await cache.set('k', 1, { tags: [''] })).toMatchObject({
      ok: false,
      error: { code: 'CACHE_INVALID_OPTIONS' },
    });
    expect(await cache.set('k', 1, { tags: 'a' as never })).toMatchObject({
      ok: false,
      error: { code: 'CACHE_INVALID_OPTIONS' },
    });
    expect(
      await cache.set('k', 1, { tags: Array.from({ length: 65 }, (_, i) => `t${i}`) }),
    ).toMatchObject({
      ok: false,
      error: { code: 'CACHE_INVALID_OPTIONS' },
    });
    expect(await cache.getOrSet('k', () => 1, { hardTimeout: -1 })).toMatchObject({
      ok: false,
      error: { code: 'CACHE_INVALID_OPTIONS' },
    });
    expect(await cache.getOrSet('k', 'not a function' as never)).toMatchObject({
      ok: false,
      error: { code: 'CACHE_INVALID_OPTIONS' },
    });
    await expect(cache.get('k', { schema: {} as never })).rejects.toMatchObject({
      code: 'CACHE_INVALID_OPTIONS',
    });
    expect(await cache.has('k')).toBe(false);
  });

  it('does not let prototype keys of a cached value reach Object.prototype', async () => {
    const cache = createCache();
    const hostile = JSON.parse(
      '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}',
    );
    expect((await cache.set('k', hostile)).ok).toBe(true);
    const back = (await cache.get('k')) as Record<string, unknown>;
    expect(Object.hasOwn(back, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('reads a corrupt or foreign L2 entry as a miss, never a throw', async () => {
    const store = memoryStore();
    const cache = createCache({ namespace: 'c', l1: false, l2: store });
    for (const junk of [
      'not ours',
      '[1,"json",1]\n{}',
      '{"a":1}\nnull',
      '[1,"json",0,0,0,0,0,0,0]\n{bad',
      '\n',
      '[2]\n1',
      '[2,"json",1,2,3,4,5,0,0]',
      '[2,"json",9e15,9e15,9e15,0,0,0,0,{"__proto__":1}',
      '[2,"other",9e15,9e15,9e15,0,0,0,0,1]',
      '[2,"json",9e15,9e15,9e15,0,0,7,0,1]',
      '[2,"json",9e15,9e15,9e15,0,0,0,[1],1]',
      '[1,"json",9e15,9e15,9e15,0,0,0,0]\n{"unterminated"',
    ]) {
      await store.set([{ key: 'c:k', value: junk, ttlMs: 10_000 }]);
      expect(await cache.get('k')).toBeUndefined();
      expect(await cache.getOrSet('k', () => 'loaded')).toEqual({ ok: true, value: 'loaded' });
      await cache.delete('k');
    }
  });

  it('refuses writes after close with CACHE_CLOSED', async () => {
    const cache = createCache();
    await cache.close();
    expect(await cache.set('k', 1)).toMatchObject({ ok: false, error: { code: 'CACHE_CLOSED' } });
    expect(await cache.getOrSet('k', () => 1)).toMatchObject({
      ok: false,
      error: { code: 'CACHE_CLOSED' },
    });
  });
});
