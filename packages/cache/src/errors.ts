import { defineErrors } from '@prod/core';

/**
 * The error codes of @prod/cache.
 *
 * - `CACHE_INVALID_OPTIONS`: an option of `createCache`, a store, `httpCachePart` or
 *   `httpCacheMeta` is invalid (thrown at construction, never returned).
 * - `CACHE_INVALID_KEY`: a key that is not a non-empty string, or is longer than `maxKeyLength`;
 *   a tag or namespace that is not a non-empty string. Nothing is written.
 * - `CACHE_NOT_SERIALIZABLE`: the serializer refused the value (a function, a symbol, a
 *   BigInt, a cycle, a Map...). Nothing is written.
 * - `CACHE_VALUE_TOO_LARGE`: the serialized value is over `maxValueSize`. Nothing is written.
 * - `CACHE_L2_UNAVAILABLE`: the shared tier (Redis) did not answer within `l2.timeout`, failed,
 *   or its circuit is open. Reported as an event on every failure; returned by writes
 *   (`set`, `delete`, `invalidateTags`, `clear`) whose local part was done but whose shared
 *   part was not.
 * - `CACHE_LOADER_TIMEOUT`: the loader of `getOrSet` passed its `hardTimeout` and no stale
 *   value could stand in.
 * - `CACHE_LOADER_FAILED`: the loader threw something that is not a ProdError (a ProdError it
 *   throws is returned as it is) and no stale value could stand in.
 * - `CACHE_SCHEMA_MISMATCH`: the loader of a `getOrSet` with a `schema` returned a value the
 *   schema refuses. Nothing is written.
 * - `CACHE_CLOSED`: a write after `close()`.
 */
export const CacheErrors = defineErrors({
  CACHE_INVALID_OPTIONS: { status: 500, title: 'Invalid cache options' },
  CACHE_INVALID_KEY: { status: 500, title: 'Invalid cache key' },
  CACHE_NOT_SERIALIZABLE: { status: 500, title: 'Value cannot be cached' },
  CACHE_VALUE_TOO_LARGE: { status: 500, title: 'Value too large to cache' },
  CACHE_L2_UNAVAILABLE: { status: 503, title: 'Shared cache unavailable', retryable: true },
  CACHE_LOADER_TIMEOUT: { status: 504, title: 'Cache loader timed out', retryable: true },
  CACHE_LOADER_FAILED: { status: 500, title: 'Cache loader failed' },
  CACHE_SCHEMA_MISMATCH: { status: 500, title: 'Loaded value does not match its schema' },
  CACHE_CLOSED: { status: 500, title: 'Cache closed' },
});
