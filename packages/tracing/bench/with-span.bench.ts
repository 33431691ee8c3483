/**
 * withSpan with no OpenTelemetry SDK registered (the no-op path every library user pays),
 * against the bare call and against the OpenTelemetry API's own `tracer.startActiveSpan`.
 * Goal: under 100 ns over the bare call. Run: `pnpm bench:micro tracing/bench/with-span.`.
 */
import { type Span, trace } from '@opentelemetry/api';
import { ok, type RequestContext, runWithContext } from '@prod/core';
import { traced, tracingPart, withSpan } from '@prod/tracing';
import { keep, runMicro } from '../../../config/bench-micro.js';

let input = 0;
const work = (): { ok: true; value: number } => {
  input = (input + 1) & 0xffff;
  return ok(input);
};

const tracer = trace.getTracer('bench');
const tracedWork = traced('bench.traced', work);
const viaOtel = (span: Span): { ok: true; value: number } => {
  const result = work();
  span.end();
  return result;
};

// Inside a request that the tracing part has seen, as in a real service without an SDK.
const ctx: RequestContext = { requestId: 'bench', extensions: new Map() };
const part = tracingPart();
runWithContext(ctx, () =>
  part.onRequest?.({
    method: 'GET',
    path: '/bench',
    route: '/bench',
    headers: {},
    ip: undefined,
    query: {},
    params: {},
    body: undefined,
    signal: undefined,
    meta: {},
  }),
);

const BARE = 'bare call';
const WITH_SPAN = '@prod/tracing withSpan';
const OTEL = '@opentelemetry/api tracer.startActiveSpan';

await runMicro({
  file: import.meta.url,
  title: '@prod/tracing: withSpan without an SDK vs the OpenTelemetry API',
  groups: [
    {
      name: 'no SDK, outside a request',
      contenders: {
        [BARE]: () => keep(work()),
        [WITH_SPAN]: () => keep(withSpan('bench.op', work)),
        '@prod/tracing traced': () => keep(tracedWork()),
        [OTEL]: () => keep(tracer.startActiveSpan('bench.op', viaOtel)),
      },
      ratios: [
        { ours: WITH_SPAN, peer: OTEL },
        { ours: WITH_SPAN, peer: OTEL, minus: BARE },
      ],
    },
    {
      name: 'no SDK, inside a request context',
      around: (run) => runWithContext(ctx, run),
      contenders: {
        [BARE]: () => keep(work()),
        [WITH_SPAN]: () => keep(withSpan('bench.op', work)),
        [OTEL]: () => keep(tracer.startActiveSpan('bench.op', viaOtel)),
      },
      ratios: [
        { ours: WITH_SPAN, peer: OTEL },
        { ours: WITH_SPAN, peer: OTEL, minus: BARE },
      ],
    },
  ],
});
