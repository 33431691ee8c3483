// No OpenTelemetry SDK when the queue is made: one registered later must still see the jobs
// (the queue skips building no-op spans only while no SDK is there).
import { trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { currentContext, ok } from '@prod/core';
import { createQueue, defineJob } from '@prod/queue';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';

afterAll(() => {
  trace.disable();
});

describe('an SDK registered after the queue', () => {
  it('records the send and process spans of the jobs enqueued once it is there', async () => {
    const seen: unknown[] = [];
    const job = defineJob({
      name: 'late',
      schema: z.object({ n: z.number() }),
      handler: () => {
        seen.push(currentContext());
        return ok(undefined);
      },
    });
    const queue = createQueue({ jobs: [job] });
    queue.work();
    const before = await queue.enqueue(job, { n: 1 });
    if (!before.ok) throw before.error;
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    expect(seen[0]).toEqual({ requestId: before.value.id });

    const exporter = new InMemorySpanExporter();
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
    );
    const after = await queue.enqueue(job, { n: 2 });
    if (!after.ok) throw after.error;
    await vi.waitFor(() => expect(seen).toHaveLength(2));
    await vi.waitFor(() => expect(exporter.getFinishedSpans()).toHaveLength(2));
    const [send, processed] = exporter.getFinishedSpans();
    expect(send?.name).toBe('send late');
    expect(processed?.name).toBe('process late');
    expect(processed?.attributes['messaging.message.id']).toBe(after.value.id);
    const context = seen[1] as { requestId: string; traceId?: string };
    expect(context.requestId).toBe(after.value.id);
    expect(context.traceId).toBe(processed?.spanContext().traceId);
    await queue.close();
  });
});
