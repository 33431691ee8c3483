/**
 * withSpan with the OpenTelemetry SDK recording every span (AlwaysOn, a span processor that
 * drops spans, so exporting is not measured), against `tracer.startActiveSpan` + `end()`,
 * which does less: no Result inspection and no @prod/core context for the logger.
 * Run: `pnpm bench:micro tracing/bench/with-span-sdk`.
 */
import { context, type Span, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, NoopSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ok, type RequestContext, runWithContext } from '@prod/core';
import { withSpan } from '@prod/tracing';
import { keep, runMicro } from '../../../config/bench-micro.js';

trace.setGlobalTracerProvider(
  new BasicTracerProvider({ spanProcessors: [new NoopSpanProcessor()] }),
);
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

let input = 0;
const work = (): { ok: true; value: number } => {
  input = (input + 1) & 0xffff;
  return ok(input);
};

const tracer = trace.getTracer('bench');
const viaOtel = (span: Span): { ok: true; value: number } => {
  const result = work();
  span.end();
  return result;
};
const ctx: RequestContext = { requestId: 'bench', extensions: new Map() };

const BARE = 'bare call';
const WITH_SPAN = '@prod/tracing withSpan';
const OTEL = '@opentelemetry/api tracer.startActiveSpan';

await runMicro({
  file: import.meta.url,
  title: '@prod/tracing: withSpan with the SDK recording every span',
  groups: [
    {
      name: 'SDK recording every span, inside a request context',
      around: (run) => runWithContext(ctx, run),
      contenders: {
        [BARE]: () => keep(work()),
        [OTEL]: () => keep(tracer.startActiveSpan('bench.op', viaOtel)),
        [WITH_SPAN]: () => keep(withSpan('bench.op', work)),
      },
      ratios: [
        { ours: WITH_SPAN, peer: OTEL },
        { ours: WITH_SPAN, peer: OTEL, minus: BARE },
      ],
    },
  ],
});
