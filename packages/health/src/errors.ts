import { defineErrors } from '@prod/core';

/**
 * The error codes of @prod/health.
 *
 * - `HEALTH_CHECK_TIMEOUT`: a check did not answer within its timeout (a hanging dependency).
 * - `HEALTH_CHECK_FAILED`: a check ran and reported its dependency down (or threw).
 * - `HEALTH_CHECK_STALE`: a background check has not produced a fresh result in time.
 * - `HEALTH_DUPLICATE_CHECK`: two checks share one `component:measurement` key.
 * - `HEALTH_INVALID_CHECK`: a check definition is malformed (name, kind, timeout, function).
 * - `HEALTH_INVALID_OPTIONS`: an option of `createHealth`, `healthPart`, `bearerToken`,
 *   `onShutdown`, `httpCheck` or `applyServerTimeouts` is invalid (thrown at construction).
 * - `HEALTH_SHUTTING_DOWN`: the service is draining; readiness fails on purpose.
 * - `HEALTH_DRAIN_TIMEOUT`: in-flight requests or beacons outlived the drain deadline.
 * - `HEALTH_HOOK_TIMEOUT` / `HEALTH_HOOK_FAILED`: a shutdown cleanup hook hung or threw.
 */
export const HealthErrors = defineErrors({
  HEALTH_CHECK_TIMEOUT: { status: 503, title: 'Health check timed out', retryable: true },
  HEALTH_CHECK_FAILED: { status: 503, title: 'Health check failed', retryable: true },
  HEALTH_CHECK_STALE: { status: 503, title: 'Health check result is stale', retryable: true },
  HEALTH_DUPLICATE_CHECK: { status: 500, title: 'Duplicate health check' },
  HEALTH_INVALID_CHECK: { status: 500, title: 'Invalid health check' },
  HEALTH_INVALID_OPTIONS: { status: 500, title: 'Invalid health options' },
  HEALTH_SHUTTING_DOWN: { status: 503, title: 'Service is shutting down', retryable: true },
  HEALTH_DRAIN_TIMEOUT: { status: 503, title: 'Drain deadline passed' },
  HEALTH_HOOK_TIMEOUT: { status: 500, title: 'Shutdown hook timed out' },
  HEALTH_HOOK_FAILED: { status: 500, title: 'Shutdown hook failed' },
});
