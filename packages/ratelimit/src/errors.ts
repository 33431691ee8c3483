import { defineErrors } from '@prod/core';

/**
 * The error codes of @prod/ratelimit.
 *
 * - `RATELIMIT_EXCEEDED`: a request went over a policy (429, `quota-exceeded` problem type).
 * - `RATELIMIT_REDUCED_CAPACITY`: the process is under pressure and its limits are lowered for
 *   now (503, `temporary-reduced-capacity` problem type).
 * - `RATELIMIT_DENIED`: the client is on the deny list (403).
 * - `RATELIMIT_STORE_UNAVAILABLE`: the store failed or passed its timeout and the limiter was told
 *   not to fall back (`onStoreError: 'error'`); 503, retryable.
 * - `RATELIMIT_INVALID_KEY`: a key that is not a non-empty string (a key function returning a
 *   number, an empty key).
 * - `RATELIMIT_INVALID_COST`: a cost that is not a positive integer, or over the policy's limit.
 * - `RATELIMIT_INVALID_OPTIONS`: an option of a factory is invalid (thrown at construction).
 * - `RATELIMIT_BLOCKED`: brute-force protection holds the key blocked (429).
 * - `THROTTLE_QUEUE_FULL`: an outbound throttle's queue is at `maxQueued`; the job was not queued.
 * - `THROTTLE_TIMEOUT`: a job outlived its `timeout` (it was abandoned, its slot freed).
 * - `THROTTLE_STOPPED`: the throttle was stopped before the job ran.
 * - `THROTTLE_JOB_FAILED`: the job itself threw or rejected (the cause is kept).
 * - `THROTTLE_UNAVAILABLE`: the clustered throttle could not reach Redis.
 */
export const RateLimitErrors = defineErrors({
  RATELIMIT_EXCEEDED: { status: 429, title: 'Too many requests', retryable: true },
  RATELIMIT_REDUCED_CAPACITY: {
    status: 503,
    title: 'Temporarily reduced capacity',
    retryable: true,
  },
  RATELIMIT_DENIED: { status: 403, title: 'Denied' },
  RATELIMIT_STORE_UNAVAILABLE: {
    status: 503,
    title: 'Rate limit store unavailable',
    retryable: true,
  },
  RATELIMIT_INVALID_KEY: { status: 500, title: 'Invalid rate limit key' },
  RATELIMIT_INVALID_COST: { status: 500, title: 'Invalid rate limit cost' },
  RATELIMIT_INVALID_OPTIONS: { status: 500, title: 'Invalid rate limit options' },
  RATELIMIT_BLOCKED: { status: 429, title: 'Too many failed attempts', retryable: true },
  THROTTLE_QUEUE_FULL: { status: 503, title: 'Throttle queue full', retryable: true },
  THROTTLE_TIMEOUT: { status: 504, title: 'Throttled job timed out', retryable: true },
  THROTTLE_STOPPED: { status: 503, title: 'Throttle stopped' },
  THROTTLE_JOB_FAILED: { status: 500, title: 'Throttled job failed' },
  THROTTLE_UNAVAILABLE: { status: 503, title: 'Throttle store unavailable', retryable: true },
});
