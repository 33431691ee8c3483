/** Re-exported from @prod/core, where the last-resort renderer now lives. */
export { toHttpResponse } from '@prod/core';
export type { Backoff, ExponentialBackoffOptions, Jitter } from './backoff.js';
export { constantBackoff, exponentialBackoff } from './backoff.js';
export type {
  Bulkhead,
  BulkheadEvents,
  BulkheadOptions,
  BulkheadRejectedEvent,
} from './bulkhead.js';
export { bulkhead } from './bulkhead.js';
export type {
  CircuitBreaker,
  CircuitBreakerEvents,
  CircuitBreakerOptions,
  CircuitBreakerStats,
  CircuitState,
  FailureEvent,
  FailureRateOptions,
  RejectedEvent,
  StateChangeEvent,
  StateChangeReason,
} from './circuit-breaker.js';
export { circuitBreaker } from './circuit-breaker.js';
export type {
  AggregatorStats,
  CaptureContext,
  ErrorAggregatorOptions,
  ErrorGroup,
  FlushSummary,
} from './error-aggregator.js';
export { ErrorAggregator } from './error-aggregator.js';
export type { ErrorPartOptions } from './error-part.js';
export { errorPart } from './error-part.js';
export { PolicyErrors } from './errors.js';
export type { FallbackHandler, FallbackOptions } from './fallback.js';
export { fallback } from './fallback.js';
export type { FingerprintOptions } from './fingerprint.js';
export { fingerprint } from './fingerprint.js';
export { policy } from './policy.js';
export type {
  GiveUpEvent,
  GiveUpReason,
  RetryEvent,
  RetryEvents,
  RetryOptions,
  RetryPolicy,
} from './retry.js';
export { isRetryable, retry } from './retry.js';
export type { RetryBudget, RetryBudgetOptions, RetryBudgetStats } from './retry-budget.js';
export { retryBudget } from './retry-budget.js';
export type {
  ErrorReport,
  ErrorSample,
  ErrorSink,
  LogSinkOptions,
  SinkOutcome,
  WebhookSinkOptions,
  WindowCount,
} from './sinks.js';
export { callbackSink, logSink, webhookSink } from './sinks.js';
export type { TimeoutEvent, TimeoutEvents, TimeoutOptions, TimeoutPolicy } from './timeout.js';
export { timeout } from './timeout.js';
export type {
  DebugLogger,
  ExecuteOptions,
  FallbackOf,
  Policy,
  Unsubscribe,
  Work,
  WorkContext,
} from './types.js';
