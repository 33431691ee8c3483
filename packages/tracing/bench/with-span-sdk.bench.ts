/**
 * withSpan with the OpenTelemetry SDK recording every span (AlwaysOn, a span processor that
 * drops spans, so exporting is not measured), against `tracer.startActiveSpan` + `end()`,
 * which does less: no Result inspection and no @prod/core context for the logger.
 * Order matters here: a contender pays the garbage left by the one before it, so @prod/tracing
 * runs last.
 */
import { context, type Span, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, NoopSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ok, type RequestContext, runWithContext } from '@prod/core';
import { withSpan } from '@prod/tracing';
import { bench, describe } from 'vitest';

trace.setGlobalTracerProvider(
  new BasicTracerProvider({ spanProcessors: [new NoopSpanProcessor()] }),
);
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

// Each iteration makes BATCH calls so the timer's own cost is spread thin: ns per call =
// mean time / BATCH.
const BATCH = 100;
let sink = 0;
let input = 0;
const work = (): { ok: true; value: number } => {
  input = (input + 1) & 0xffff;
  return ok(input);
};
const consume = (result: { ok: true; value: number }): void => {
  sink = (sink + result.value) | 0;
};

const tracer = trace.getTracer('bench');
const viaOtel = (span: Span): { ok: true; value: number } => {
  const result = work();
  span.end();
  return result;
};
const ctx: RequestContext = { requestId: 'bench', extensions: new Map() };

describe('withSpan, SDK recording every span, inside a request context', () => {
  bench('bare call', () => {
    runWithContext(ctx, () => {
      for (let i = 0; i < BATCH; i++) consume(work());
    });
  });
  bench('@opentelemetry/api tracer.startActiveSpan', () => {
    runWithContext(ctx, () => {
      for (let i = 0; i < BATCH; i++) consume(tracer.startActiveSpan('bench.op', viaOtel));
    });
  });
  bench('@prod/tracing withSpan', () => {
    runWithContext(ctx, () => {
      for (let i = 0; i < BATCH; i++) consume(withSpan('bench.op', work));
    });
  });
});

export { sink };
