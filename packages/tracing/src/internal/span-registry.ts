import {
  type Context,
  INVALID_SPAN_CONTEXT,
  type Span,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { currentContext, type RequestContext } from '@prod/core';

/** The instrumentation scope of every span this package starts. */
export const TRACER_NAME = '@prod/tracing';

/** A span this package started, with the OpenTelemetry span that was active at that moment. */
export interface SpanEntry {
  readonly span: Span;
  /**
   * The span active in the OpenTelemetry context when `span` started. Finding it still active
   * later means the OpenTelemetry context was never entered (an adapter that only runs the
   * @prod/core context, or no context manager): `span` is then the better parent.
   */
  readonly outer: Span | undefined;
}

/**
 * Key of the server span in `RequestContext.extensions`. `Symbol.for` so that the ESM and the
 * CJS build of this package, when both are loaded, still agree.
 */
export const SERVER_SPAN_KEY: unique symbol = Symbol.for('@prod/tracing/server-span') as never;

/** Key of the span on the context copy that withSpan runs its function in. */
export const SCOPED_SPAN_KEY: unique symbol = Symbol.for('@prod/tracing/scoped-span') as never;

/**
 * A request context copy carrying its span under a symbol: cheaper than a WeakMap entry per
 * span (ephemeron tables are costly to collect), invisible to JSON and logs, and kept by a
 * spread copy, which then belongs to the same span anyway.
 */
export type ScopedContext = RequestContext & { [SCOPED_SPAN_KEY]?: SpanEntry };

// Server spans of request contexts that have no `extensions` map. On globalThis for the same
// dual-build reason as the keys above.
const FALLBACK_KEY = Symbol.for('@prod/tracing/server-spans');
const holder = globalThis as { [FALLBACK_KEY]?: WeakMap<RequestContext, SpanEntry> };
holder[FALLBACK_KEY] ??= new WeakMap<RequestContext, SpanEntry>();
const fallback: WeakMap<RequestContext, SpanEntry> = holder[FALLBACK_KEY];

/** Records the server span of a request on its context. */
export function bindServerEntry(ctx: RequestContext, entry: SpanEntry): void {
  if (ctx.extensions !== undefined) ctx.extensions.set(SERVER_SPAN_KEY, entry);
  else fallback.set(ctx, entry);
}

/** The innermost span this package bound to `ctx`, if any. */
export function entryOf(ctx: RequestContext): SpanEntry | undefined {
  return (
    (ctx as ScopedContext)[SCOPED_SPAN_KEY] ??
    (ctx.extensions === undefined
      ? fallback.get(ctx)
      : (ctx.extensions.get(SERVER_SPAN_KEY) as SpanEntry | undefined))
  );
}

/**
 * The context new spans should start from: `active`, unless the @prod/core request context
 * knows a span that is newer than what `active` holds (see {@link SpanEntry.outer}).
 */
export function parentContext(active: Context): Context {
  const ctx = currentContext();
  if (ctx === undefined) return active;
  const entry = entryOf(ctx);
  if (entry === undefined) return active;
  const activeSpan = trace.getSpan(active);
  if (activeSpan === undefined || activeSpan === entry.outer)
    return trace.setSpan(active, entry.span);
  return active;
}

// Where every copy of the OpenTelemetry API 1.x keeps its registrations; the key is how copies
// find each other, so it is fixed for the major version.
const OTEL_API_KEY = Symbol.for('opentelemetry.js.api.1');
const otelGlobal = globalThis as { [OTEL_API_KEY]?: { trace?: unknown } };

/**
 * Whether a tracer provider (an SDK) is registered globally. Without one, the global tracer
 * only makes non-recording spans that copy their parent's ids: callers may skip the span.
 */
export function tracerProviderRegistered(): boolean {
  return otelGlobal[OTEL_API_KEY]?.trace !== undefined;
}

/**
 * Whether a propagator is registered globally. Without one, extracting a parent from request
 * headers always gives back the active context: callers may skip reading the headers.
 */
export function propagatorRegistered(): boolean {
  return (
    (otelGlobal[OTEL_API_KEY] as { propagation?: unknown } | undefined)?.propagation !== undefined
  );
}

/** The span handed to functions when no SDK is registered. */
export const NOOP_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

let cachedProvider: TracerProvider | undefined;
let cachedTracer: Tracer | undefined;

/**
 * This package's tracer from the global provider. Cached per provider object: the global
 * proxy provider forwards to an SDK registered later, and `trace.disable()` swaps the proxy.
 */
export function defaultTracer(): Tracer {
  const provider = trace.getTracerProvider();
  if (provider !== cachedProvider || cachedTracer === undefined) {
    cachedProvider = provider;
    cachedTracer = provider.getTracer(TRACER_NAME);
  }
  return cachedTracer;
}
