import { createQueue, defineJob } from '@prod/queue';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

const job = defineJob({ name: 'anything', schema: z.unknown() });

const nested = (levels: number): unknown => {
  let value: unknown = 'leaf';
  for (let i = 0; i < levels; i++) value = i % 2 === 0 ? { next: value } : [value];
  return value;
};

describe('payload keys and nesting', () => {
  it.each([
    ['a __proto__ key', JSON.parse('{"a":{"__proto__":{"admin":true}}}'), '/a/__proto__'],
    [
      'constructor.prototype',
      { constructor: { prototype: { admin: true } } },
      '/constructor/prototype',
    ],
    ['a __proto__ key in an array', [1, JSON.parse('{"__proto__":1}')], '/1/__proto__'],
  ])('refuses %s (JOB_PAYLOAD_INVALID, nothing enqueued)', async (_, payload, where) => {
    const queue = createQueue({ jobs: [job] });
    const enqueued = await queue.enqueue(job, payload);
    expect(enqueued.ok).toBe(false);
    if (enqueued.ok) return;
    expect(enqueued.error.code).toBe('JOB_PAYLOAD_INVALID');
    expect(enqueued.error.message).toContain(`forbidden key ${where}`);
    const counts = await queue.counts();
    expect(counts.ok && counts.value.anything.waiting).toBe(0);
    await queue.close();
  });

  it('refuses a payload nested deeper than 64 levels, and takes one nested 64 deep', async () => {
    const queue = createQueue({ jobs: [job] });
    const deep = await queue.enqueue(job, nested(70));
    expect(deep.ok).toBe(false);
    if (!deep.ok) expect(deep.error.message).toContain('nested deeper than 64 levels');
    expect((await queue.enqueue(job, nested(64))).ok).toBe(true);
    await queue.close();
  });

  it('takes keys and strings that only look like the forbidden ones', async () => {
    const queue = createQueue({ jobs: [job] });
    const fine = await queue.enqueue(job, {
      proto: '__proto__',
      prototype: 'a key named prototype, not under constructor',
      brackets: '[[[[{{{{'.repeat(20),
    });
    expect(fine.ok).toBe(true);
    await queue.close();
  });

  it('stores and checks what the JSON round trip gives, whatever the payload is made of', async () => {
    class Money {
      constructor(readonly cents: number) {}
      toJSON(): string {
        return `${this.cents / 100} EUR`;
      }
    }
    const bare = Object.create(null) as Record<string, unknown>;
    bare.a = 1;
    const hidden = { shown: 1 };
    Object.defineProperty(hidden, 'secret', { value: 2, enumerable: false });
    const payloads: unknown[] = [
      { a: 1, gone: undefined, fn: () => 1, list: [1, 'two', true, null, { b: [] }] },
      { zero: -0, nan: Number.NaN, inf: Number.POSITIVE_INFINITY, big: 1e21, tiny: 5e-324 },
      { list: [undefined, () => 1, Symbol('s')] },
      // biome-ignore lint/suspicious/noSparseArray: a hole is what is tested
      { holes: [1, , 3] },
      { when: new Date(0), price: new Money(250), map: new Map([[1, 2]]) },
      { bare, hidden, 10: 'ten', 2: 'two', z: 'last' },
      { text: 'lone \ud800 surrogate, "quotes", \u0000 and é' },
      [[[['deep']]]],
      'a string',
      42,
      null,
    ];
    const queue = createQueue({ jobs: [job] });
    for (const payload of payloads) {
      const enqueued = await queue.enqueue(job, payload);
      expect(enqueued.ok).toBe(true);
      if (!enqueued.ok) continue;
      const stored = await queue.getJob(enqueued.value.id);
      expect(stored.ok).toBe(true);
      if (!stored.ok) continue;
      expect(JSON.stringify(stored.value.payload)).toBe(JSON.stringify(payload));
      expect(stored.value.payload).toStrictEqual(JSON.parse(JSON.stringify(payload)));
    }
    await queue.close();
  });

  it('reads each property of a payload once: what is checked is what is stored', async () => {
    let reads = 0;
    const counted = defineJob({ name: 'counted', schema: z.object({ n: z.literal(1) }) });
    const queue = createQueue({ jobs: [counted] });
    const payload = {
      get n(): number {
        reads += 1;
        return reads;
      },
    };
    const enqueued = await queue.enqueue(counted, payload as { n: 1 });
    expect(enqueued.ok).toBe(true);
    expect(reads).toBe(1);
    if (enqueued.ok) {
      const stored = await queue.getJob(enqueued.value.id);
      expect(stored.ok && stored.value.payload).toStrictEqual({ n: 1 });
    }
    await queue.close();
  });

  it('refuses a forbidden key made an own property by hand, not only by JSON.parse', async () => {
    const queue = createQueue({ jobs: [job] });
    const payload: Record<string, unknown> = { a: 1 };
    Object.defineProperty(payload, '__proto__', { value: { admin: true }, enumerable: true });
    const enqueued = await queue.enqueue(job, payload);
    expect(!enqueued.ok && enqueued.error.message).toContain('forbidden key /__proto__');
    await queue.close();
  });
});
