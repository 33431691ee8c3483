import { memoryStore } from '@prod/cache';
import { describe, expect, it } from 'vitest';
import { runStoreSuite } from './support/store-suite.js';

runStoreSuite('memoryStore', async () => {
  const store = memoryStore();
  return { store, peer: store, close: () => store.close() };
});

describe('memoryStore', () => {
  it('evicts the least recently used entries past maxEntries', async () => {
    const store = memoryStore({ maxEntries: 2 });
    await store.set([
      { key: 'a', value: '1', ttlMs: 10_000 },
      { key: 'b', value: '2', ttlMs: 10_000 },
    ]);
    await store.get('a');
    await store.set([{ key: 'c', value: '3', ttlMs: 10_000 }]);
    expect(await store.getMany(['a', 'b', 'c'])).toEqual(['1', undefined, '3']);
  });

  it('refuses calls once closed, with CACHE_CLOSED', async () => {
    const store = memoryStore();
    await store.close();
    await expect(store.get('a')).rejects.toMatchObject({ code: 'CACHE_CLOSED' });
  });

  it('refuses bad options with CACHE_INVALID_OPTIONS', () => {
    expect(() => memoryStore({ maxEntries: 0 })).toThrow(
      expect.objectContaining({ code: 'CACHE_INVALID_OPTIONS' }),
    );
  });
});
