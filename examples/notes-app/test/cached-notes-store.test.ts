import { createCache, memoryStore } from '@prod/cache';
import { CoreErrors, err, type ProdError, type Result } from '@prod/core';
import { cachedNotesStore, memoryNotesStore, type Note, type NotesStore } from 'example-notes-app';
import { afterEach, describe, expect, it } from 'vitest';

/** A memory store counting its reads by id, which can be made to fail. */
function counted(): { store: NotesStore; reads: () => number; fail: (down: boolean) => void } {
  const inner = memoryNotesStore();
  let reads = 0;
  let down = false;
  return {
    reads: () => reads,
    fail: (value) => {
      down = value;
    },
    store: {
      ...inner,
      get(id): Promise<Result<Note | undefined, ProdError>> {
        reads += 1;
        if (down) return Promise.resolve(err(CoreErrors.UNAVAILABLE('database down')));
        return inner.get(id);
      },
    },
  };
}

describe('cachedNotesStore', () => {
  const caches: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const cache of caches.splice(0)) await cache.close();
  });
  const cacheOf = (options: Parameters<typeof createCache>[0] = {}) => {
    const cache = createCache({ namespace: 'notes', ...options });
    caches.push(cache);
    return cache;
  };

  it('reads a note once for many concurrent callers, then from the cache', async () => {
    const { store, reads } = counted();
    const cached = cachedNotesStore(store, cacheOf());
    const created = await cached.create({ title: 't', body: 'b' });
    if (!created.ok) throw created.error;
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => cached.get(created.value.id)),
    );
    expect(answers.every((answer) => answer.ok && answer.value?.title === 't')).toBe(true);
    expect(reads()).toBe(1);
    await cached.get(created.value.id);
    expect(reads()).toBe(1);
  });

  it('drops the cached note on update and on delete', async () => {
    const { store, reads } = counted();
    const cached = cachedNotesStore(store, cacheOf());
    const created = await cached.create({ title: 't', body: 'b' });
    if (!created.ok) throw created.error;
    const id = created.value.id;
    await cached.get(id);
    expect((await cached.update(id, { title: 'changed' })).ok).toBe(true);
    const read = await cached.get(id);
    expect(read.ok && read.value?.title).toBe('changed');
    expect(reads()).toBe(2);
    expect(await cached.remove(id)).toEqual({ ok: true, value: true });
    expect(await cached.get(id)).toEqual({ ok: true, value: undefined });
  });

  it('remembers a missing note for negativeTtl, as missing', async () => {
    const { store, reads } = counted();
    const cached = cachedNotesStore(store, cacheOf(), { negativeTtl: 60_000 });
    const id = '00000000-0000-4000-8000-000000000000';
    expect(await cached.get(id)).toEqual({ ok: true, value: undefined });
    expect(await cached.get(id)).toEqual({ ok: true, value: undefined });
    expect(reads()).toBe(1);
  });

  it('answers the store error as it is when nothing cached stands in (503 stays 503)', async () => {
    const { store, fail } = counted();
    const cached = cachedNotesStore(store, cacheOf());
    fail(true);
    const read = await cached.get('00000000-0000-4000-8000-000000000000');
    expect(!read.ok && [read.error.code, read.error.status]).toEqual(['UNAVAILABLE', 503]);
  });

  it('drops the note on every instance sharing a tier (the bus), not only its own', async () => {
    const { store } = counted();
    const shared = memoryStore();
    const a = cachedNotesStore(store, cacheOf({ l2: shared }));
    const b = cachedNotesStore(store, cacheOf({ l2: shared }));
    const created = await a.create({ title: 'one', body: '' });
    if (!created.ok) throw created.error;
    const id = created.value.id;
    await a.get(id);
    await b.get(id);
    expect((await a.update(id, { title: 'two' })).ok).toBe(true);
    const seen = await b.get(id);
    expect(seen.ok && seen.value?.title).toBe('two');
  });
});
