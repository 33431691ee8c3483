import { createCache, memoryStore } from '@prod/cache';
import { describe, expect, it } from 'vitest';

interface Note {
  readonly id: string;
  readonly title: string;
}

describe('wrap: caching a query by its arguments', () => {
  it('caches by a stable key of the arguments, whatever the order of object keys', async () => {
    const cache = createCache({ namespace: 'db' });
    const queries: unknown[] = [];
    const search = cache.wrap(
      'notes.search',
      async (filter: { owner: string; tag?: string | undefined }, limit: number) => {
        queries.push([filter, limit]);
        return [`${filter.owner}:${filter.tag ?? '-'}:${limit}`];
      },
    );
    expect(await search({ owner: 'ada', tag: 'x' }, 10)).toEqual({ ok: true, value: ['ada:x:10'] });
    expect(await search({ tag: 'x', owner: 'ada' }, 10)).toEqual({ ok: true, value: ['ada:x:10'] });
    expect(await search({ owner: 'ada', tag: 'x' }, 20)).toEqual({ ok: true, value: ['ada:x:20'] });
    expect(await search({ owner: 'ada' }, 10)).toEqual({ ok: true, value: ['ada:-:10'] });
    expect(await search({ owner: 'ada', tag: undefined }, 10)).toEqual({
      ok: true,
      value: ['ada:-:10'],
    });
    expect(queries).toHaveLength(3);
  });

  it('tells apart arguments JSON would confuse', async () => {
    const cache = createCache();
    let calls = 0;
    const echo = cache.wrap('echo', (value: unknown) => {
      calls += 1;
      return String(value);
    });
    for (const value of [
      '1',
      1,
      1n,
      true,
      'true',
      null,
      undefined,
      [1],
      { a: 1 },
      new Date(0),
      Buffer.from('a'),
    ]) {
      await echo(value);
    }
    expect(calls).toBe(11);
    await echo('1');
    expect(calls).toBe(11);
  });

  it('invalidates by the tags of its arguments, across instances', async () => {
    const store = memoryStore();
    const make = () =>
      createCache({ namespace: 'db', l2: store }).wrap(
        'notes.byId',
        async (id: string): Promise<Note> => ({ id, title: `title ${id} ${Math.random()}` }),
        { tags: (id) => [`note:${id}`], ttl: 60_000 },
      );
    const a = make();
    const first = await a('1');
    const again = await a('1');
    expect(again).toEqual(first);
    const writer = createCache({ namespace: 'db', l2: store });
    await writer.invalidateTags(['note:1']);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const after = await a('1');
    expect(after.ok && first.ok && after.value.title !== first.value.title).toBe(true);
  });

  it('keeps long keys short with a hash, and uses a key function when given one', async () => {
    const cache = createCache({ maxKeyLength: 100 });
    const long = cache.wrap('long', (text: string) => text.length);
    expect(await long('x'.repeat(10_000))).toEqual({ ok: true, value: 10_000 });
    const byId = cache.wrap('custom', (user: { id: string; noise: number }) => user.noise, {
      key: (user) => user.id,
    });
    await byId({ id: 'u1', noise: 1 });
    expect(await byId({ id: 'u1', noise: 2 })).toEqual({ ok: true, value: 1 });
  });

  it('refuses arguments it cannot key, with CACHE_INVALID_KEY, and bad options at once', async () => {
    const cache = createCache();
    const f = cache.wrap('f', (value: unknown) => value);
    for (const bad of [
      () => 1,
      Symbol('s'),
      new Map(),
      new (class Point {})(),
      new Date(Number.NaN),
    ]) {
      expect(await f(bad)).toMatchObject({ ok: false, error: { code: 'CACHE_INVALID_KEY' } });
    }
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(await f(cyclic)).toMatchObject({ ok: false, error: { code: 'CACHE_INVALID_KEY' } });
    expect(() => cache.wrap('', () => 1)).toThrow(
      expect.objectContaining({ code: 'CACHE_INVALID_OPTIONS' }),
    );
    expect(() => cache.wrap('x', () => 1, { ttl: -1 })).toThrow(
      expect.objectContaining({ code: 'CACHE_INVALID_OPTIONS' }),
    );
    const badTags = cache.wrap('t', (id: string) => id, { tags: () => [''] });
    expect(await badTags('1')).toMatchObject({
      ok: false,
      error: { code: 'CACHE_INVALID_OPTIONS' },
    });
  });
});
