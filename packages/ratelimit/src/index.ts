export type {
  BruteForce,
  BruteForceError,
  BruteForceOptions,
  BruteForceStatus,
} from './brute-force.js';
export { bruteForceKey, createBruteForce } from './brute-force.js';
export { clientIp } from './client-ip.js';
export { RateLimitErrors } from './errors.js';
export type { HeaderOptions } from './headers.js';
export { rateLimitHeaders } from './headers.js';
export type { MemoryStoreOptions, RateLimitStore } from './memory-store.js';
export { memoryStore } from './memory-store.js';
export { definePolicy } from './policy.js';
export type { ClientMatcher, RateLimitPartOptions } from './rate-limit-part.js';
export { QUOTA_EXCEEDED, rateLimitPart, TEMPORARY_REDUCED_CAPACITY } from './rate-limit-part.js';
export type {
  ConsumeOptions,
  PressureOptions,
  RateLimitError,
  RateLimiter,
  RateLimiterOptions,
  TierLimits,
} from './rate-limiter.js';
export { createRateLimiter } from './rate-limiter.js';
export type { InsuranceOptions, RedisClientLike, RedisStoreOptions } from './redis-store.js';
export { redisStore } from './redis-store.js';
export type { RouteRateLimit } from './route-meta.js';
export { rateLimitMeta, rateLimitPolicy } from './route-meta.js';
export type {
  JobOptions,
  Throttle,
  ThrottleCounts,
  ThrottleError,
  ThrottleOptions,
} from './throttle.js';
export { createThrottle } from './throttle.js';
export type {
  Algorithm,
  KeySource,
  KeySpec,
  MetricsRegistryLike,
  MetricsTarget,
  Policy,
  PolicyOptions,
  PolicyState,
  RateLimitDecision,
} from './types.js';
