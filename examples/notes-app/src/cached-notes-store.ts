import type { Cache } from '@prod/cache';
import { err, ok, type ProdError } from '@prod/core';
import type { Note } from './note.js';
import type { NotesStore } from './notes-store.js';

/** What {@link cachedNotesStore} may be given beyond the store and the cache. */
export interface CachedNotesStoreOptions {
  /** How long a missing note is remembered as missing, in ms. Default 5,000. */
  readonly negativeTtl?: number;
}

/**
 * A {@link NotesStore} that reads notes by id through `cache` (@prod/cache: the in-process LRU,
 * and Redis behind it when configured), loading each note once however many requests ask for
 * it at the same time. Updates and deletes drop the cached note on every instance (the cache's
 * bus) before they answer. Lists are not cached: they change with every write.
 *
 * What it caches is what `store` answers: put it *below* the encryption layer
 * (`encryptedNotesStore(cachedNotesStore(sql, cache), keyring)`), so the cache, Redis
 * included, holds ciphertext only.
 *
 * While the store fails, a note read within the cache's `grace` is answered from the cache;
 * otherwise the store's error comes back as it is (`503 UNAVAILABLE` stays a 503).
 */
export function cachedNotesStore(
  store: NotesStore,
  cache: Cache,
  options: CachedNotesStoreOptions = {},
): NotesStore {
  const negativeTtl = options.negativeTtl ?? 5000;
  // The write went through; a failed drop (Redis away) is reported by the cache's `l2Error`
  // event, and the copy left in Redis expires with its TTL.
  const drop = async (id: string): Promise<void> => {
    await cache.delete(id);
  };
  return {
    kind: store.kind,
    create: (note, id) => store.create(note, id),
    list: (listOptions) => store.list(listOptions),
    async get(id) {
      const found = await cache.getOrSet<Note | null>(
        id,
        async () => {
          const read = await store.get(id);
          // A ProdError thrown here is answered as it is.
          if (!read.ok) throw read.error;
          return read.value ?? null;
        },
        { negativeTtl },
      );
      return found.ok ? ok(found.value ?? undefined) : err(found.error as ProdError);
    },
    async update(id, patch) {
      const updated = await store.update(id, patch);
      if (updated.ok) await drop(id);
      return updated;
    },
    async remove(id) {
      const removed = await store.remove(id);
      if (removed.ok) await drop(id);
      return removed;
    },
  };
}
