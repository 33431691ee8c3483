import { context, trace } from '@opentelemetry/api';
import { extractContext, injectTraceHeaders, withSpan } from '@prod/tracing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installSdk, type TestSdk } from './sdk.js';

let sdk: TestSdk;
beforeAll(() => {
  sdk = installSdk();
});
afterAll(async () => {
  await sdk.uninstall();
});

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';

describe('injectTraceHeaders', () => {
  it('writes traceparent for the current span into a plain object and returns it', () => {
    withSpan('outgoing', (span) => {
      const headers = { accept: 'application/json' };
      const returned = injectTraceHeaders(headers);
      expect(returned).toBe(headers);
      const { traceId, spanId } = span.spanContext();
      expect(returned).toEqual({
        accept: 'application/json',
        traceparent: `00-${traceId}-${spanId}-01`,
      });
    });
  });

  it('writes into a fetch Headers object', () => {
    withSpan('outgoing', (span) => {
      const headers = injectTraceHeaders(new Headers({ accept: 'text/plain' }));
      expect(headers.get('traceparent')).toBe(
        `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`,
      );
      expect(headers.get('accept')).toBe('text/plain');
    });
  });

  it('carries tracestate and writes nothing outside any span', () => {
    const parent = extractContext({
      traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`,
      tracestate: 'rojo=00f067aa0ba902b7',
    });
    context.with(parent, () => {
      withSpan('child', () => {
        expect(injectTraceHeaders().tracestate).toBe('rojo=00f067aa0ba902b7');
      });
    });
    expect(injectTraceHeaders()).toEqual({});
  });

  it('takes an explicit context', () => {
    const parent = extractContext({ traceparent: `00-${TRACE_ID}-${PARENT_ID}-00` });
    expect(injectTraceHeaders({}, parent)).toEqual({
      traceparent: `00-${TRACE_ID}-${PARENT_ID}-00`,
    });
  });
});

describe('extractContext', () => {
  it('round-trips through inject', () => {
    let headers: Record<string, string> = {};
    let ids = { traceId: '', spanId: '' };
    withSpan('sender', (span) => {
      ids = span.spanContext();
      headers = injectTraceHeaders({});
    });
    const remote = trace.getSpanContext(extractContext(headers));
    expect(remote?.traceId).toBe(ids.traceId);
    expect(remote?.spanId).toBe(ids.spanId);
    expect(remote?.isRemote).toBe(true);
  });

  it('reads Node-style headers, fetch Headers and repeated tracestate values', () => {
    const fromHeaders = trace.getSpanContext(
      extractContext(new Headers({ traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` })),
    );
    expect(fromHeaders?.traceId).toBe(TRACE_ID);
    const fromArray = trace.getSpanContext(
      extractContext({ traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`, tracestate: ['a=1', 'b=2'] }),
    );
    expect(fromArray?.traceState?.get('a')).toBe('1');
    expect(fromArray?.traceState?.get('b')).toBe('2');
  });

  it.each([
    ['a number', 42],
    ['an oversized tracestate list', Array.from({ length: 1000 }, (_, i) => `k${i}=v`)],
    ['an oversized tracestate', `k=${'v'.repeat(20_000)}`],
  ])('ignores %s as tracestate but keeps the parent', (_label, tracestate) => {
    const extracted = trace.getSpanContext(
      extractContext({
        traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`,
        tracestate: tracestate as string,
      }),
    );
    expect(extracted?.traceId).toBe(TRACE_ID);
    expect(extracted?.traceState?.serialize() ?? '').toBe('');
  });

  it('adds to the base context it is given', () => {
    const base = context.active();
    expect(extractContext({}, base)).toBe(base);
    expect(trace.getSpanContext(extractContext({ traceparent: 'junk' }))).toBeUndefined();
  });
});
