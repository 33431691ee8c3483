import { propagation } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { type HttpRequest, type RequestContext, runWithContext } from '@prod/core';
import { injectTraceHeaders, tracingPart, withSpan } from '@prod/tracing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A W3C propagator but no tracer provider: nothing is recorded, yet the caller's trace id
// still reaches the logs and the next service (pass-through propagation).
beforeAll(() => {
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});
afterAll(() => {
  propagation.disable();
});

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('with a propagator and no SDK', () => {
  it('writes the caller ids into the request context and forwards them', async () => {
    const part = tracingPart();
    const request: HttpRequest = {
      method: 'GET',
      path: '/x',
      route: '/x',
      headers: { traceparent: TRACEPARENT },
      ip: undefined,
      query: {},
      params: {},
      body: undefined,
      signal: undefined,
      meta: {},
    };
    const ctx: RequestContext = { requestId: 'r', extensions: new Map() };
    let forwarded: string | undefined;
    await runWithContext(ctx, async () => {
      await part.onRequest?.(request);
      forwarded = withSpan('inner', (span) => {
        expect(span.isRecording()).toBe(false);
        return injectTraceHeaders().traceparent;
      });
      part.onResponse?.(request, { status: 200, durationMs: 1 });
    });
    expect(ctx.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(ctx.spanId).toBe('b7ad6b7169203331');
    expect(forwarded).toBe(TRACEPARENT);
  });
});
