import { type Context, context, type Span, trace } from '@opentelemetry/api';
import { parentContext } from './internal/span-registry.js';

/**
 * The OpenTelemetry context new work should run in: the active one, with the request's span
 * from the @prod/core context when the adapter did not enter the OpenTelemetry context.
 *
 * Pass it to OpenTelemetry APIs that take a context (`tracer.startSpan(name, {}, ctx)`,
 * `context.with(ctx, fn)`) so that their spans join the request's trace.
 */
export function currentOtelContext(): Context {
  return parentContext(context.active());
}

/**
 * The span current work belongs to (see {@link currentOtelContext}), or undefined.
 *
 * With no SDK this is a non-recording span or undefined; `currentSpan()?.spanContext()` gives
 * the trace and span ids.
 *
 * @example
 * declare const tenantId: string;
 * currentSpan()?.setAttribute('tenant.id', tenantId);
 */
export function currentSpan(): Span | undefined {
  return trace.getSpan(currentOtelContext());
}
