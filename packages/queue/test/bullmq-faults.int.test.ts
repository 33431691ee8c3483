import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ok } from '@prod/core';
import { createQueue, defineJob, type Queue, type QueueWarningEvent } from '@prod/queue';
import { bullmqDriver } from '@prod/queue/bullmq';
import {
  type FixtureProcess,
  type RedisServer,
  redisServerAvailable,
  redisTestUrl,
  spawnFixture,
  startRedisServer,
  stopFixtures,
} from '@prod/testing';
import { Queue as RawQueue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { effectJob } from './fixtures/effects.js';

const redis = await redisTestUrl();
const canStart = await redisServerAvailable();
const client = redis.available ? new Redis(redis.url) : undefined;
const open: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  await stopFixtures();
  await Promise.all(open.splice(0).map((thing) => thing.close()));
});
afterAll(async () => {
  await client?.quit();
  await redis.cleanup();
});

const fresh = () => `${redis.keyPrefix}${randomBytes(4).toString('hex')}`;
const fast = { lockDurationMs: 1000, stalledIntervalMs: 500 } as const;
const track = <TThing extends { close(): Promise<unknown> }>(thing: TThing): TThing => {
  open.push(thing);
  return thing;
};

/** Starts test/fixtures/worker-child.ts; resolves once it prints `ready`. */
async function workerProcess(prefix: string, keyPrefix: string): Promise<FixtureProcess> {
  const child = spawnFixture(join(import.meta.dirname, 'fixtures', 'worker-child.ts'), {
    args: [redis.url, prefix, keyPrefix],
    conditions: ['@prod/source'],
  });
  await child.waitForLine('ready');
  return child;
}

describe.skipIf(!redis.available)('BullMQ faults (skipped: Redis not reachable)', () => {
  it('a worker process killed with SIGKILL mid-job: its jobs complete on another worker, each effect once', async () => {
    const prefix = fresh();
    const keyPrefix = `${prefix}:fx:`;
    const child = await workerProcess(prefix, keyPrefix);
    const job = effectJob({ redis: client as Redis, keyPrefix });
    const producer = track(
      createQueue({
        jobs: [job],
        driver: bullmqDriver({ connection: redis.url, prefix, ...fast }),
      }),
    );
    const added = await producer.enqueueMany(
      [1, 2, 3, 4, 5].map((entry) => ({ job, payload: { entry } })),
    );
    if (!added.ok) throw added.error;
    // The child applies every effect, then hangs in every handler: all five are active there.
    await vi.waitFor(
      () => expect(child.lines.filter((l) => l.startsWith('effect '))).toHaveLength(5),
      {
        timeout: 10_000,
      },
    );
    child.kill('SIGKILL');
    await child.exited;

    const survivor = track(
      createQueue({
        jobs: [job],
        driver: bullmqDriver({ connection: redis.url, prefix, ...fast }),
      }),
    );
    survivor.work();
    await vi.waitFor(
      async () => {
        const counts = await survivor.counts();
        expect(counts.ok && counts.value['ledger.apply']).toMatchObject({
          completed: 5,
          active: 0,
          waiting: 0,
          failed: 0,
        });
      },
      { timeout: 15_000, interval: 100 },
    );
    for (const entry of [1, 2, 3, 4, 5]) {
      expect(await client?.get(`${keyPrefix}runs:${entry}`)).toBe('2'); // at least once: it ran twice
      expect(await client?.get(`${keyPrefix}effects:${entry}`)).toBe('1'); // its effect: exactly once
    }
    for (const { id } of added.value) {
      const info = await survivor.getJob(id);
      expect(info.ok && info.value.state).toBe('completed');
      expect(info.ok && info.value.attemptsMade).toBe(1); // the lost worker's attempt is not counted
    }
  }, 40_000);

  it('dead-letters jobs the queue cannot read: a name nobody handles, data that is not a job of ours', async () => {
    const prefix = fresh();
    const known = defineJob({ name: 'known', schema: z.object({}), handler: () => ok(undefined) });
    const queue = track(
      createQueue({
        jobs: [known],
        driver: bullmqDriver({ connection: redis.url, prefix, ...fast }),
      }),
    );
    const raw = new RawQueue('known', { connection: { url: redis.url }, prefix });
    open.push(raw);
    const stranger = await raw.add('renamed-in-v2', { v: 1, payload: {} });
    const foreign = await raw.add('known', { hello: 'world' });
    queue.work();
    await vi.waitFor(async () => {
      const a = await queue.deadLetters.get(`known/${stranger.id}`);
      const b = await queue.deadLetters.get(`known/${foreign.id}`);
      expect(a.ok && a.value.error.code).toBe('JOB_UNKNOWN');
      expect(b.ok && b.value.error.code).toBe('JOB_PAYLOAD_INVALID');
      expect(b.ok && b.value.payload).toEqual({ hello: 'world' });
    });
  });

  it("stores each job's data as the JSON of its envelope, one job or many, that BullMQ reads back", async () => {
    const prefix = fresh();
    const job = defineJob({
      name: 'stored',
      schema: z.object({ n: z.number(), tags: z.array(z.string()) }),
      handler: () => ok(undefined),
    });
    const queue = track(
      createQueue({ jobs: [job], driver: bullmqDriver({ connection: redis.url, prefix }) }),
    );
    const one = await queue.enqueue(job, { n: 1, tags: ['a'] });
    const many = await queue.enqueueMany([
      { job, payload: { n: 2, tags: [] } },
      { job, payload: { n: 3, tags: ['b', 'c'] } },
    ]);
    if (!one.ok) throw one.error;
    if (!many.ok) throw many.error;
    const stored = [one.value, ...many.value].map(({ id }) =>
      (client as Redis).hget(`${prefix}:stored:${id.slice('stored/'.length)}`, 'data'),
    );
    expect(await Promise.all(stored)).toEqual([
      '{"v":1,"payload":{"n":1,"tags":["a"]}}',
      '{"v":1,"payload":{"n":2,"tags":[]}}',
      '{"v":1,"payload":{"n":3,"tags":["b","c"]}}',
    ]);
    const raw = new RawQueue('stored', { connection: { url: redis.url }, prefix });
    open.push(raw);
    const read = await raw.getJob(one.value.id.slice('stored/'.length));
    expect(read?.data).toEqual({ v: 1, payload: { n: 1, tags: ['a'] } });
  });

  it('schedules stay one through a restart loop of several instances', async () => {
    const prefix = fresh();
    const job = defineJob({
      name: 'nightly',
      schema: z.object({ run: z.number() }),
      handler: () => ok(undefined),
    });
    for (let run = 0; run < 5; run++) {
      const instance = createQueue({
        jobs: [job],
        driver: bullmqDriver({ connection: redis.url, prefix }),
      });
      const [a, b] = await Promise.all([
        instance.schedule(job, { id: 'nightly-export', cron: '0 3 * * *', payload: { run } }),
        instance.schedule(job, { id: 'nightly-export', cron: '0 3 * * *', payload: { run } }),
      ]);
      expect(a.ok && b.ok).toBe(true);
      await instance.close();
    }
    const queue = track(
      createQueue({ jobs: [job], driver: bullmqDriver({ connection: redis.url, prefix }) }),
    );
    const listed = await queue.schedules();
    expect(listed.ok && listed.value.map((s) => s.id)).toEqual(['nightly-export']);
    const counts = await queue.counts();
    expect(counts.ok && counts.value.nightly.delayed).toBe(1); // one next run, not five
  });
});

describe.skipIf(!canStart)('BullMQ on a Redis of its own (skipped: no redis-server)', () => {
  let server: RedisServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('Redis gone or hung while enqueueing: QUEUE_UNAVAILABLE within the timeout, then enqueues again once it is back', async () => {
    server = await startRedisServer();
    const job = defineJob({
      name: 'outage',
      schema: z.object({ n: z.number() }),
      handler: () => ok(undefined),
    });
    const queue: Queue<typeof job> = track(
      createQueue({
        jobs: [job],
        driver: bullmqDriver({ connection: server.url, commandTimeoutMs: 300, ...fast }),
      }),
    );
    const errors: string[] = [];
    queue.on('error', (event) => errors.push(event.source));
    expect((await queue.enqueue(job, { n: 1 })).ok).toBe(true);

    await server.kill();
    const down = await queue.enqueue(job, { n: 2 });
    expect(!down.ok && down.error.code).toBe('QUEUE_UNAVAILABLE');
    expect(!down.ok && down.error.retryable).toBe(true);
    const counts = await queue.counts();
    expect(!counts.ok && counts.error.code).toBe('QUEUE_UNAVAILABLE');
    // The lost connection is reported to 'error' listeners (nobody awaits a Result for it).
    await vi.waitFor(() => expect(errors).toContain('driver'), { timeout: 5000 });

    await server.restart();
    await vi.waitFor(async () => expect((await queue.enqueue(job, { n: 3 })).ok).toBe(true), {
      timeout: 10_000,
      interval: 200,
    });
    // The restart lost Redis' data (nothing on disk): what counts is that enqueueing works.
    const pid = server.pid as number;
    process.kill(pid, 'SIGSTOP'); // alive, accepting nothing: the hang a network partition gives
    try {
      const hung = await queue.enqueue(job, { n: 4 });
      expect(!hung.ok && hung.error.code).toBe('QUEUE_UNAVAILABLE');
      // A bulk enqueue is bounded as a whole (one deadline, not one per job's script call).
      const hungBulk = await queue.enqueueMany([
        { job, payload: { n: 6 } },
        { job, payload: { n: 7 } },
      ]);
      expect(!hungBulk.ok && hungBulk.error.code).toBe('QUEUE_UNAVAILABLE');
      expect(!hungBulk.ok && hungBulk.error.message).toContain('no answer within 300 ms');
      const hungCounts = await queue.counts();
      expect(!hungCounts.ok && hungCounts.error.code).toBe('QUEUE_UNAVAILABLE');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await vi.waitFor(async () => expect((await queue.enqueue(job, { n: 5 })).ok).toBe(true), {
      timeout: 10_000,
      interval: 200,
    });
  }, 40_000);

  it('warns when Redis may evict keys (maxmemory-policy other than noeviction)', async () => {
    server = await startRedisServer({
      args: ['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru'],
    });
    const job = defineJob({ name: 'evictable', schema: z.object({}) });
    const warnings: QueueWarningEvent[] = [];
    const logged: unknown[] = [];
    const queue = track(
      createQueue({
        jobs: [job],
        driver: bullmqDriver({ connection: server.url }),
        logger: { warn: (fields) => logged.push(fields), error: () => {} },
      }),
    );
    queue.on('warning', (event) => warnings.push(event));
    await vi.waitFor(() => expect(warnings).toHaveLength(1));
    expect(warnings[0]?.code).toBe('REDIS_EVICTION_POLICY');
    expect(warnings[0]?.message).toContain('allkeys-lru');
    expect(logged).toContainEqual({ evictionPolicy: 'allkeys-lru' });
    const checked = await queue.check();
    expect(checked.ok && checked.value).toEqual({
      driver: 'bullmq',
      evictionPolicy: 'allkeys-lru',
      ok: false,
    });
  });
});
