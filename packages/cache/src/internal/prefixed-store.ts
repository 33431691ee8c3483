import type { CacheStore, StoreWrite } from '../store.js';

/**
 * The store as a cache with a namespace sees it: every key gets the namespace prefix on its
 * way to the store. L1 keeps keys without it, so that a hit never builds a string.
 */
export function prefixedStore(store: CacheStore, prefix: string): CacheStore {
  if (prefix === '') return store;
  const at = (key: string): string => prefix + key;
  const write = (one: StoreWrite): StoreWrite => ({ ...one, key: prefix + one.key });
  return {
    kind: store.kind,
    get: (key, read) => store.get(at(key), read),
    getMany: (keys, read) => store.getMany(keys.map(at), read),
    set: (writes, message) => store.set(writes.map(write), message),
    delete: (keys, message) => store.delete(keys.map(at), message),
    deleteTags: (tags, message) => store.deleteTags(tags, message),
    clear: (keyPrefix, message) => store.clear(prefix + keyPrefix, message),
    getOrLock: (key, leaseMs, read) => store.getOrLock(at(key), leaseMs, read),
    lock: (key, leaseMs) => store.lock(at(key), leaseMs),
    renewLock: (key, token, leaseMs) => store.renewLock(at(key), token, leaseMs),
    commit: (key, token, one, message) => store.commit(at(key), token, write(one), message),
    unlock: (key, token) => store.unlock(at(key), token),
    subscribe: (listener) => store.subscribe(listener),
    close: () => store.close(),
  };
}
