import { defineErrors } from '@prod/core';

/**
 * The error code of @prod/tracing.
 *
 * `TRACING_INVALID_OPTIONS` is thrown, never returned: `tracingPart` or `traced` given a bad
 * option fails at construction (a configuration bug, found at startup). Its message names the
 * option, what was expected and what was found; `details` holds `{ option, expected, received }`.
 * Tracing itself never fails a request.
 *
 * @example
 * try {
 *   tracingPart({ ignore: '/healthz' as never });
 * } catch (error) {
 *   if (TracingErrors.TRACING_INVALID_OPTIONS.is(error)) console.error(error.message);
 * }
 */
export const TracingErrors = defineErrors({
  TRACING_INVALID_OPTIONS: { status: 500, title: 'Invalid tracing options' },
});
