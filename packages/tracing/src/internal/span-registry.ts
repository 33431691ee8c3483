import {
  type Context,
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

// Context copies made by withSpan (and request contexts without `extensions`) -> their span.
// On globalThis for the same dual-build reason as the key above.
const ENTRIES_KEY = Symbol.for('@prod/tracing/span-entries');
const holder = globalThis as { [ENTRIES_KEY]?: WeakMap<RequestContext, SpanEntry> };
holder[ENTRIES_KEY] ??= new WeakMap<RequestContext, SpanEntry>();
const entries: WeakMap<RequestContext, SpanEntry> = holder[ENTRIES_KEY];

/** Binds a span to a request context (a withSpan copy, or a request without extensions). */
export function bindEntry(ctx: RequestContext, entry: SpanEntry): void {
  entries.set(ctx, entry);
}

/** Records the server span of a request on its context. */
export function bindServerEntry(ctx: RequestContext, entry: SpanEntry): void {
  if (ctx.extensions !== undefined) ctx.extensions.set(SERVER_SPAN_KEY, entry);
  else entries.set(ctx, entry);
}

/** The innermost span this package bound to `ctx`, if any. */
export function entryOf(ctx: RequestContext): SpanEntry | undefined {
  return entries.get(ctx) ?? (ctx.extensions?.get(SERVER_SPAN_KEY) as SpanEntry | undefined);
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
