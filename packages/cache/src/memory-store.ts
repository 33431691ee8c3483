import { optionChecks } from '@prod/core';
import { LRUCache } from 'lru-cache';
import { CacheErrors } from './errors.js';
import type { BusListener, CacheStore, LockAttempt, StoredValue, StoreWrite } from './store.js';

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /** Most entries kept; the least recently used go first. Default 100 000. */
  readonly maxEntries?: number;
}

interface Held {
  readonly value: StoredValue;
  readonly tags: readonly string[] | undefined;
}

const check = optionChecks(CacheErrors.CACHE_INVALID_OPTIONS);

// A fence outlives its lock by this factor, so a holder whose lease ran out is still fenced
// off after the next holder released the lock.
const FENCE_LIFE = 10;

/**
 * A shared tier kept in this process: what `createCache({ l2 })` takes, for tests and for
 * several caches of one process that must see each other's writes and invalidations (its bus
 * delivers messages to every cache on the store). Values are kept serialized, as Redis keeps
 * them, so a value read back is a copy.
 *
 * When to use: in tests of code that runs on Redis in production, and to try the two-tier
 * behaviour without a server. A single-process service needs no L2 at all: the L1 of
 * `createCache()` is the embedded default.
 *
 * @returns a {@link CacheStore}. Throws `CACHE_INVALID_OPTIONS` for a bad option.
 * @example
 * const shared = memoryStore();
 * const a = createCache({ l2: shared });
 * const b = createCache({ l2: shared });
 * await a.set('greeting', 'hello');
 * await b.get('greeting'); // 'hello'
 */
export function memoryStore(options: MemoryStoreOptions = {}): CacheStore {
  const given = check.object<MemoryStoreOptions>('options', options);
  const maxEntries = check.integer('maxEntries', given.maxEntries, 100_000, { min: 1 });
  const byTag = new Map<string, Set<string>>();
  const entries = new LRUCache<string, Held>({
    max: maxEntries,
    // Keep the tag index as small as the entries: a key leaves its tags with its entry.
    dispose: (held, key) => {
      for (const tag of held.tags ?? []) {
        const keys = byTag.get(tag);
        keys?.delete(key);
        if (keys?.size === 0) byTag.delete(tag);
      }
    },
  });
  const locks = new LRUCache<string, number>({ max: maxEntries });
  const fences = new LRUCache<string, number>({ max: maxEntries });
  const listeners = new Set<BusListener>();
  let tokens = 0;
  let closed = false;

  const publish = (message: string | undefined): void => {
    if (message === undefined) return;
    // Asynchronous, like a real bus: a listener never runs inside the writer's call.
    for (const listener of listeners) queueMicrotask(() => listener.message(message));
  };
  const write = (one: StoreWrite): void => {
    if (!(one.ttlMs > 0)) {
      entries.delete(one.key);
      return;
    }
    const tags = one.tags !== undefined && one.tags.length > 0 ? one.tags : undefined;
    entries.set(one.key, { value: one.value, tags }, { ttl: ttlOf(one.ttlMs) });
    for (const tag of tags ?? []) {
      let keys = byTag.get(tag);
      if (keys === undefined) {
        keys = new Set();
        byTag.set(tag, keys);
      }
      keys.add(one.key);
    }
  };
  const read = (key: string): StoredValue | undefined => entries.get(key)?.value;
  const ensureOpen = (): void => {
    if (closed) throw CacheErrors.CACHE_CLOSED('the memory store is closed');
  };

  return {
    kind: 'memory',
    async get(key) {
      ensureOpen();
      return read(key);
    },
    async getMany(keys) {
      ensureOpen();
      return keys.map(read);
    },
    async set(writes, message) {
      ensureOpen();
      for (const one of writes) write(one);
      publish(message);
    },
    async delete(keys, message) {
      ensureOpen();
      for (const key of keys) entries.delete(key);
      publish(message);
    },
    async deleteTags(tags, message) {
      ensureOpen();
      for (const tag of tags) {
        for (const key of [...(byTag.get(tag) ?? [])]) entries.delete(key);
        byTag.delete(tag);
      }
      publish(message);
    },
    async clear(prefix, message) {
      ensureOpen();
      for (const key of [...entries.keys()]) if (key.startsWith(prefix)) entries.delete(key);
      if (prefix === '') byTag.clear();
      publish(message);
    },
    async getOrLock(key, leaseMs): Promise<LockAttempt> {
      ensureOpen();
      const value = read(key);
      if (value !== undefined) return { value };
      if (!(leaseMs > 0)) return {};
      const token = take(key, leaseMs);
      return token === undefined ? {} : { token };
    },
    async lock(key, leaseMs) {
      ensureOpen();
      return take(key, leaseMs);
    },
    async renewLock(key, token, leaseMs) {
      ensureOpen();
      if (locks.get(key) !== token) return false;
      locks.set(key, token, { ttl: ttlOf(leaseMs) });
      return true;
    },
    async commit(key, token, one, message) {
      ensureOpen();
      const fence = fences.get(key);
      if (fence !== undefined && fence !== token) return false;
      write(one);
      if (locks.get(key) === token) locks.delete(key);
      publish(message);
      return true;
    },
    async unlock(key, token) {
      ensureOpen();
      if (locks.get(key) === token) locks.delete(key);
    },
    subscribe(listener) {
      listeners.add(listener);
      queueMicrotask(() => {
        if (listeners.has(listener)) listener.state(true);
      });
      return () => {
        listeners.delete(listener);
      };
    },
    async close() {
      closed = true;
      listeners.clear();
    },
  };

  function take(key: string, leaseMs: number): number | undefined {
    if (locks.get(key) !== undefined) return undefined;
    tokens += 1;
    locks.set(key, tokens, { ttl: ttlOf(leaseMs) });
    fences.set(key, tokens, { ttl: ttlOf(leaseMs * FENCE_LIFE) });
    return tokens;
  }
}

// lru-cache takes whole milliseconds > 0; Infinity means no expiry.
const ttlOf = (ms: number): number => (Number.isFinite(ms) ? Math.max(1, Math.ceil(ms)) : 0);
