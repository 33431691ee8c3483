import { createCache, memoryStore } from '@prod/cache';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

const UserV2 = z.object({ id: z.string(), email: z.string().email() });

describe('schema-checked reads', () => {
  it('treats a cached value that no longer matches as a miss, from L1 and from L2', async () => {
    const store = memoryStore();
    const old = createCache({ namespace: 'users', l2: store });
    await old.set('1', { id: '1', name: 'Ada' }); // the v1 shape, no email
    const mismatches: string[] = [];
    const cache = createCache({ namespace: 'users', l2: store });
    cache.on('schemaMismatch', ({ key, level }) => mismatches.push(`${key}@${level}`));
    expect(await cache.get('1', { schema: UserV2 })).toBeUndefined();
    expect(await old.get('1', { schema: UserV2 })).toBeUndefined();
    expect(mismatches).toEqual(['1@l2']);
    const loaded = await cache.getOrSet('1', () => ({ id: '1', email: 'ada@example.com' }), {
      schema: UserV2,
    });
    expect(loaded).toEqual({ ok: true, value: { id: '1', email: 'ada@example.com' } });
    expect(await cache.get('1', { schema: UserV2 })).toEqual({ id: '1', email: 'ada@example.com' });
  });

  it('returns what the schema makes of the value (its output)', async () => {
    const cache = createCache();
    const Trimmed = z.object({ name: z.string().transform((name) => name.trim()) });
    await cache.set('k', { name: '  Ada  ' });
    expect(await cache.get('k', { schema: Trimmed })).toEqual({ name: 'Ada' });
    expect(await cache.get('k')).toEqual({ name: '  Ada  ' });
    const hit = await cache.getOrSet('k', () => ({ name: 'never' }), { schema: Trimmed });
    expect(hit).toEqual({ ok: true, value: { name: 'Ada' } });
    expect(await cache.getMany(['k'], { schema: Trimmed })).toEqual([{ name: 'Ada' }]);
  });

  it('answers each schema with its own output when one key is read with two', async () => {
    const cache = createCache();
    await cache.set('k', { name: 'ada' });
    const Upper = z.object({ name: z.string().transform((name) => name.toUpperCase()) });
    const Length = z.object({ name: z.string().transform((name) => name.length) });
    const loader = () => ({ name: 'never' });
    for (let i = 0; i < 2; i += 1) {
      // The second read is a fast hit: its answer is kept on the entry.
      expect(await cache.getOrSet('k', loader, { schema: Upper })).toEqual({
        ok: true,
        value: { name: 'ADA' },
      });
    }
    expect(await cache.getOrSet('k', loader, { schema: Length })).toEqual({
      ok: true,
      value: { name: 3 },
    });
    expect(await cache.getOrSet('k', loader, { schema: Length })).toEqual({
      ok: true,
      value: { name: 3 },
    });
  });

  it('loads again when the L1 value fails the schema in getOrSet', async () => {
    const cache = createCache();
    await cache.set('1', { id: 1 });
    let calls = 0;
    const result = await cache.getOrSet(
      '1',
      () => {
        calls += 1;
        return { id: '1', email: 'a@b.co' };
      },
      { schema: UserV2 },
    );
    expect(calls).toBe(1);
    expect(result.ok).toBe(true);
  });

  it('answers the schema output on a miss too, and refuses a loader value the schema refuses', async () => {
    const cache = createCache();
    const Trimmed = z.object({ name: z.string().transform((name) => name.trim()) });
    expect(await cache.getOrSet('a', () => ({ name: '  Ada ' }), { schema: Trimmed })).toEqual({
      ok: true,
      value: { name: 'Ada' },
    });
    expect(await cache.get('a')).toEqual({ name: '  Ada ' }); // the loader's value is what is kept
    expect(await cache.getOrSet('a', () => ({ name: 'never' }), { schema: Trimmed })).toEqual({
      ok: true,
      value: { name: 'Ada' },
    });
    const wrong = await cache.getOrSet('b', () => ({ name: 42 }) as never, { schema: Trimmed });
    expect(wrong).toMatchObject({ ok: false, error: { code: 'CACHE_SCHEMA_MISMATCH' } });
    expect(await cache.has('b')).toBe(false);
  });

  it('accepts async schemas', async () => {
    const cache = createCache();
    const Async = z.string().refine(async (value) => value.startsWith('ok'));
    await cache.set('good', 'ok-1');
    await cache.set('bad', 'nope');
    expect(await cache.get('good', { schema: Async })).toBe('ok-1');
    expect(await cache.get('bad', { schema: Async })).toBeUndefined();
  });
});
