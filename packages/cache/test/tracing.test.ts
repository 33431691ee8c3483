import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { createCache } from '@prod/cache';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

const exporter = new InMemorySpanExporter();
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  contextManager.enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
});
afterAll(() => {
  trace.disable();
  context.disable();
});
beforeEach(() => exporter.reset());

describe('OpenTelemetry spans on loader calls', () => {
  it('wraps each loader call in a cache.load span, parent of what the loader does', async () => {
    const cache = createCache({ name: 'notes' });
    const tracer = trace.getTracer('test');
    await cache.getOrSet('42', async () => {
      tracer.startSpan('db.query').end();
      return { id: 42 };
    });
    await cache.getOrSet('42', () => ({ id: 0 })); // a hit: no loader, no span
    const spans = exporter.getFinishedSpans();
    const load = spans.find((span) => span.name === 'cache.load');
    const query = spans.find((span) => span.name === 'db.query');
    expect(spans.filter((span) => span.name === 'cache.load')).toHaveLength(1);
    expect(load?.attributes['cache.name']).toBe('notes');
    expect(load?.attributes['cache.key']).toBeUndefined();
    expect(query?.parentSpanContext?.spanId).toBe(load?.spanContext().spanId);
    expect(load?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('marks a failed load as an error with its code, and adds the key only with traceKeys', async () => {
    const cache = createCache({ name: 'users', traceKeys: true });
    await cache.getOrSet('u1', () => {
      throw new Error('db down');
    });
    const [span] = exporter.getFinishedSpans();
    expect(span?.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'db down' });
    expect(span?.attributes['cache.key']).toBe('u1');
    expect(span?.events.some((event) => event.name === 'exception')).toBe(true);
  });

  it('makes no span with tracing: false', async () => {
    const cache = createCache({ tracing: false });
    await cache.getOrSet('k', () => 1);
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });
});
