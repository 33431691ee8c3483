import { currentContext } from '@prod/core';

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const ZERO_TRACE = '00000000000000000000000000000000';

/** Exemplar labels in OpenMetrics / OpenTelemetry naming. */
export interface ExemplarLabels {
  trace_id: string;
  span_id?: string;
}

/**
 * The exemplar labels of the current request context, or undefined when there is no valid
 * trace id. Ids are checked against the W3C shapes: anything else in the context (too long,
 * not hex) is ignored, so it can neither break prom-client's 128-character exemplar limit nor
 * leak arbitrary text into the exposition.
 */
export function contextExemplar(): ExemplarLabels | undefined {
  const context = currentContext();
  if (context === undefined) return undefined;
  const traceId = context.traceId;
  if (typeof traceId !== 'string' || !TRACE_ID.test(traceId) || traceId === ZERO_TRACE) {
    return undefined;
  }
  const spanId = context.spanId;
  return typeof spanId === 'string' && SPAN_ID.test(spanId)
    ? { trace_id: traceId, span_id: spanId }
    : { trace_id: traceId };
}
