import { optionChecks } from '@prod/core';
import { TracingErrors } from '../errors.js';

/** The option checks of this package: every failure is `TRACING_INVALID_OPTIONS`. */
export const check = optionChecks(TracingErrors.TRACING_INVALID_OPTIONS);

/** Validates a `tracer` option: an OpenTelemetry `Tracer` (anything with `startSpan`). */
export function tracerOption<TTracer>(value: unknown): TTracer | undefined {
  if (value === undefined) return undefined;
  if (typeof (value as { startSpan?: unknown } | null)?.startSpan !== 'function') {
    check.fail('tracer', 'an OpenTelemetry Tracer (with startSpan())', value);
  }
  return value as TTracer;
}
