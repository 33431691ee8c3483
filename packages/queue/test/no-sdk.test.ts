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
