// Spans on the OpenTelemetry API: a producer span per enqueue (a child of the current work's
// span, as @prod/tracing finds it) whose context travels in the job's data, and a consumer span
// per attempt that continues that trace in the worker. With no SDK registered, both are no-ops
// and nothing is stored in the job.
import {
  type Context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { currentOtelContext, NOOP_SPAN, tracerProviderRegistered } from '@prod/tracing';

// One tracer for the process: a ProxyTracer that finds the SDK's when one is registered later.
const queueTracer = trace.getTracer('@prod/queue');
const tracer = () => queueTracer;

/** The messaging system name of a driver, as OpenTelemetry's semantic conventions spell it. */
const system = (kind: string): string => (kind === 'bullmq' ? 'bullmq' : 'prod_queue_memory');

/** Starts the producer span of one enqueue (or bulk enqueue) and the carrier to store. */
export function startSend(
  name: string,
  kind: string,
  count: number,
): { readonly span: Span; readonly carrier: Record<string, string> | undefined } {
  // The request's span even when the adapter runs the request in the @prod/core context only
  // (tracingPart binds its span there, not in the OpenTelemetry context).
  const active = currentOtelContext();
  // No SDK and no trace around: nothing to record or propagate.
  if (!tracerProviderRegistered()) {
    const around = trace.getSpanContext(active);
    if (around === undefined || !isSpanContextValid(around)) {
      return { span: NOOP_SPAN, carrier: undefined };
    }
  }
  const span = tracer().startSpan(
    `send ${name}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': system(kind),
        'messaging.operation.type': 'send',
        'messaging.destination.name': name,
        ...(count > 1 ? { 'messaging.batch.message_count': count } : {}),
      },
    },
    active,
  );
  // No SDK and no trace around: nothing to propagate, so skip the context and the carrier.
  if (!span.isRecording() && !isSpanContextValid(span.spanContext()))
    return { span, carrier: undefined };
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(active, span), carrier);
  return { span, carrier: carrier.traceparent === undefined ? undefined : carrier };
}

/** Ends a span, as failed with `code` when one is given. */
export function endSpan(span: Span, code?: string, message?: string): void {
  if (code !== undefined) {
    span.setAttribute('error.type', code);
    span.setStatus({ code: SpanStatusCode.ERROR, ...(message === undefined ? {} : { message }) });
  }
  span.end();
}

/** What {@link startProcess} answers when there is nothing to trace: one object for every job. */
export const UNTRACED: { readonly span: Span; readonly context: Context } = Object.freeze({
  span: NOOP_SPAN,
  context: ROOT_CONTEXT,
});

/** Starts the consumer span of one attempt, as a child of the enqueuing span when known. */
export function startProcess(
  name: string,
  kind: string,
  id: string,
  attempt: number,
  carrier: Readonly<Record<string, string>> | undefined,
): { readonly span: Span; readonly context: Context } {
  // No SDK and no trace to continue: the no-op span, and no context to enter.
  if (carrier === undefined && !tracerProviderRegistered()) return UNTRACED;
  const parent = carrier === undefined ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, carrier);
  const span = tracer().startSpan(
    `process ${name}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': system(kind),
        'messaging.operation.type': 'process',
        'messaging.destination.name': name,
        'messaging.message.id': id,
        'messaging.delivery_count': attempt,
      },
    },
    parent,
  );
  return { span, context: trace.setSpan(parent, span) };
}
