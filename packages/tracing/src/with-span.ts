import {
  context,
  INVALID_TRACEID,
  type Span,
  type SpanOptions,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { currentContext, isResult, type ProdError, runWithContext } from '@prod/core';
import {
  defaultTracer,
  NOOP_SPAN,
  parentContext,
  SCOPED_SPAN_KEY,
  type ScopedContext,
  type SpanEntry,
  tracerProviderRegistered,
} from './internal/span-registry.js';
import { recordError } from './record-error.js';

/** Options of {@link withSpan}: the OpenTelemetry span options plus how to classify errors. */
export interface WithSpanOptions extends SpanOptions {
  /** The tracer to start the span with. Default: `@prod/tracing` from the global provider. */
  readonly tracer?: Tracer;
  /**
   * Whether a returned `Err` ProdError is a failure of this operation (status ERROR).
   * Default: 5xx, or 4xx on a CLIENT span. See {@link recordError}.
   */
  readonly isError?: (error: ProdError) => boolean;
}

const THROWN = { thrown: true } as const;

/**
 * Runs `fn` inside a new span and returns what it returns, untouched.
 *
 * **When to use**: around a unit of work worth seeing in a trace (a query, a call to another
 * service, a job step). For a function you call in many places, {@link traced} wraps it once.
 *
 * **Details**
 * - The parent is the active OpenTelemetry span, or, when an adapter runs the request only
 *   in the @prod/core context, the innermost span this package knows for that request (the
 *   server span of {@link tracingPart}, or an enclosing `withSpan`). `root: true` starts a
 *   new trace.
 * - A returned `Err` is recorded with {@link recordError} (ProdError code as `error.type`;
 *   status ERROR for 5xx, left UNSET for an expected 4xx) and returned as is. A throw or a
 *   rejection is recorded as ERROR and rethrown. The span ends when `fn` returns, or when its
 *   promise settles.
 * - While a recording span runs, `fn` sees it both as the active OpenTelemetry span and as
 *   `traceId` / `spanId` of the @prod/core request context (a copy with the same logger and
 *   `extensions`), so log lines written inside carry its ids. Outside any request, a context
 *   is created for the span (its `requestId` is the trace id) so that logs still correlate.
 * - With no OpenTelemetry SDK registered the span is a no-op and `fn` is called directly.
 *
 * **Gotchas**: only native promises are awaited; another thenable ends the span at return.
 * On purpose, and unlike `isThenable` of @prod/core: calling `then` on a lazy thenable (a
 * query builder) would start it before the caller has finished building it.
 *
 * @returns what `fn` returns: the same object; for a promise, with a recording span, a promise
 *   that settles with the same value or reason once the span has ended.
 * @example
 * interface Note { readonly id: string }
 * declare const repo: { load(id: string): Promise<Result<Note, ProdError>> };
 * const id = '42';
 * const note = await withSpan('notes.load', (span) => {
 *   span.setAttribute('note.id', id);
 *   return repo.load(id); // Promise<Result<Note, ProdError>>
 * });
 */
export function withSpan<TReturn>(
  name: string,
  fn: (span: Span) => TReturn,
  options?: WithSpanOptions,
): TReturn {
  const custom = options?.tracer;
  // No SDK: the span would be a no-op copying its parent's ids, which the request context
  // already carries for outgoing headers. Skip it all; this is the path most users pay.
  if (custom === undefined && !tracerProviderRegistered()) return fn(NOOP_SPAN);
  const tracer = custom ?? defaultTracer();
  const active = context.active();
  const parent = options?.root === true ? active : parentContext(active);
  const span = tracer.startSpan(name, options, parent);

  if (!span.isRecording()) {
    // A no-op span (a custom no-op tracer): call straight through. A sampled-out span still
    // has a real trace id, which children and outgoing headers must carry.
    if (span.spanContext().traceId === INVALID_TRACEID) return fn(span);
    return context.with(trace.setSpan(parent, span), fn, undefined, span);
  }

  const ids = span.spanContext();
  const current = currentContext();
  const entry: SpanEntry = { span, outer: trace.getSpan(active) };
  let scoped: ScopedContext;
  if (current === undefined) {
    scoped = { requestId: ids.traceId, extensions: new Map() };
  } else {
    // Object.assign, not `{ ...current, traceId }`: V8 makes a fresh hidden class for every
    // spread-then-extend literal, which measured 20 times slower here.
    scoped = Object.assign({}, current);
  }
  scoped.traceId = ids.traceId;
  scoped.spanId = ids.spanId;
  scoped[SCOPED_SPAN_KEY] = entry;
  const otelContext = trace.setSpan(parent, span);

  let result: TReturn;
  try {
    result = runWithContext(scoped, () => context.with(otelContext, fn, undefined, span));
  } catch (thrown) {
    recordError(span, thrown, THROWN);
    span.end();
    throw thrown;
  }
  if (result instanceof Promise) {
    return result.then(
      (value: unknown) => {
        finish(span, value, options);
        return value;
      },
      (thrown: unknown) => {
        recordError(span, thrown, THROWN);
        span.end();
        throw thrown;
      },
    ) as TReturn;
  }
  finish(span, result, options);
  return result;
}

function finish(span: Span, value: unknown, options: WithSpanOptions | undefined): void {
  // WithSpanOptions carries `kind` and `isError`, exactly what recordError reads.
  if (isResult(value) && !value.ok) recordError(span, value.error, options);
  span.end();
}
