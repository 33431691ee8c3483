import type { MaybePromise, ProdError, Result } from '@prod/core';
import type { CircuitBreakerOptions, CircuitState } from '@prod/errors';
import type { Serializer } from './serializer.js';
import type { CacheStore } from './store.js';

/** One problem a schema found. */
export interface SchemaIssue {
  readonly message: string;
}

/** What a schema's `validate` answers (Standard Schema v1). */
export type SchemaResult<TOutput> =
  | { readonly value: TOutput; readonly issues?: undefined }
  | { readonly issues: readonly SchemaIssue[] };

/**
 * A Standard Schema v1 (https://standardschema.dev): zod 4, valibot and arktype schemas are
 * ones. Used to check what is read from the cache.
 */
export interface Schema<TOutput = unknown, TInput = unknown> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => SchemaResult<TOutput> | Promise<SchemaResult<TOutput>>;
    readonly types?: { readonly input: TInput; readonly output: TOutput } | undefined;
  };
}

/** The type a schema produces. */
export type SchemaOutput<TSchema> = TSchema extends Schema<infer TOutput> ? TOutput : unknown;

/** The type a schema accepts: what a loader returns when the read has a schema. */
export type SchemaInput<TSchema> = TSchema extends {
  readonly '~standard': { readonly types?: { readonly input: infer TInput } | undefined };
}
  ? TInput
  : unknown;

/**
 * What the cache needs of a metrics registry: prom-client's `Registry` (and so the `registry`
 * of @prod/metrics' `createMetrics()`) fits. The cache registers collectors that read its
 * counters at scrape time: nothing is computed per cache call.
 */
export interface MetricsRegistryLike {
  registerMetric(metric: never): void;
  getSingleMetric(name: string): unknown;
}

/** Where a cache's metrics go: `createMetrics()` of @prod/metrics fits as it is. */
export interface CacheMetricsTarget {
  readonly registry: MetricsRegistryLike;
  /** Prepended to the metric names (`notes_` -> `notes_cache_hits_total`). Default `''`. */
  readonly prefix?: string;
}

/** How long an entry is fresh, and what happens after. Every duration is in milliseconds. */
export interface FreshnessOptions {
  /** How long a value is fresh. `Infinity`: until evicted or invalidated. */
  readonly ttl?: number;
  /**
   * Spreads expiries: each entry's `ttl` is shortened by up to this fraction, at random (0.1:
   * between 90 % and 100 % of `ttl`), so that keys written together do not expire together.
   */
  readonly jitter?: number;
  /**
   * After `ttl`, for this long, `getOrSet` answers the stale value at once and reloads it in
   * the background (one load per key).
   */
  readonly staleWhileRevalidate?: number;
  /**
   * After `ttl`, for this long, a stale value stands in when the loader fails or passes its
   * timeout (stale-if-error). `Infinity` keeps it until evicted.
   */
  readonly grace?: number;
  /** How long the L1 copy may live, at most (shorter than `ttl` to re-read L2 more often). */
  readonly l1Ttl?: number;
}

/** Options of `set` and `setMany`. */
export interface SetOptions extends FreshnessOptions {
  /** Tags to invalidate the entry by (`invalidateTags`), on every instance. */
  readonly tags?: readonly string[];
}

/** Per-call options of `get`. */
export interface GetOptions<TSchema extends Schema | undefined = undefined> {
  /**
   * A Standard Schema (zod 4, valibot, arktype): a cached value that does not match is a
   * miss, never returned; the schema's output is what you get.
   */
  readonly schema?: TSchema;
}

/** What a loader may change about the entry it produces, from inside the loader. */
export interface LoaderSettings {
  readonly ttl?: number;
  readonly tags?: readonly string[];
  readonly staleWhileRevalidate?: number;
  readonly grace?: number;
}

/** What a loader receives. */
export interface LoaderContext<TValue> {
  /** The key, without the namespace. */
  readonly key: string;
  /** Aborts when the hard timeout passes, or the cache is closed. */
  readonly signal: AbortSignal;
  /** The stale value being refreshed, when there is one. */
  readonly stale: TValue | undefined;
  /** Adaptive caching: the TTL and tags the result should get, decided from the result. */
  setOptions(settings: LoaderSettings): void;
  /** Returns the value to the caller without caching it. */
  skip(): void;
}

/** Computes the value of a key on a miss. Throw (or reject) to fail. */
export type Loader<TValue> = (context: LoaderContext<TValue>) => MaybePromise<TValue>;

/** Options of `getOrSet`. */
export interface GetOrSetOptions<TSchema extends Schema | undefined = undefined>
  extends SetOptions,
    GetOptions<TSchema> {
  /**
   * When a stale value exists and the loader takes longer than this, answer the stale value
   * and let the loader finish in the background.
   */
  readonly softTimeout?: number;
  /**
   * The longest the caller waits for the loader: then the stale value if there is one, else
   * `CACHE_LOADER_TIMEOUT`. The loader's signal aborts; a loader that ignores it finishes in
   * the background and its value is cached.
   */
  readonly hardTimeout?: number;
  /**
   * Negative caching: a loader result of `null` or `undefined` ("not found") is cached this
   * long. `0`: not cached.
   */
  readonly negativeTtl?: number;
  /** After a failed load answered with a grace value, wait this long before loading again. */
  readonly graceBackoff?: number;
  /**
   * Probabilistic early refresh (XFetch): a hit reloads in the background before expiry with
   * a probability that grows as expiry nears and with the loader's duration, so a hot key is
   * refreshed by one caller before it expires for everyone. The value is the XFetch beta: 1
   * is the usual setting, higher refreshes earlier; 0 turns it off.
   */
  readonly earlyRefresh?: number;
  /**
   * Load once across every instance sharing the L2: the first takes a short Redis lock with a
   * fencing token, the others wait for its value instead of calling their loader.
   */
  readonly distributedLock?: boolean;
  /** How long the distributed lock is held before it expires (renewed while loading). */
  readonly lockLease?: number;
  /** How long an instance waits for another's load before loading itself. */
  readonly lockWait?: number;
  /** Skip L1 and L2: load, then cache the new value. */
  readonly forceFresh?: boolean;
}

/** Options of the query helper `wrap`. */
export interface WrapOptions<TArgs extends readonly unknown[]>
  extends Omit<GetOrSetOptions, 'tags' | 'schema'> {
  /** Tags of an entry, given the arguments (`(id) => [\`note:${id}\`]`), or fixed tags. */
  readonly tags?: readonly string[] | ((...args: TArgs) => readonly string[]);
  /** The key of a call, given its arguments. Default: a stable encoding of the arguments. */
  readonly key?: (...args: TArgs) => string;
}

/** One entry of `setMany`. */
export interface SetManyEntry {
  readonly key: string;
  readonly value: unknown;
  readonly options?: SetOptions;
}

/** Options of the in-process tier. */
export interface L1Options {
  /** Most entries kept; the least recently used go first. Default 10 000. */
  readonly maxEntries?: number;
  /**
   * Most bytes kept, counted as the serialized size of each value (an approximation of the
   * memory it takes). Default: no byte limit.
   */
  readonly maxBytes?: number;
  /**
   * While the invalidation bus is disconnected, L1 copies live at most this long, so an
   * invalidation missed meanwhile cannot keep a stale copy for its whole TTL. Default 5 000 ms.
   */
  readonly disconnectedTtl?: number;
}

/** Options of the shared tier's guard. */
export interface L2Options {
  /** The longest one L2 call may take before it counts as failed. Default 250 ms. */
  readonly timeout?: number;
  /**
   * The circuit breaker around L2 calls (@prod/errors): while open, L2 is skipped at once.
   * Default `{ consecutiveFailures: 5, halfOpenAfterMs: 5_000 }`.
   */
  readonly circuitBreaker?: CircuitBreakerOptions;
}

/** Options of {@link createCache}. Every duration is in milliseconds. */
export interface CacheOptions extends Omit<GetOrSetOptions, 'tags' | 'schema' | 'forceFresh'> {
  /** Prefixes every key (`notes` -> `notes:42`). Default none. */
  readonly namespace?: string;
  /** Names the cache in metrics and spans. Default the namespace, or `default`. */
  readonly name?: string;
  /** The in-process tier: options, or `false` for none (L2 only). Default on. */
  readonly l1?: false | L1Options;
  /** The shared tier: `redisStore(...)`, `memoryStore()` or your own. Default none. */
  readonly l2?: CacheStore;
  /** Timeout and circuit breaker of L2 calls. */
  readonly l2Options?: L2Options;
  /**
   * The invalidation bus (when the L2 has one): drops other instances' L1 copies on
   * set, delete, invalidateTags and clear. Default true.
   */
  readonly bus?: boolean;
  /** How values are stored in L2 (and checked in L1-only mode). Default {@link jsonSerializer}. */
  readonly serializer?: Serializer;
  /** Longest key, in characters, namespace excluded. Default 1024. */
  readonly maxKeyLength?: number;
  /** Largest serialized value, in bytes. Default 1 MiB. */
  readonly maxValueSize?: number;
  /**
   * Where metrics go: a prom-client registry (`registry`), with an optional name `prefix`;
   * `createMetrics()` of @prod/metrics fits as it is.
   */
  readonly metrics?: CacheMetricsTarget;
  /** Spans around loader calls (OpenTelemetry `cache.load`). Default true. */
  readonly tracing?: boolean;
  /** Put the key on loader spans as `cache.key` (keys may hold personal data). Default false. */
  readonly traceKeys?: boolean;
}

/** What `stats()` counts, since the cache was created. */
export interface CacheStats {
  readonly name: string;
  readonly l1: { readonly hits: number; readonly misses: number; readonly size: number };
  readonly l2: {
    readonly kind: string | undefined;
    readonly hits: number;
    readonly misses: number;
    readonly errors: number;
    /** Calls skipped because the circuit was open. */
    readonly skipped: number;
    readonly circuit: CircuitState | undefined;
  };
  readonly loads: {
    readonly calls: number;
    readonly errors: number;
    readonly timeouts: number;
    /** Calls that joined a load already running for their key (single-flight). */
    readonly coalesced: number;
  };
  readonly stale: { readonly swr: number; readonly grace: number; readonly timeout: number };
  readonly bus: {
    readonly enabled: boolean;
    readonly connected: boolean;
    readonly received: number;
  };
}

/** Why a stale value was served. */
export type StaleReason = 'swr' | 'grace' | 'timeout';

/** The events of a cache. */
export interface CacheEvents {
  /** An L2 call failed or timed out: the error is `CACHE_L2_UNAVAILABLE`, its cause the failure. */
  l2Error: { readonly error: ProdError<'CACHE_L2_UNAVAILABLE'>; readonly operation: string };
  /** The L2 circuit breaker changed state. */
  circuit: { readonly from: CircuitState; readonly to: CircuitState };
  /** The invalidation bus connected or disconnected. */
  bus: { readonly connected: boolean };
  /** A loader failed (the caller got a stale value or the error). */
  loaderError: { readonly key: string; readonly error: ProdError };
  /** A stale value was served. */
  stale: { readonly key: string; readonly reason: StaleReason };
  /** A cached value did not match its schema and was treated as a miss. */
  schemaMismatch: { readonly key: string; readonly level: 'l1' | 'l2' };
}

/**
 * A multi-level cache. Reads never throw and never hang on L2: a failing L2 is a miss (plus
 * an `l2Error` event). Writes return a Result: bad input is an error and writes nothing.
 */
export interface Cache {
  /** The name in metrics and spans. */
  readonly name: string;
  /** The key prefix of this view: its namespace path and a colon (`notes:drafts:`), or `''`. */
  readonly prefix: string;
  /** A fresh value, or undefined (a miss, an invalid key, an L2 failure). */
  get<TValue = unknown>(key: string): Promise<TValue | undefined>;
  get<TSchema extends Schema>(
    key: string,
    options: GetOptions<TSchema>,
  ): Promise<SchemaOutput<TSchema> | undefined>;
  /** Fresh values in the order of `keys`; the L1 misses in one L2 round trip. */
  getMany<TValue = unknown>(keys: readonly string[]): Promise<(TValue | undefined)[]>;
  getMany<TSchema extends Schema>(
    keys: readonly string[],
    options: GetOptions<TSchema>,
  ): Promise<(SchemaOutput<TSchema> | undefined)[]>;
  /** Whether a fresh entry exists (a cached "not found" counts). */
  has(key: string): Promise<boolean>;
  /**
   * Stores a value in L1 and L2 and tells other instances to drop their copy.
   *
   * @returns `Ok`; `Err` `CACHE_INVALID_KEY`, `CACHE_NOT_SERIALIZABLE`, `CACHE_VALUE_TOO_LARGE`,
   * `CACHE_INVALID_OPTIONS` (nothing written), `CACHE_L2_UNAVAILABLE` (written in L1 only) or
   * `CACHE_CLOSED`.
   */
  set(key: string, value: unknown, options?: SetOptions): Promise<Result<void, ProdError>>;
  /** Like `set` for many entries, checked first (one bad entry: nothing written), one L2 round trip. */
  setMany(entries: readonly SetManyEntry[]): Promise<Result<void, ProdError>>;
  /** Deletes keys everywhere. `Err` `CACHE_L2_UNAVAILABLE` when only L1 was cleared. */
  delete(key: string | readonly string[]): Promise<Result<void, ProdError>>;
  /**
   * The cached value, or the loader's, loaded once per key at a time in this process (and
   * once across instances with `distributedLock`).
   *
   * @returns `Ok(value)` (fresh, or stale under stale-while-revalidate, grace or a soft
   * timeout); `Err` with the loader's ProdError, `CACHE_LOADER_FAILED` (another throw),
   * `CACHE_LOADER_TIMEOUT`, `CACHE_INVALID_KEY`, `CACHE_INVALID_OPTIONS`,
   * `CACHE_NOT_SERIALIZABLE`, `CACHE_VALUE_TOO_LARGE` or `CACHE_SCHEMA_MISMATCH`. Never rejects.
   *
   * With a `schema`, the answer is what the schema makes of the value, on a hit and on a miss
   * alike (the loader returns the schema's input; what is cached is the loader's value).
   * Per-call options are checked when the call needs them: a fresh L1 hit reads only
   * `forceFresh`, `schema` and `earlyRefresh`; a bad option is `CACHE_INVALID_OPTIONS` at the
   * key's first miss.
   */
  getOrSet<TValue>(
    key: string,
    loader: Loader<TValue>,
    options?: GetOrSetOptions,
  ): Promise<Result<TValue, ProdError>>;
  getOrSet<TSchema extends Schema>(
    key: string,
    loader: Loader<SchemaInput<TSchema>>,
    options: GetOrSetOptions<TSchema> & { readonly schema: TSchema },
  ): Promise<Result<SchemaOutput<TSchema>, ProdError>>;
  /** Deletes every entry filed under one of `tags`, on every instance. */
  invalidateTags(tags: readonly string[]): Promise<Result<void, ProdError>>;
  /** Deletes this namespace's entries (or those of the namespace `namespace` under it). */
  clear(namespace?: string): Promise<Result<void, ProdError>>;
  /** A view whose keys live under `name:` in this namespace, sharing tiers, bus and metrics. */
  namespace(name: string): Cache;
  /**
   * Caches a function of its arguments (a query) under `name:<stable encoding of the
   * arguments>`, invalidated by its tags.
   */
  wrap<TArgs extends readonly unknown[], TValue>(
    name: string,
    fn: (...args: TArgs) => MaybePromise<TValue>,
    options?: WrapOptions<TArgs>,
  ): (...args: TArgs) => Promise<Result<TValue, ProdError>>;
  stats(): CacheStats;
  /** Listens to an event; returns the function that stops listening. */
  on<TName extends keyof CacheEvents>(
    name: TName,
    listener: (event: CacheEvents[TName]) => void,
  ): () => void;
  /**
   * Stops the bus subscription and waits (up to the L2 timeout) for L2 writes in flight.
   * The store stays open: close it after every cache using it.
   */
  close(): Promise<void>;
}
