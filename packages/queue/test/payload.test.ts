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
});
