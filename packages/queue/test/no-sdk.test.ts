// No OpenTelemetry SDK in this file (vitest isolates each file's modules): nothing to trace.
import { currentContext, ok } from '@prod/core';
import { createQueue, defineJob } from '@prod/queue';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';

describe('without an OpenTelemetry SDK', () => {
  it('gives the handler a request context with the job id and no all-zero trace id', async () => {
    let seen: unknown = 'not run';
    const job = defineJob({
      name: 'untraced',
      schema: z.object({}),
      handler: () => {
        seen = currentContext();
        return ok(undefined);
      },
    });
    const queue = createQueue({ jobs: [job] });
    queue.work();
    const enqueued = await queue.enqueue(job, {});
    if (!enqueued.ok) throw enqueued.error;
    await vi.waitFor(() => expect(seen).not.toBe('not run'));
    expect(seen).toEqual({ requestId: enqueued.value.id });
    await queue.close();
  });

  it('keeps the context through the awaits of concurrent async handlers, and none outside them', async () => {
    const seen = new Map<string, unknown[]>();
    const job = defineJob({
      name: 'awaiting',
      schema: z.object({ n: z.number() }),
      concurrency: 4,
      handler: async (_payload, { id }) => {
        const ids: unknown[] = [currentContext()?.requestId];
        for (let step = 0; step < 3; step++) {
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
          ids.push(currentContext()?.requestId);
        }
        seen.set(id, ids);
        return ok(undefined);
      },
    });
    const queue = createQueue({ jobs: [job] });
    queue.work();
    const enqueued = await queue.enqueueMany(
      [1, 2, 3, 4, 5, 6].map((n) => ({ job, payload: { n } })),
    );
    if (!enqueued.ok) throw enqueued.error;
    await vi.waitFor(() => expect(seen.size).toBe(6));
    for (const { id } of enqueued.value) expect(seen.get(id)).toEqual([id, id, id, id]);
    expect(currentContext()).toBeUndefined();
    await queue.close();
  });

  it('runs handlers outside any request context with jobContext: false', async () => {
    let seen: unknown = 'not run';
    const job = defineJob({
      name: 'bare',
      schema: z.object({}),
      handler: () => {
        seen = currentContext();
        return ok(undefined);
      },
    });
    const queue = createQueue({ jobs: [job], jobContext: false });
    queue.work();
    await queue.enqueue(job, {});
    await vi.waitFor(() => expect(seen).not.toBe('not run'));
    expect(seen).toBeUndefined();
    await queue.close();
  });
});
