import { defineErrors } from '@prod/core';

/**
 * The codes the resilience policies and reporting sinks of @prod/errors return.
 *
 * A timeout reuses `CoreErrors.TIMEOUT` (504) and an abort `CoreErrors.ABORTED` (499) from
 * @prod/core; a retry that gives up returns the last error unchanged, so there is no
 * "retries exhausted" code.
 *
 * `ERRORS_INVALID_OPTIONS` is thrown, never returned: a policy, aggregator, sink or part built
 * with a bad option fails at construction (a configuration bug, found at startup). Its message
 * names the option, what was expected and what was found, and `details` holds
 * `{ option, expected, received }`.
 *
 * @example
 * declare const result: Result<string, ProdError>;
 * if (!result.ok && PolicyErrors.CIRCUIT_OPEN.is(result.error)) {
 *   console.log(`try again in ${result.error.retryAfterMs} ms`);
 * }
 */
export const PolicyErrors = defineErrors({
  /** The circuit breaker is open (or half-open with every trial slot taken). */
  CIRCUIT_OPEN: { status: 503, title: 'Circuit open', retryable: true },
  /** The bulkhead has no free slot and its queue is full. */
  BULKHEAD_FULL: { status: 503, title: 'Bulkhead full', retryable: true },
  /** A reporting sink failed to deliver (webhook answered non-2xx or could not be reached). */
  SINK_FAILED: { status: 502, title: 'Error sink failed', retryable: true },
  /** An option of a policy, the aggregator, a sink or `errorPart` has a wrong type or value. */
  ERRORS_INVALID_OPTIONS: { status: 500, title: 'Invalid @prod/errors options' },
});
