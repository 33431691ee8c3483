import { spawnSync } from 'node:child_process';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { currentContext, definePart, err, json, ok, ProdError } from '@prod/core';
import { mountExpress } from '@prod/express';
import { createMetrics } from '@prod/metrics';
import { createQueue, defineJob, memoryDriver } from '@prod/queue';
import { listen } from '@prod/testing';
import { tracingPart } from '@prod/tracing';
import express from 'express';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';

const exporter = new InMemorySpanExporter();
beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
});
afterAll(() => {
  trace.disable();
  propagation.disable();
  context.disable();
});
beforeEach(() => exporter.reset());

const promtool = spawnSync('promtool', ['--version']).error === undefined;
if (!promtool) {
  if (process.env.CI === 'true') throw new Error('promtool is required under CI=true');
  console.warn(
    '@prod/queue: promtool not found, the `promtool check metrics` assertion is skipped',
  );
}

describe('tracing', () => {
  it("continues the enqueuing request's trace in the worker: send span, then a process span per attempt", async () => {
    let seen: { traceId?: string | undefined; requestId?: string | undefined } = {};
    let attempts = 0;
    const job = defineJob({
      name: 'traced',
      schema: z.object({}),
      backoff: 0,
      handler: () => {
        attempts += 1;
        const ctx = currentContext();
        seen = { traceId: ctx?.traceId, requestId: ctx?.requestId };
        return attempts === 1
          ? err(new ProdError({ code: 'FLAKY', status: 503, retryable: true }))
          : ok(undefined);
      },
    });
    const queue = createQueue({ jobs: [job], driver: memoryDriver() });
    queue.work();
    const tracer = trace.getTracer('test');
    const request = tracer.startSpan('POST /v1/notes', { kind: SpanKind.SERVER });
    const enqueued = await context.with(trace.setSpan(context.active(), request), () =>
      queue.enqueue(job, {}),
    );
    request.end();
    if (!enqueued.ok) throw enqueued.error;
    await vi.waitFor(() => expect(attempts).toBe(2));
    await queue.close();
    const spans = exporter.getFinishedSpans();
    const send = spans.find((s) => s.name === 'send traced');
    const process = spans.filter((s) => s.name === 'process traced');
    const traceId = request.spanContext().traceId;
    expect(send?.kind).toBe(SpanKind.PRODUCER);
    expect(send?.spanContext().traceId).toBe(traceId);
    expect(send?.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(send?.attributes['messaging.message.id']).toBe(enqueued.value.id);
    expect(process).toHaveLength(2);
    for (const span of process) {
      expect(span.kind).toBe(SpanKind.CONSUMER);
      expect(span.spanContext().traceId).toBe(traceId);
      expect(span.parentSpanContext?.spanId).toBe(send?.spanContext().spanId);
    }
    expect(process.map((s) => s.attributes['messaging.delivery_count'])).toEqual([1, 2]);
    expect(process[0]?.attributes['error.type']).toBe('FLAKY');
    // The handler runs in a request context of its own: logs carry the job id and trace id.
    expect(seen).toEqual({ traceId, requestId: enqueued.value.id });
  });
});

describe('tracing through tracingPart', () => {
  it('parents the send span on the server span of an adapter that runs only the @prod/core context', async () => {
    let attempted = false;
    const job = defineJob({
      name: 'from-a-route',
      schema: z.object({ n: z.number() }),
      handler: () => {
        attempted = true;
        return ok(undefined);
      },
    });
    const queue = createQueue({ jobs: [job], driver: memoryDriver() });
    queue.work();
    const enqueuing = definePart({
      name: 'enqueuing',
      routes: [
        {
          method: 'POST',
          path: '/jobs',
          handler: async () => {
            const enqueued = await queue.enqueue(job, { n: 1 });
            if (!enqueued.ok) throw enqueued.error;
            return json(202, { id: enqueued.value.id });
          },
        },
      ],
    });
    const app = express();
    mountExpress(app, { parts: [tracingPart(), enqueuing] });
    const server = await listen(app);
    try {
      const answer = await fetch(`${server.url}/jobs`, { method: 'POST' });
      expect(answer.status).toBe(202);
      await answer.arrayBuffer();
      await vi.waitFor(() => expect(attempted).toBe(true));
    } finally {
      await queue.close();
      await server.close();
    }
    const spans = exporter.getFinishedSpans();
    const serverSpan = spans.find((s) => s.kind === SpanKind.SERVER);
    const send = spans.find((s) => s.name === 'send from-a-route');
    const processed = spans.find((s) => s.name === 'process from-a-route');
    expect(serverSpan).toBeDefined();
    expect(send?.spanContext().traceId).toBe(serverSpan?.spanContext().traceId);
    expect(send?.parentSpanContext?.spanId).toBe(serverSpan?.spanContext().spanId);
    expect(processed?.spanContext().traceId).toBe(serverSpan?.spanContext().traceId);
  });
});

describe('metrics on a @prod/metrics registry', () => {
  it('exports job counts by state, enqueues, retries, dead letters and processing durations', async () => {
    const metrics = createMetrics({ prefix: 'notes_' });
    const driver = memoryDriver();
    let calls = 0;
    const job = defineJob({
      name: 'measured',
      schema: z.object({ fail: z.boolean() }),
      retries: 1,
      backoff: 0,
      handler: ({ fail }) => {
        calls += 1;
        return fail
          ? err(new ProdError({ code: 'UPSTREAM_DOWN', status: 503, retryable: true }))
          : ok(undefined);
      },
    });
    const idle = defineJob({ name: 'idle', schema: z.object({}) });
    const queue = createQueue({ jobs: [job, idle], driver, metrics });
    // A second queue on the same registry shares the collectors (and its series are not doubled).
    const producer = createQueue({ jobs: [job], driver, metrics });
    await queue.enqueue(job, { fail: false });
    await producer.enqueue(job, { fail: true });
    await queue.enqueue(idle, {});
    await queue.enqueue(idle, {}, { delay: 60_000 });
    queue.work({ jobs: [job] });
    await vi.waitFor(() => expect(calls).toBe(3));
    await vi.waitFor(async () => {
      const counts = await queue.counts();
      expect(counts.ok && counts.value.measured.failed).toBe(1);
    });
    const scraped = await metrics.scrape();
    if (!scraped.ok) throw scraped.error;
    const text = scraped.value.body;
    const sample = (line: string): number => {
      const found = text.split('\n').find((l) => l.startsWith(`${line} `));
      if (found === undefined) throw new Error(`no sample ${line} in\n${text}`);
      return Number(found.slice(line.length + 1));
    };
    expect(sample('notes_queue_jobs{job="measured",state="completed"}')).toBe(1);
    expect(sample('notes_queue_jobs{job="measured",state="failed"}')).toBe(1);
    expect(sample('notes_queue_jobs{job="idle",state="waiting"}')).toBe(1);
    expect(sample('notes_queue_jobs{job="idle",state="delayed"}')).toBe(1);
    expect(text.match(/notes_queue_jobs\{job="measured",state="completed"\}/g)).toHaveLength(1);
    expect(sample('notes_queue_jobs_enqueued_total{job="measured"}')).toBe(2);
    expect(sample('notes_queue_job_retries_total{job="measured"}')).toBe(1);
    expect(sample('notes_queue_dead_letters_total{job="measured",code="UPSTREAM_DOWN"}')).toBe(1);
    expect(
      sample('notes_queue_job_duration_seconds_count{job="measured",outcome="completed"}'),
    ).toBe(1);
    expect(sample('notes_queue_job_duration_seconds_count{job="measured",outcome="retried"}')).toBe(
      1,
    );
    expect(
      sample('notes_queue_job_duration_seconds_count{job="measured",outcome="dead_lettered"}'),
    ).toBe(1);
    if (promtool) {
      const checked = spawnSync('promtool', ['check', 'metrics'], {
        input: text,
        encoding: 'utf8',
      });
      expect(checked.stdout + checked.stderr).toBe('');
      expect(checked.status).toBe(0);
    }
    await producer.close();
    await queue.close();
  });

  it('refuses a registry that already has one of its metric names, or a bad prefix', () => {
    const job = defineJob({ name: 'm', schema: z.object({}) });
    const metrics = createMetrics();
    metrics.registry.registerMetric({
      name: 'queue_jobs',
      help: 'not ours',
      type: 'gauge',
      get: async () => ({
        name: 'queue_jobs',
        help: 'x',
        type: 'gauge',
        values: [],
        aggregator: 'sum',
      }),
      reset: () => {},
      aggregator: 'sum',
    } as never);
    expect(() => createQueue({ jobs: [job], metrics })).toThrowError(
      expect.objectContaining({ code: 'QUEUE_INVALID_OPTIONS' }),
    );
    expect(() =>
      createQueue({
        jobs: [job],
        metrics: { registry: createMetrics().registry, prefix: '1bad-' },
      }),
    ).toThrowError(expect.objectContaining({ code: 'QUEUE_INVALID_OPTIONS' }));
  });
});
