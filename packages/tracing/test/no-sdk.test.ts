import { trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import {
  currentContext,
  err,
  type HttpRequest,
  ProdError,
  type RequestContext,
  runWithContext,
} from '@prod/core';
import {
  currentOtelContext,
  currentSpan,
  extractContext,
  injectTraceHeaders,
  traced,
  tracingPart,
  withSpan,
} from '@prod/tracing';
import { describe, expect, it } from 'vitest';

// No SDK is registered in this file: everything must be a cheap no-op that changes nothing.

describe('without an OpenTelemetry SDK', () => {
  it('withSpan calls fn with a non-recording span and returns its value as is', async () => {
    const result = err(new ProdError({ code: 'X', status: 503 }));
    expect(
      withSpan('noop', (span) => {
        expect(span.isRecording()).toBe(false);
        return result;
      }),
    ).toBe(result);
    const promise = Promise.resolve(1);
    expect(withSpan('noop.async', () => promise)).toBe(promise);
  });

  it('withSpan does not copy the request context', () => {
    const ctx: RequestContext = { requestId: 'r' };
    runWithContext(ctx, () => {
      withSpan('noop', () => {
        expect(currentContext()).toBe(ctx);
      });
    });
    expect(ctx.traceId).toBeUndefined();
    withSpan('outside', () => {
      expect(currentContext()).toBeUndefined();
    });
  });

  it('withSpan lets throws and rejections through untouched', async () => {
    const bug = new Error('bug');
    expect(() =>
      withSpan('t', () => {
        throw bug;
      }),
    ).toThrow(bug);
    await expect(withSpan('r', () => Promise.reject(bug))).rejects.toBe(bug);
  });

  it('traced keeps this, arguments and return value', () => {
    const counter = {
      base: 10,
      add: traced('counter.add', function (this: { base: number }, a: number, b: number) {
        return this.base + a + b;
      }),
    };
    expect(counter.add(1, 2)).toBe(13);
  });

  it('injectTraceHeaders leaves the headers alone and extractContext returns its base', () => {
    const headers = { accept: 'text/plain' };
    expect(injectTraceHeaders(headers)).toBe(headers);
    expect(headers).toEqual({ accept: 'text/plain' });
    expect(injectTraceHeaders()).toEqual({});
    const base = currentOtelContext();
    expect(
      extractContext(
        { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
        base,
      ),
    ).toBe(base);
  });

  it('the tracing part writes no ids and answers nothing', async () => {
    const part = tracingPart();
    const request: HttpRequest = {
      method: 'GET',
      path: '/x',
      route: '/x',
      headers: {},
      ip: undefined,
      query: {},
      params: {},
      body: undefined,
      signal: undefined,
      meta: {},
    };
    const ctx: RequestContext = { requestId: 'r', extensions: new Map() };
    await runWithContext(ctx, async () => {
      expect(await part.onRequest?.(request)).toBeUndefined();
      expect(currentSpan()?.isRecording()).toBe(false);
      withSpan('inside', (span) => {
        expect(span.spanContext().traceId).toBe('00000000000000000000000000000000');
      });
      part.onResponse?.(request, { status: 500, durationMs: 1 });
    });
    expect(ctx.traceId).toBeUndefined();
    expect(ctx.spanId).toBeUndefined();
  });

  it('still records with a tracer passed explicitly (the no-SDK shortcut is for the global one)', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const tracer = provider.getTracer('explicit');
    withSpan('explicit', (span) => expect(span.isRecording()).toBe(true), { tracer });
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['explicit']);
    await provider.shutdown();
  });

  it('currentSpan is undefined outside any span', () => {
    expect(currentSpan()).toBeUndefined();
    expect(trace.getActiveSpan()).toBeUndefined();
  });
});
