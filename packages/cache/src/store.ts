/** What a store keeps under one key: the envelope the cache wrote, as text or bytes. */
export type StoredValue = string | Uint8Array;

/** One entry to write. */
export interface StoreWrite {
  /** The cache key, namespace included (`notes:42`); the store adds its own prefix. */
  readonly key: string;
  readonly value: StoredValue;
  /** How long the store keeps it, in ms (its whole life: fresh, stale and grace). */
  readonly ttlMs: number;
  /** Tags the entry is filed under, for {@link CacheStore.deleteTags}. */
  readonly tags?: readonly string[];
}

/** How to read. */
export interface StoreReadOptions {
  /** Read bytes (a Buffer) rather than text: set when the serializer is binary. */
  readonly binary?: boolean;
}

/** What {@link CacheStore.getOrLock} found: the value, the lock (a fencing token), or neither. */
export interface LockAttempt {
  /** The stored value, when there is one (no lock is taken then). */
  readonly value?: StoredValue;
  /**
   * The fencing token of the lock this call took: a number that grows with every lock taken
   * on the key, so that a holder whose lease ran out cannot overwrite a newer holder's value.
   */
  readonly token?: number;
}

/** Told about the invalidation bus: messages from other caches, and the connection. */
export interface BusListener {
  /** A message another cache published with a write. */
  message(text: string): void;
  /** The bus connected (`true`) or lost its connection (`false`). */
  state(connected: boolean): void;
}

/**
 * A shared tier of the cache: where values live between processes (Redis), or in one process
 * for tests and single-process services (`memoryStore`). The cache wraps every call in its
 * timeout and circuit breaker, so a store just rejects when something fails.
 *
 * Every method that writes takes an optional bus `message`: the store publishes it to the
 * other caches subscribed to it once the write is done (Redis: in the same pipeline, after
 * the write), so that a cache told to drop its copy re-reads the new value, never the old one.
 *
 * When to use: to plug another shared store (DynamoDB, PostgreSQL) into `createCache({ l2 })`.
 * `test/support/store-suite.ts` is the contract every store of this package passes.
 */
export interface CacheStore {
  /** `memory`, `redis` or `redis-cluster`: shown in stats and metrics. */
  readonly kind: string;
  get(key: string, options?: StoreReadOptions): Promise<StoredValue | undefined>;
  /** Values in the order of `keys`, in one round trip where the store can (MGET). */
  getMany(
    keys: readonly string[],
    options?: StoreReadOptions,
  ): Promise<(StoredValue | undefined)[]>;
  /** Writes every entry (one round trip where the store can), then publishes `message`. */
  set(writes: readonly StoreWrite[], message?: string): Promise<void>;
  delete(keys: readonly string[], message?: string): Promise<void>;
  /** Deletes every entry filed under one of `tags` (a hard delete), then publishes `message`. */
  deleteTags(tags: readonly string[], message?: string): Promise<void>;
  /** Deletes every key that starts with `prefix` (`''`: every key of the store). */
  clear(prefix: string, message?: string): Promise<void>;
  /**
   * Reads `key`; when there is no value and `leaseMs > 0`, also tries to lock it for
   * `leaseMs`, in the same round trip.
   */
  getOrLock(key: string, leaseMs: number, options?: StoreReadOptions): Promise<LockAttempt>;
  /** Locks `key` whether or not it has a value (to refresh a stale one); the token or undefined. */
  lock(key: string, leaseMs: number): Promise<number | undefined>;
  /** Extends the lease of the lock `token` holds; false when that lock is gone. */
  renewLock(key: string, token: number, leaseMs: number): Promise<boolean>;
  /**
   * Writes `write` and releases the lock, only if no lock was taken on the key after
   * `token`'s (the fencing check); then publishes `message`. False when fenced off.
   */
  commit(key: string, token: number, write: StoreWrite, message?: string): Promise<boolean>;
  /** Releases the lock if `token` still holds it. */
  unlock(key: string, token: number): Promise<void>;
  /**
   * Subscribes to the invalidation bus. Returns the function that unsubscribes. A store
   * without a bus returns undefined.
   */
  subscribe(listener: BusListener): (() => void) | undefined;
  /** Closes what the store opened (never the client it was given). */
  close(): Promise<void>;
}
