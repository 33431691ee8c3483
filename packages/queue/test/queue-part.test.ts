// The monitoring part on the three frameworks, through the @prod adapters, over real HTTP.
import { err, ok, type Part, ProdError } from '@prod/core';
import { mountExpress } from '@prod/express';
import { fastifyServerOptions, prodFastify } from '@prod/fastify';
import { prodKoa } from '@prod/koa';
import { createQueue, defineJob, memoryDriver, queuePart } from '@prod/queue';
import { listen } from '@prod/testing';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';

interface Booted {
  readonly url: string;
  close(): Promise<void>;
}

const frameworks: Array<[string, (parts: readonly Part[]) => Promise<Booted>]> = [
  [
    'Express 5',
    async (parts) => {
      const app = express();
      mountExpress(app, { parts });
      return listen(app);
    },
  ],
  [
    'Fastify 5',
    async (parts) => {
      const app = Fastify({ ...fastifyServerOptions() });
      await app.register(prodFastify, { parts });
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      return { url, close: () => app.close() };
    },
  ],
  [
    'Koa 3',
    async (parts) => {
      const app = new Koa();
      app.use(prodKoa({ parts }));
      return listen(app.callback());
    },
  ],
];

const mail = defineJob({
  name: 'mail.send',
  schema: z.object({ to: z.string() }),
  retries: 0,
  handler: ({ to }) =>
    to.startsWith('bad')
      ? err(new ProdError({ code: 'MAILBOX_UNKNOWN', status: 422, message: `no mailbox ${to}` }))
      : ok(undefined),
});
const report = defineJob({ name: 'report.build', schema: z.object({}) });
const queue = createQueue({ jobs: [mail, report], driver: memoryDriver() });

beforeAll(async () => {
  queue.work();
  await queue.enqueueMany([
    { job: mail, payload: { to: 'ada@example.com' } },
    { job: mail, payload: { to: 'bad@example.com' } },
    { job: report, payload: {} },
  ]);
  await vi.waitFor(async () => {
    const counts = await queue.counts();
    expect(counts.ok && counts.value['mail.send'].failed).toBe(1);
  });
});
afterAll(() => queue.close());

describe.each(frameworks)('queuePart on %s', (_name, boot) => {
  let server: Booted;
  let guarded: Booted;
  beforeAll(async () => {
    server = await boot([queuePart(queue, { includeMessages: true })]);
    guarded = await boot([
      queuePart(queue, {
        path: '/internal/queues',
        recentFailures: 0,
        authorize: async (request) => request.headers.authorization === 'Bearer ops',
      }),
    ]);
  });
  afterAll(async () => {
    await server.close();
    await guarded.close();
  });

  it('lists every job name with its counts and recent dead letters, as JSON, never cached', async () => {
    const response = await fetch(`${server.url}/queues`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('content-type')).toContain('application/json');
    const body = (await response.json()) as { queues: Array<Record<string, unknown>> };
    expect(body.queues.map((q) => q.name)).toEqual(['mail.send', 'report.build']);
    expect(body.queues[0]).toMatchObject({
      counts: { completed: 1, failed: 1, waiting: 0, active: 0, delayed: 0 },
      recentFailures: [
        { code: 'MAILBOX_UNKNOWN', attempts: 1, message: 'no mailbox bad@example.com' },
      ],
    });
    expect(body.queues[1]).toMatchObject({ counts: { waiting: 1 }, recentFailures: [] });
  });

  it('answers 403 to a request the authorize predicate refuses, and hides messages by default', async () => {
    const refused = await fetch(`${guarded.url}/internal/queues`);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    const allowed = await fetch(`${guarded.url}/internal/queues`, {
      headers: { authorization: 'Bearer ops' },
    });
    expect(allowed.status).toBe(200);
    const body = (await allowed.json()) as { queues: Array<{ recentFailures: unknown[] }> };
    expect(body.queues[0]?.recentFailures).toEqual([]);
  });
});

describe('queuePart without a server', () => {
  it("throws the engine's 503 error (an adapter answers problem+json) when it cannot count, and refuses bad options", async () => {
    const job = defineJob({ name: 'x', schema: z.object({}) });
    const down = createQueue({ jobs: [job] });
    await down.close(); // a closed memory driver stands for an engine that is away
    const part = queuePart(down);
    const route = part.routes?.[0];
    await expect(Promise.resolve(route?.handler({ headers: {} } as never))).rejects.toMatchObject({
      code: expect.stringMatching(/^QUEUE_/),
    });
    expect(() => queuePart({} as never)).toThrowError(
      expect.objectContaining({ code: 'QUEUE_INVALID_OPTIONS' }),
    );
    expect(() => queuePart(queue, { path: 'queues' })).toThrowError(
      expect.objectContaining({ code: 'QUEUE_INVALID_OPTIONS' }),
    );
    const mine = defineJob({ name: 'y', schema: z.object({}) });
    const own = createQueue({ jobs: [mine] });
    const partOfOwn = queuePart(own, { recentFailures: 0 });
    const answered = await partOfOwn.routes?.[0]?.handler({ headers: {} } as never);
    expect(answered).toMatchObject({ status: 200, body: { queues: [{ name: 'y' }] } });
    await own.close();
  });
});
