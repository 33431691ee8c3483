export { createCache } from './create-cache.js';
export { CacheErrors } from './errors.js';
export type { HttpCachePolicy, ServerCachePolicy } from './http-cache-meta.js';
export { httpCacheMeta } from './http-cache-meta.js';
export type { HttpCachePartOptions } from './http-cache-part.js';
export { httpCachePart } from './http-cache-part.js';
export type { MemoryStoreOptions } from './memory-store.js';
export { memoryStore } from './memory-store.js';
export type { RedisClientLike, RedisStoreOptions } from './redis-store.js';
export { redisStore } from './redis-store.js';
export type { Serializer } from './serializer.js';
export { jsonSerializer } from './serializer.js';
export type {
  BusListener,
  CacheStore,
  LockAttempt,
  StoredValue,
  StoreReadOptions,
  StoreWrite,
} from './store.js';
export type {
  Cache,
  CacheEvents,
  CacheMetricsTarget,
  CacheOptions,
  CacheStats,
  FreshnessOptions,
  GetOptions,
  GetOrSetOptions,
  L1Options,
  L2Options,
  Loader,
  LoaderContext,
  LoaderSettings,
  MetricsRegistryLike,
  Schema,
  SchemaInput,
  SchemaIssue,
  SchemaOutput,
  SchemaResult,
  SetManyEntry,
  SetOptions,
  StaleReason,
  WrapOptions,
} from './types.js';
