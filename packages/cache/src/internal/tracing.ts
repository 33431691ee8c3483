import { type Attributes, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { isProdError } from '@prod/core';

const tracer = trace.getTracer('@prod/cache');

/**
 * Runs `fn` in an active `cache.load` span (so the loader's own spans, a query, an HTTP call,
 * are its children) and ends the span when the promise settles: status ERROR and the
 * exception recorded on a rejection, `cache.outcome` set by the caller through `span`.
 * With no OpenTelemetry SDK registered the API's no-op tracer makes this nearly free.
 */
export function inLoadSpan<TValue>(
  attributes: Attributes,
  fn: (span: Span) => Promise<TValue>,
): Promise<TValue> {
  return tracer.startActiveSpan('cache.load', { kind: SpanKind.INTERNAL, attributes }, (span) =>
    fn(span).then(
      (value) => {
        span.end();
        return value;
      },
      (error: unknown) => {
        span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
        if (error instanceof Error) span.recordException(error);
        if (isProdError(error)) span.setAttribute('error.type', error.code);
        span.end();
        throw error;
      },
    ),
  );
}

const errorMessage = (error: unknown): string =>
  error instanceof Error ? error.message.slice(0, 200) : String(error).slice(0, 200);
