import { createServer } from 'node:http';
import { err, ok, ProdError, type Result } from '@prod/core';
import { createHealth, onShutdown } from '@prod/health';
import { createQueue, defineJob, memoryDriver } from '@prod/queue';
import { bullmqDriver } from '@prod/queue/bullmq';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';

const invalid = expect.objectContaining({ code: 'QUEUE_INVALID_OPTIONS' });

describe('options and limits', () => {
  it('refuses bad driver options before connecting to anything', () => {
    expect(() => bullmqDriver({ connection: 'http://127.0.0.1:6379' })).toThrowError(invalid);
    expect(() => bullmqDriver({ connection: 42 as never })).toThrowError(invalid);
    expect(() =>
      bullmqDriver({ connection: 'redis://127.0.0.1', prefix: 'has space' }),
    ).toThrowError(invalid);
    expect(() =>
      bullmqDriver({ connection: 'redis://127.0.0.1', commandTimeoutMs: 0 }),
    ).toThrowError(invalid);
    expect(() =>
      bullmqDriver({ connection: 'redis://127.0.0.1', lockDurationMs: 10 }),
    ).toThrowError(invalid);
    expect(() => memoryDriver({ maxJobs: 0 })).toThrowError(invalid);
  });

  it('throws QUEUE_INVALID_OPTIONS for bad enqueue options (a bug of the caller), and works twice is refused', async () => {
    const job = defineJob({ name: 'opts', schema: z.object({}), handler: () => ok(undefined) });
    const queue = createQueue({ jobs: [job] });
    await expect(queue.enqueue(job, {}, { delay: -1 })).rejects.toThrowError(invalid);
    await expect(queue.enqueue(job, {}, { priority: 0 })).rejects.toThrowError(invalid);
    await expect(queue.enqueue(job, {}, { priority: 1.5 })).rejects.toThrowError(invalid);
    await expect(queue.enqueue(job, {}, { idempotencyKey: '' })).rejects.toThrowError(invalid);
    queue.work();
    expect(() => queue.work({ jobs: [job] })).toThrowError(invalid);
    expect(() => queue.work({ jobs: ['nope' as never] })).toThrowError(invalid);
    await queue.close();
    expect(() => queue.work()).toThrowError(expect.objectContaining({ code: 'QUEUE_CLOSED' }));
    const closed = await queue.enqueue(job, {});
    expect(!closed.ok && closed.error.code).toBe('QUEUE_CLOSED');
  });

  it('answers QUEUE_FULL when the memory driver holds maxJobs unfinished jobs, and accepts again once they ran', async () => {
    const job = defineJob({
      name: 'full',
      schema: z.object({ n: z.number() }),
      handler: () => ok(undefined),
    });
    const queue = createQueue({ jobs: [job], driver: memoryDriver({ maxJobs: 2 }) });
    expect((await queue.enqueue(job, { n: 1 })).ok).toBe(true);
    expect((await queue.enqueue(job, { n: 2 })).ok).toBe(true);
    const third = await queue.enqueue(job, { n: 3 });
    expect(!third.ok && third.error.code).toBe('QUEUE_FULL');
    expect(!third.ok && third.error.retryable).toBe(true);
    const bulk = await queue.enqueueMany([{ job, payload: { n: 4 } }]);
    expect(!bulk.ok && bulk.error.code).toBe('QUEUE_FULL');
    queue.work();
    await vi.waitFor(async () => expect((await queue.enqueue(job, { n: 5 })).ok).toBe(true));
    const report = await queue.close();
    expect(report.lost).toBeLessThanOrEqual(1);
  });

  it("waits a retryable error's retryAfterMs when it is longer than the backoff", async () => {
    const delays: number[] = [];
    let calls = 0;
    const job = defineJob({
      name: 'throttled',
      schema: z.object({}),
      backoff: 10,
      handler: () => {
        calls += 1;
        return calls === 1
          ? err(
              new ProdError({
                code: 'RATE_LIMITED',
                status: 429,
                retryable: true,
                retryAfterMs: 250,
              }),
            )
          : ok(undefined);
      },
    });
    const queue = createQueue({ jobs: [job] });
    queue.on('retry', (event) => delays.push(event.delayMs));
    queue.work();
    await queue.enqueue(job, {});
    await vi.waitFor(() => expect(calls).toBe(2));
    expect(delays).toEqual([250]);
    await queue.close();
  });
});

describe('with @prod/health', () => {
  it('is a shutdown hook of onShutdown: the running job finishes, the next one does not start', async () => {
    const started: number[] = [];
    let finish: (value: Result<undefined>) => void = () => {};
    const job = defineJob({
      name: 'drained',
      schema: z.object({ n: z.number() }),
      handler: ({ n }) => {
        started.push(n);
        return new Promise<Result<undefined>>((resolve) => {
          finish = resolve;
        });
      },
    });
    const queue = createQueue({ jobs: [job] });
    const health = createHealth();
    queue.work({ stopOn: health.signal });
    const server = createServer((_request, response) => response.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const shutdown = onShutdown(server, {
      health,
      signals: [],
      exit: false,
      preStopDelay: 0,
      hooks: [queue.shutdownHook({ drainTimeoutMs: 2000 })],
    });
    await queue.enqueue(job, { n: 1 });
    await vi.waitFor(() => expect(started).toEqual([1]));
    const reporting = shutdown.shutdown('test');
    await queue.enqueue(job, { n: 2 }).catch(() => undefined);
    setTimeout(() => finish(ok(undefined)), 100);
    const report = await reporting;
    expect(report.hooks).toEqual([expect.objectContaining({ name: 'queue', status: 'ok' })]);
    expect(report.exitCode).toBe(0);
    expect(started).toEqual([1]);
  });
});
