// Spans on the OpenTelemetry API: a producer span per enqueue (a child of the current work's
// span, as @prod/tracing finds it) whose context travels in the job's data, and a consumer span
// per attempt that continues that trace in the worker. With no SDK registered, both are no-ops
// and nothing is stored in the job.
import {
  type Context,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  ProxyTracerProvider,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { currentOtelContext } from '@prod/tracing';

// One tracer for the process: a ProxyTracer that finds the SDK's when one is registered later.
const queueTracer = trace.getTracer('@prod/queue');
const tracer = () => queueTracer;

/**
 * The span of work nobody traces: what the API's no-op tracer would make, made once. Ending
 * it, or setting its attributes, does nothing.
 */
const UNTRACED: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * Whether an SDK's tracer provider is registered. Until one is, the API's global provider is
 * its proxy with no delegate, and every span would be a no-op: the attributes, the span and
 * its context need not be built per job. Checked per call: an SDK may register later.
 */
function sdkRegistered(): boolean {
  const provider = trace.getTracerProvider();
  return (
    !(provider instanceof ProxyTracerProvider) ||
    provider.getDelegateTracer('@prod/queue') !== undefined
  );
}

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
  if (!sdkRegistered()) {
    const around = trace.getSpanContext(active);
    if (around === undefined || !isSpanContextValid(around)) {
      return { span: UNTRACED, carrier: undefined };
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

/** Starts the consumer span of one attempt, as a child of the enqueuing span when known. */
export function startProcess(
  name: string,
  kind: string,
  id: string,
  attempt: number,
  carrier: Readonly<Record<string, string>> | undefined,
): { readonly span: Span; readonly context: Context } {
  // No SDK and no trace to continue: the no-op span, and no context to enter.
  if (carrier === undefined && !sdkRegistered()) return { span: UNTRACED, context: ROOT_CONTEXT };
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
