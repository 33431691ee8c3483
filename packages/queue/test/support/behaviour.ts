// The behaviour every driver must have: one suite, run on the memory driver
// (test/memory.test.ts) and on BullMQ against a real Redis (test/bullmq.int.test.ts).
import { err, ok, ProdError, type Result } from '@prod/core';
import {
  type AnyJobDefinition,
  createQueue,
  type DeadLetterEvent,
  defineJob,
  type Queue,
  type QueueDriver,
  type QueueOptions,
} from '@prod/queue';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';

/** How a test file gives the suite its engine. */
export interface Harness {
  /** A driver on a namespace of its own (a fresh Redis prefix, a fresh memory driver). */
  driver(): QueueDriver;
  /** A second driver on the same namespace as `driver`: another instance of the service. */
  peer(driver: QueueDriver): QueueDriver;
}

const transient = (message = 'try later') =>
  new ProdError({ code: 'UPSTREAM_DOWN', status: 503, retryable: true, message });
const permanent = (message = 'no such user') =>
  new ProdError({ code: 'USER_GONE', status: 404, retryable: false, message });

export function behaviourSuite(name: string, harness: Harness): void {
  describe(`${name}: behaviour`, () => {
    const open: Array<Queue<AnyJobDefinition>> = [];
    const make = <TJob extends AnyJobDefinition>(
      options: Omit<QueueOptions<TJob>, 'driver'> & { driver?: QueueDriver },
    ): Queue<TJob> => {
      const queue = createQueue({ driver: harness.driver(), ...options });
      open.push(queue as unknown as Queue<AnyJobDefinition>);
      return queue;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((queue) => queue.close({ timeoutMs: 500 })));
    });

    it('validates the payload on enqueue, runs the handler with the parsed payload and its context', async () => {
      const seen: unknown[] = [];
      const job = defineJob({
        name: 'greet',
        schema: z.object({ to: z.string().min(1), loud: z.boolean().default(false) }),
        handler: (payload, context) => {
          seen.push({
            payload,
            attempt: context.attempt,
            max: context.maxAttempts,
            id: context.id,
          });
          return ok(`hi ${payload.to}`);
        },
      });
      const queue = make({ jobs: [job] });
      queue.work();
      const enqueued = await queue.enqueue(job, { to: 'ada' });
      expect(enqueued.ok).toBe(true);
      if (!enqueued.ok) return;
      expect(enqueued.value.id).toMatch(/^greet\//);
      await vi.waitFor(() => expect(seen).toHaveLength(1), { timeout: 5000 });
      expect(seen[0]).toEqual({
        payload: { to: 'ada', loud: false },
        attempt: 1,
        max: 4,
        id: enqueued.value.id,
      });
      await vi.waitFor(async () => {
        const info = await queue.getJob(enqueued.value.id);
        expect(info.ok && info.value.state).toBe('completed');
        expect(info.ok && info.value.result).toBe('hi ada');
      });
    });

    it('refuses bad payloads with typed errors and enqueues nothing', async () => {
      const job = defineJob({
        name: 'strict',
        schema: z.object({ email: z.email(), tags: z.array(z.string()).max(3) }),
        maxPayloadBytes: 1024,
        handler: () => ok(undefined),
      });
      const queue = make({ jobs: [job] });
      const cases: Array<[unknown, string]> = [
        [{ email: 'nope', tags: [] }, 'JOB_PAYLOAD_INVALID'],
        [{ email: 'a@b.co', tags: ['a', 'b', 'c', 'd'] }, 'JOB_PAYLOAD_INVALID'],
        ['a string', 'JOB_PAYLOAD_INVALID'],
        [undefined, 'JOB_PAYLOAD_INVALID'],
        [{ email: 'a@b.co', tags: [], big: 10n }, 'JOB_PAYLOAD_INVALID'],
        [
          JSON.parse('{"email":"a@b.co","tags":[],"__proto__":{"admin":true}}'),
          'JOB_PAYLOAD_INVALID',
        ],
        [
          { email: 'a@b.co', tags: [], constructor: { prototype: { admin: true } } },
          'JOB_PAYLOAD_INVALID',
        ],
        [{ email: 'a@b.co', tags: ['x'.repeat(2000)] }, 'JOB_PAYLOAD_TOO_LARGE'],
        [{ email: 'a@b.co', tags: [], when: new Date(0) }, 'OK'],
      ];
      let deep: Record<string, unknown> = {};
      const root = { email: 'a@b.co', tags: [], deep };
      for (let i = 0; i < 80; i++) {
        const next = {};
        deep.next = next;
        deep = next;
      }
      cases.push([root, 'JOB_PAYLOAD_INVALID']);
      const cyclic: Record<string, unknown> = { email: 'a@b.co', tags: [] };
      cyclic.self = cyclic;
      cases.push([cyclic, 'JOB_PAYLOAD_INVALID']);
      for (const [payload, code] of cases) {
        const result = await queue.enqueue(job, payload as never);
        expect(
          result.ok ? 'OK' : result.error.code,
          JSON.stringify(String(payload)).slice(0, 60),
        ).toBe(code);
      }
      const invalid = await queue.enqueue(job, { email: 'nope', tags: [] });
      expect(!invalid.ok && invalid.error.errors?.[0]?.path).toBe('/email');
      expect(!invalid.ok && invalid.error.status).toBe(422);
      const unknown = await queue.enqueue('nobody-handles-this' as never, {} as never);
      expect(!unknown.ok && unknown.error.code).toBe('JOB_UNKNOWN');
      const counts = await queue.counts();
      // Only the one valid payload (the Date travels as its JSON string) was enqueued.
      expect(counts.ok && counts.value.strict.waiting).toBe(1);
    });

    it('checks the payload as the worker will see it: a value that does not survive JSON is refused on enqueue', async () => {
      const job = defineJob({
        name: 'dated',
        schema: z.object({ at: z.date() }),
        handler: () => ok(undefined),
      });
      const queue = make({ jobs: [job] });
      const result = await queue.enqueue(job, { at: new Date() });
      expect(!result.ok && result.error.code).toBe('JOB_PAYLOAD_INVALID');
    });

    it('retries a retryable error with backoff, recording each failed attempt, then completes', async () => {
      let calls = 0;
      const job = defineJob({
        name: 'flaky',
        schema: z.object({ n: z.number() }),
        retries: 3,
        backoff: 30,
        handler: (_payload, { attempt, history }) => {
          calls += 1;
          if (attempt < 3) return err(transient(`attempt ${attempt}`));
          return ok({ attempt, seen: history.map((h) => h.code) });
        },
      });
      const queue = make({ jobs: [job] });
      const retries: number[] = [];
      queue.on('retry', (event) => retries.push(event.delayMs));
      queue.work();
      const enqueued = await queue.enqueue(job, { n: 1 });
      if (!enqueued.ok) throw enqueued.error;
      await vi.waitFor(
        async () => {
          const info = await queue.getJob(enqueued.value.id);
          expect(info.ok && info.value.state).toBe('completed');
        },
        { timeout: 5000 },
      );
      const info = await queue.getJob(enqueued.value.id);
      if (!info.ok) throw info.error;
      expect(calls).toBe(3);
      expect(info.value.result).toEqual({ attempt: 3, seen: ['UPSTREAM_DOWN', 'UPSTREAM_DOWN'] });
      expect(
        info.value.history.map((h) => [h.attempt, h.code, h.retryable, h.retryDelayMs]),
      ).toEqual([
        [1, 'UPSTREAM_DOWN', true, 30],
        [2, 'UPSTREAM_DOWN', true, 30],
      ]);
      expect(retries).toEqual([30, 30]);
    });

    it('spreads retries with the jittered exponential backoff of @prod/errors', async () => {
      const delays: number[] = [];
      const job = defineJob({
        name: 'jitter',
        schema: z.object({}),
        retries: 2,
        handler: () => err(transient()),
      });
      const queue = make({ jobs: [job] });
      queue.on('retry', (event) => {
        if (event.error.attempt === 1) delays.push(event.delayMs);
      });
      queue.work();
      await queue.enqueueMany([1, 2, 3].map(() => ({ job, payload: {} })));
      await vi.waitFor(() => expect(delays.length).toBe(3), { timeout: 5000 });
      // Full jitter over a 1 s base: each first retry waits somewhere in [0, 1000] ms.
      for (const delay of delays) expect(delay).toBeGreaterThanOrEqual(0);
      for (const delay of delays) expect(delay).toBeLessThanOrEqual(1000);
      expect(new Set(delays).size).toBeGreaterThan(1);
    });

    it('dead-letters a retryable failure once its attempts are spent, with the whole history', async () => {
      const job = defineJob({
        name: 'doomed',
        schema: z.object({}),
        retries: 2,
        backoff: 10,
        handler: () => err(transient()),
      });
      const queue = make({ jobs: [job] });
      const dead: DeadLetterEvent[] = [];
      queue.on('deadLetter', (event) => dead.push(event));
      queue.work();
      const enqueued = await queue.enqueue(job, {});
      if (!enqueued.ok) throw enqueued.error;
      await vi.waitFor(() => expect(dead).toHaveLength(1), { timeout: 5000 });
      // The event is emitted as the worker decides; the driver stores the letter right after
      // (on Redis, one more round trip), so the letter is awaited rather than assumed.
      await vi.waitFor(
        async () => {
          const stored = await queue.deadLetters.get(enqueued.value.id);
          expect(stored.ok && stored.value.state).toBe('failed');
        },
        { timeout: 5000 },
      );
      const letter = await queue.deadLetters.get(enqueued.value.id);
      if (!letter.ok) throw letter.error;
      expect(letter.value.state).toBe('failed');
      expect(letter.value.attemptsMade).toBe(3);
      expect(letter.value.history.map((h) => h.attempt)).toEqual([1, 2, 3]);
      expect(letter.value.error.code).toBe('UPSTREAM_DOWN');
      expect(letter.value.payload).toEqual({});
      expect(dead[0]?.id).toBe(enqueued.value.id);
    });

    it('sends a non-retryable error straight to the dead letters', async () => {
      let calls = 0;
      const job = defineJob({
        name: 'gone',
        schema: z.object({ user: z.string() }),
        retries: 5,
        handler: () => {
          calls += 1;
          return err(permanent());
        },
      });
      const queue = make({ jobs: [job] });
      queue.work();
      const enqueued = await queue.enqueue(job, { user: 'u1' });
      if (!enqueued.ok) throw enqueued.error;
      await vi.waitFor(async () => {
        const letter = await queue.deadLetters.get(enqueued.value.id);
        expect(letter.ok).toBe(true);
      });
      const letter = await queue.deadLetters.get(enqueued.value.id);
      expect(calls).toBe(1);
      expect(letter.ok && letter.value.history).toHaveLength(1);
      expect(letter.ok && letter.value.error).toMatchObject({
        code: 'USER_GONE',
        retryable: false,
        attempt: 1,
      });
    });

    it('turns a throw, a non-Result and a handler that never returns into typed failures, and keeps working', async () => {
      const aborted: unknown[] = [];
      const throws = defineJob({
        name: 'throws',
        schema: z.object({}),
        handler: () => {
          throw new TypeError('cannot read x of undefined');
        },
      });
      const netThrows = defineJob({
        name: 'net-throws',
        schema: z.object({}),
        retries: 1,
        backoff: 10,
        handler: () => {
          throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        },
      });
      const noResult = defineJob({
        name: 'no-result',
        schema: z.object({}),
        handler: (() => 42) as never,
      });
      const hangs = defineJob({
        name: 'hangs',
        schema: z.object({}),
        timeout: 100,
        retries: 1,
        backoff: 10,
        handler: (_payload, { signal }) =>
          new Promise<Result<undefined>>(() => {
            signal.addEventListener('abort', () => aborted.push(signal.reason));
          }),
      });
      const fine = defineJob({ name: 'fine', schema: z.object({}), handler: () => ok('done') });
      const queue = make({ jobs: [throws, netThrows, noResult, hangs, fine] });
      queue.work();
      const ids: Record<string, string> = {};
      for (const job of [throws, netThrows, noResult, hangs, fine]) {
        const enqueued = await queue.enqueue(job.name, {});
        if (!enqueued.ok) throw enqueued.error;
        ids[job.name] = enqueued.value.id;
      }
      const stateOf = async (id: string) => {
        const info = await queue.getJob(id);
        return info.ok ? info.value : undefined;
      };
      await vi.waitFor(
        async () => {
          for (const name of ['throws', 'net-throws', 'no-result', 'hangs']) {
            expect((await stateOf(ids[name] as string))?.state, name).toBe('failed');
          }
          expect((await stateOf(ids.fine as string))?.state).toBe('completed');
        },
        { timeout: 8000 },
      );
      const thrown = await stateOf(ids.throws as string);
      expect(thrown?.history).toHaveLength(1);
      expect(thrown?.history[0]).toMatchObject({ code: 'JOB_HANDLER_THREW', retryable: false });
      expect(thrown?.history[0]?.message).toContain('cannot read x of undefined');
      expect(thrown?.history[0]?.stack).toContain('TypeError');
      const net = await stateOf(ids['net-throws'] as string);
      expect(net?.history.map((h) => [h.code, h.retryable])).toEqual([
        ['JOB_HANDLER_THREW', true],
        ['JOB_HANDLER_THREW', true],
      ]);
      expect((await stateOf(ids['no-result'] as string))?.history[0]?.code).toBe(
        'JOB_INVALID_RESULT',
      );
      const hung = await stateOf(ids.hangs as string);
      expect(hung?.history.map((h) => h.code)).toEqual(['JOB_TIMEOUT', 'JOB_TIMEOUT']);
      expect(aborted).toHaveLength(2);
      expect((aborted[0] as ProdError).code).toBe('JOB_TIMEOUT');
    });

    it('enqueues one job for one idempotency key, however many times and from however many instances', async () => {
      let runs = 0;
      const job = defineJob({
        name: 'charge',
        schema: z.object({ order: z.string() }),
        handler: () => {
          runs += 1;
          return ok(undefined);
        },
      });
      const first = make({ jobs: [job] });
      const second = make({ jobs: [job], driver: harness.peer(first.driver) });
      const results = await Promise.all([
        first.enqueue(job, { order: 'o-1' }, { idempotencyKey: 'order-o-1' }),
        second.enqueue(job, { order: 'o-1' }, { idempotencyKey: 'order-o-1' }),
        first.enqueue(job, { order: 'o-1' }, { idempotencyKey: 'order-o-1' }),
      ]);
      const ids = results.map((r) => (r.ok ? r.value.id : r.error.code));
      expect(new Set(ids).size).toBe(1);
      const other = await first.enqueue(job, { order: 'o-2' }, { idempotencyKey: 'order-o-2' });
      expect(other.ok && other.value.id).not.toBe(ids[0]);
      first.work();
      await vi.waitFor(() => expect(runs).toBe(2), { timeout: 5000 });
      // Still one job for the key once it has run.
      const again = await second.enqueue(job, { order: 'o-1' }, { idempotencyKey: 'order-o-1' });
      expect(again.ok && again.value.id).toBe(ids[0]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(runs).toBe(2);
    });

    it('delays a job, and runs prioritized jobs lower numbers first', async () => {
      const order: string[] = [];
      const job = defineJob({
        name: 'ordered',
        schema: z.object({ tag: z.string() }),
        handler: ({ tag }) => {
          order.push(tag);
          return ok(undefined);
        },
      });
      const queue = make({ jobs: [job] });
      const later = await queue.enqueue(job, { tag: 'later' }, { delay: 600 });
      if (!later.ok) throw later.error;
      const info = await queue.getJob(later.value.id);
      expect(info.ok && info.value.state).toBe('delayed');
      await queue.enqueue(job, { tag: 'p5' }, { priority: 5 });
      await queue.enqueue(job, { tag: 'p1' }, { priority: 1 });
      await queue.enqueue(job, { tag: 'p3' }, { priority: 3 });
      queue.work();
      await vi.waitFor(() => expect(order).toEqual(['p1', 'p3', 'p5']), { timeout: 5000 });
      await vi.waitFor(() => expect(order).toEqual(['p1', 'p3', 'p5', 'later']), { timeout: 5000 });
    });

    it('enqueues in bulk, or nothing when one item is invalid', async () => {
      let runs = 0;
      const job = defineJob({
        name: 'bulk',
        schema: z.object({ n: z.number().int() }),
        concurrency: 5,
        handler: () => {
          runs += 1;
          return ok(undefined);
        },
      });
      const other = defineJob({
        name: 'bulk-other',
        schema: z.object({}),
        handler: () => ok(undefined),
      });
      const queue = make({ jobs: [job, other] });
      const refused = await queue.enqueueMany([
        { job, payload: { n: 1 } },
        { job, payload: { n: 1.5 } },
      ]);
      expect(!refused.ok && refused.error.code).toBe('JOB_PAYLOAD_INVALID');
      expect(!refused.ok && refused.error.details).toMatchObject({ index: 1 });
      const none = await queue.counts();
      expect(none.ok && none.value.bulk.waiting).toBe(0);
      const added = await queue.enqueueMany([
        ...Array.from({ length: 50 }, (_, n) => ({ job, payload: { n } })),
        { job: 'bulk-other', payload: {} },
      ]);
      expect(added.ok && added.value).toHaveLength(51);
      expect(added.ok && new Set(added.value.map((e) => e.id)).size).toBe(51);
      queue.work();
      await vi.waitFor(() => expect(runs).toBe(50), { timeout: 5000 });
    });

    it('never runs more of a job at once than its concurrency', async () => {
      let running = 0;
      let peak = 0;
      let done = 0;
      const job = defineJob({
        name: 'bounded',
        schema: z.object({}),
        concurrency: 3,
        handler: async () => {
          running += 1;
          peak = Math.max(peak, running);
          await new Promise((resolve) => setTimeout(resolve, 30));
          running -= 1;
          done += 1;
          return ok(undefined);
        },
      });
      const queue = make({ jobs: [job] });
      await queue.enqueueMany(Array.from({ length: 12 }, () => ({ job, payload: {} })));
      queue.work();
      await vi.waitFor(() => expect(done).toBe(12), { timeout: 5000 });
      expect(peak).toBe(3);
    });

    it('starts at most rateLimit.max jobs per window', async () => {
      const starts: number[] = [];
      const job = defineJob({
        name: 'limited',
        schema: z.object({}),
        concurrency: 10,
        rateLimit: { max: 3, durationMs: 400 },
        handler: () => {
          starts.push(Date.now());
          return ok(undefined);
        },
      });
      const queue = make({ jobs: [job] });
      await queue.enqueueMany(Array.from({ length: 7 }, () => ({ job, payload: {} })));
      queue.work();
      await vi.waitFor(() => expect(starts).toHaveLength(7), { timeout: 8000 });
      // No 400 ms window (less a little clock slack) holds more than 3 starts.
      for (const [i, at] of starts.entries()) {
        expect(starts.filter((other, j) => j >= i && other - at < 350).length).toBeLessThanOrEqual(
          3,
        );
      }
    });

    it('lists, inspects, retries and purges dead letters, keeping their history', async () => {
      let healthy = false;
      const job = defineJob({
        name: 'dlq',
        schema: z.object({ n: z.number() }),
        retries: 0,
        handler: ({ n }) => (healthy ? ok(n) : err(permanent(`failed ${n}`))),
      });
      const queue = make({ jobs: [job] });
      queue.work();
      const added = await queue.enqueueMany([1, 2, 3, 4].map((n) => ({ job, payload: { n } })));
      if (!added.ok) throw added.error;
      await vi.waitFor(async () => {
        const counts = await queue.counts();
        expect(counts.ok && counts.value.dlq.failed).toBe(4);
      });
      const listed = await queue.deadLetters.list({ limit: 3 });
      if (!listed.ok) throw listed.error;
      expect(listed.value).toHaveLength(3);
      expect(listed.value.every((letter) => letter.error.code === 'USER_GONE')).toBe(true);
      const missing = await queue.deadLetters.get('dlq/does-not-exist');
      expect(!missing.ok && missing.error.code).toBe('JOB_NOT_FOUND');
      expect((await queue.deadLetters.get('not an id')).ok).toBe(false);
      expect((await queue.deadLetters.retry('dlq/does-not-exist')).ok).toBe(false);

      healthy = true;
      const one = added.value[0]?.id as string;
      expect((await queue.deadLetters.retry(one)).ok).toBe(true);
      await vi.waitFor(async () => {
        const info = await queue.getJob(one);
        expect(info.ok && info.value.state).toBe('completed');
      });
      const retriedInfo = await queue.getJob(one);
      expect(retriedInfo.ok && retriedInfo.value.history.map((h) => h.code)).toEqual(['USER_GONE']);
      expect((await queue.deadLetters.retry(one)).ok).toBe(false); // not a dead letter any more

      healthy = false;
      const retriedAll = await queue.deadLetters.retryAll();
      expect(retriedAll.ok && retriedAll.value.retried).toBe(3);
      await vi.waitFor(async () => {
        const counts = await queue.counts();
        expect(counts.ok && counts.value.dlq.failed).toBe(3);
      });
      const letter = await queue.deadLetters.get(added.value[1]?.id as string);
      expect(letter.ok && letter.value.history).toHaveLength(2);
      const purged = await queue.deadLetters.purge();
      expect(purged.ok && purged.value.purged).toBe(3);
      const after = await queue.counts();
      expect(after.ok && after.value.dlq.failed).toBe(0);
    });

    it('tells deadLetterGrowth listeners when the dead letters grow', async () => {
      const job = defineJob({
        name: 'grow',
        schema: z.object({}),
        retries: 0,
        handler: () => err(permanent()),
      });
      const queue = make({ jobs: [job], deadLetterCheckIntervalMs: 100 });
      const growth: Array<{ count: number; previous: number }> = [];
      queue.on('deadLetterGrowth', ({ count, previous }) => growth.push({ count, previous }));
      await new Promise((resolve) => setTimeout(resolve, 150)); // the first check sets the baseline
      queue.work();
      await queue.enqueueMany([
        { job, payload: {} },
        { job, payload: {} },
      ]);
      await vi.waitFor(() => expect(growth.at(-1)?.count).toBe(2), { timeout: 5000 });
      expect(growth[0]?.previous).toBe(0);
    });

    it("dead-letters a job whose payload no longer fits the worker's schema", async () => {
      const v1 = defineJob({ name: 'evolving', schema: z.object({ id: z.string() }) });
      const v2 = defineJob({
        name: 'evolving',
        schema: z.object({ id: z.string(), tenant: z.string() }),
        handler: () => ok(undefined),
      });
      const producer = make({ jobs: [v1] });
      const worker = make({ jobs: [v2], driver: harness.peer(producer.driver) });
      worker.work();
      const enqueued = await producer.enqueue(v1, { id: 'x' });
      if (!enqueued.ok) throw enqueued.error;
      await vi.waitFor(async () => {
        const letter = await worker.deadLetters.get(enqueued.value.id);
        expect(letter.ok && letter.value.error.code).toBe('JOB_PAYLOAD_INVALID');
      });
      const letter = await worker.deadLetters.get(enqueued.value.id);
      expect(letter.ok && letter.value.error.message).toContain('/tenant');
    });

    it('keeps finished jobs within the retention limits', async () => {
      const job = defineJob({ name: 'kept', schema: z.object({}), handler: () => ok(undefined) });
      const queue = make({ jobs: [job], retention: { completed: { count: 5 } } });
      queue.work();
      await queue.enqueueMany(Array.from({ length: 20 }, () => ({ job, payload: {} })));
      await vi.waitFor(async () => {
        const counts = await queue.counts();
        expect(counts.ok && counts.value.kept.waiting + counts.value.kept.active).toBe(0);
      });
      const counts = await queue.counts();
      expect(counts.ok && counts.value.kept.completed).toBeLessThanOrEqual(5);
      expect(counts.ok && counts.value.kept.completed).toBeGreaterThan(0);
    });

    it('runs one job per tick of a schedule that two instances (and a restart) upsert', async () => {
      const ticks: string[] = [];
      const job = defineJob({
        name: 'tick',
        schema: z.object({ source: z.string() }),
        handler: (_payload, { id }) => {
          ticks.push(id);
          return ok(undefined);
        },
      });
      const first = make({ jobs: [job] });
      const second = make({ jobs: [job], driver: harness.peer(first.driver) });
      const every = { id: 'heartbeat', everyMs: 300 };
      const upserts = await Promise.all([
        first.schedule(job, { ...every, payload: { source: 'first' } }),
        second.schedule(job, { ...every, payload: { source: 'second' } }),
        first.schedule(job, { ...every, payload: { source: 'restart' } }),
      ]);
      expect(upserts.every((r) => r.ok)).toBe(true);
      const listed = await second.schedules(job);
      expect(listed.ok && listed.value.map((s) => s.id)).toEqual(['heartbeat']);
      first.work();
      second.work();
      await vi.waitFor(() => expect(ticks.length).toBeGreaterThanOrEqual(3), { timeout: 5000 });
      expect(new Set(ticks).size).toBe(ticks.length); // every tick ran once, on one instance
      const removed = await second.unschedule(job, 'heartbeat');
      expect(removed.ok && removed.value).toBe(true);
      const afterRemoval = ticks.length;
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(ticks.length).toBeLessThanOrEqual(afterRemoval + 1); // at most the one already queued
      expect((await second.schedules(job)).ok && (await second.schedules(job))).toMatchObject({
        value: [],
      });
    });

    it('refuses a schedule with a bad pattern, interval, id or time zone', async () => {
      const job = defineJob({
        name: 'cronned',
        schema: z.object({}),
        handler: () => ok(undefined),
      });
      const queue = make({ jobs: [job] });
      const cases = [
        { id: 'a', cron: 'every day at noon', payload: {} },
        { id: 'a', cron: '61 * * * *', payload: {} },
        { id: 'a', everyMs: 1, payload: {} },
        { id: 'a', payload: {} },
        { id: 'a', cron: '* * * * *', everyMs: 1000, payload: {} },
        { id: 'has space', cron: '* * * * *', payload: {} },
        { id: 'a', cron: '0 3 * * *', tz: 'Mars/Olympus_Mons', payload: {} },
      ];
      for (const options of cases) {
        const result = await queue.schedule(job, options as never);
        expect(!result.ok && result.error.code, JSON.stringify(options)).toBe(
          'JOB_SCHEDULE_INVALID',
        );
      }
      const bad = await queue.schedule(job, {
        id: 'a',
        cron: '0 3 * * *',
        payload: 'nope' as never,
      });
      expect(!bad.ok && bad.error.code).toBe('JOB_PAYLOAD_INVALID');
      const good = await queue.schedule(job, {
        id: 'nightly',
        cron: '0 3 * * *',
        tz: 'Europe/Paris',
        payload: {},
      });
      expect(good.ok).toBe(true);
      const listed = await queue.schedules();
      expect(listed.ok && listed.value[0]).toMatchObject({
        id: 'nightly',
        cron: '0 3 * * *',
        tz: 'Europe/Paris',
      });
      expect(listed.ok && Date.parse(listed.value[0]?.nextRunAt ?? '')).toBeGreaterThan(Date.now());
    });

    it('closes gracefully: running jobs finish within the deadline, late ones are aborted and put back', async () => {
      const events: string[] = [];
      let release: () => void = () => {};
      const quick = defineJob({
        name: 'quick',
        schema: z.object({}),
        handler: async () => {
          await new Promise((resolve) => setTimeout(resolve, 100));
          events.push('quick done');
          return ok(undefined);
        },
      });
      const slow = defineJob({
        name: 'slow',
        schema: z.object({}),
        handler: (_payload, { signal }) =>
          new Promise<Result<undefined>>((resolve) => {
            release = () => resolve(ok(undefined));
            signal.addEventListener('abort', () => {
              events.push(`slow aborted: ${(signal.reason as ProdError).code}`);
              resolve(err(signal.reason as ProdError));
            });
          }),
      });
      const queue = createQueue({
        driver: harness.driver(),
        jobs: [quick, slow],
        shutdownGraceMs: 200,
      });
      // Another instance, still up once this one has closed: where the slow job goes back to.
      const observer = make({ jobs: [quick, slow], driver: harness.peer(queue.driver) });
      queue.work();
      await queue.enqueue(quick, {});
      const slowJob = await queue.enqueue(slow, {});
      if (!slowJob.ok) throw slowJob.error;
      await vi.waitFor(() => expect(queue.running).toBe(2), { timeout: 5000 });
      const hook = queue.shutdownHook({ drainTimeoutMs: 400 });
      expect(hook.name).toBe('queue');
      expect(hook.timeout).toBe(400 + 200 + 2000);
      const report = await hook.close(new AbortController().signal);
      void release;
      expect(events).toEqual(['quick done', 'slow aborted: QUEUE_SHUTDOWN']);
      expect(report).toMatchObject({ drained: 1, requeued: 1, abandoned: 0, finished: 0, lost: 0 });
      expect((await queue.enqueue(quick, {})).ok).toBe(false); // closed
      const back = await observer.getJob(slowJob.value.id);
      expect(back.ok && back.value).toMatchObject({
        state: 'waiting',
        attemptsMade: 0,
        history: [],
      });
    });

    it('puts back a job whose handler ignores its aborted signal, once the grace period is over', async () => {
      const stuck = defineJob({
        name: 'stuck',
        schema: z.object({}),
        handler: () => new Promise<Result<undefined>>(() => {}),
      });
      const queue = createQueue({ driver: harness.driver(), jobs: [stuck], shutdownGraceMs: 100 });
      const observer = make({ jobs: [stuck], driver: harness.peer(queue.driver) });
      queue.work();
      const enqueued = await queue.enqueue(stuck, {});
      if (!enqueued.ok) throw enqueued.error;
      await vi.waitFor(() => expect(queue.running).toBe(1), { timeout: 5000 });
      const report = await queue.close({ timeoutMs: 100 });
      expect(report).toMatchObject({ drained: 0, requeued: 1, abandoned: 1 });
      const back = await observer.getJob(enqueued.value.id);
      expect(back.ok && back.value.state).toBe('waiting');
    });

    it('stops taking jobs when the stopOn signal aborts (a shutdown has begun)', async () => {
      let runs = 0;
      const job = defineJob({
        name: 'stoppable',
        schema: z.object({}),
        handler: () => {
          runs += 1;
          return ok(undefined);
        },
      });
      const queue = make({ jobs: [job] });
      const shutdown = new AbortController();
      queue.work({ stopOn: shutdown.signal });
      await queue.enqueue(job, {});
      await vi.waitFor(() => expect(runs).toBe(1));
      shutdown.abort();
      await new Promise((resolve) => setTimeout(resolve, 50));
      await queue.enqueue(job, {});
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(runs).toBe(1);
      const counts = await queue.counts();
      expect(counts.ok && counts.value.stoppable.waiting).toBe(1);
    });

    it('refuses bad options at construction with QUEUE_INVALID_OPTIONS', () => {
      const job = defineJob({ name: 'opts', schema: z.object({}) });
      const attempts: Array<() => unknown> = [
        () => createQueue({ jobs: [] }),
        () => createQueue({ jobs: [job, job] }),
        () => createQueue({ jobs: [{ name: 'fake', schema: z.object({}) } as never] }),
        () => createQueue({ jobs: [job], driver: {} as never }),
        () => createQueue({ jobs: [job], retention: { completed: { count: -1 } } }),
        () => defineJob({ name: 'has space', schema: z.object({}) }),
        () => defineJob({ name: 'x', schema: {} as never }),
        () => defineJob({ name: 'x', schema: z.object({}), retries: -1 }),
        () => defineJob({ name: 'x', schema: z.object({}), timeout: 0 }),
        () => defineJob({ name: 'x', schema: z.object({}), rateLimit: { max: 0, durationMs: 10 } }),
        () => defineJob({ name: 'x', schema: z.object({}), concurrency: 1.5 }),
      ];
      for (const attempt of attempts) {
        expect(attempt).toThrowError(expect.objectContaining({ code: 'QUEUE_INVALID_OPTIONS' }));
      }
    });
  });
}
