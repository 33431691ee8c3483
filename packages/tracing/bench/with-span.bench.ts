/**
 * withSpan with no OpenTelemetry SDK registered (the no-op path every library user pays),
 * against the bare call and against the OpenTelemetry API's own `tracer.startActiveSpan`.
 * Goal: under 100 ns over the bare call.
 */
import { type Span, trace } from '@opentelemetry/api';
import { ok, type RequestContext, runWithContext } from '@prod/core';
import { traced, tracingPart, withSpan } from '@prod/tracing';
import { bench, describe } from 'vitest';

// Results land here so the engine cannot drop the work as dead code.
// Each iteration makes BATCH calls so the timer's own cost is spread thin: ns per call =
// mean time / BATCH.
const BATCH = 1000;
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
const tracedWork = traced('bench.traced', work);
const viaOtel = (span: Span): { ok: true; value: number } => {
  const result = work();
  span.end();
  return result;
};

describe('withSpan, no SDK, outside a request', () => {
  bench('bare call', () => {
    for (let i = 0; i < BATCH; i++) consume(work());
  });
  bench('@prod/tracing withSpan', () => {
    for (let i = 0; i < BATCH; i++) consume(withSpan('bench.op', work));
  });
  bench('@prod/tracing traced', () => {
    for (let i = 0; i < BATCH; i++) consume(tracedWork());
  });
  bench('@opentelemetry/api tracer.startActiveSpan', () => {
    for (let i = 0; i < BATCH; i++) consume(tracer.startActiveSpan('bench.op', viaOtel));
  });
});

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

describe('withSpan, no SDK, inside a request context', () => {
  bench('bare call', () => {
    runWithContext(ctx, () => {
      for (let i = 0; i < BATCH; i++) consume(work());
    });
  });
  bench('@prod/tracing withSpan', () => {
    runWithContext(ctx, () => {
      for (let i = 0; i < BATCH; i++) consume(withSpan('bench.op', work));
    });
  });
  bench('@opentelemetry/api tracer.startActiveSpan', () => {
    runWithContext(ctx, () => {
      for (let i = 0; i < BATCH; i++) consume(tracer.startActiveSpan('bench.op', viaOtel));
    });
  });
});

export { sink };
