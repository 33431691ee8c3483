import { withDeadline } from '@prod/core';
import { describe, expect, it } from 'vitest';

describe('withDeadline', () => {
  it('gives the value of work that answers synchronously or in time', async () => {
    expect(await withDeadline(() => 7, { timeoutMs: 50 })).toMatchObject({
      status: 'settled',
      value: 7,
    });
    const later = await withDeadline(async () => 'late enough', { timeoutMs: 1_000 });
    expect(later).toMatchObject({ status: 'settled', value: 'late enough' });
    expect(later.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('gives what the work threw, synchronously or by rejecting', async () => {
    const boom = new Error('boom');
    expect(
      await withDeadline(
        () => {
          throw boom;
        },
        { timeoutMs: 50 },
      ),
    ).toMatchObject({ status: 'threw', error: boom });
    expect(await withDeadline(() => Promise.reject(boom), { timeoutMs: 50 })).toMatchObject({
      status: 'threw',
      error: boom,
    });
  });

  it('says timeout at the deadline and aborts the signal with the reason given', async () => {
    let seen: AbortSignal | undefined;
    const reason = new Error('too slow');
    const outcome = await withDeadline(
      (signal) => {
        seen = signal;
        return new Promise<never>((_resolve, reject) => {
          // Rejects after the deadline: nobody listens by then, and nothing is unhandled.
          setTimeout(() => reject(new Error('late')), 40);
        });
      },
      { timeoutMs: 10, reason: () => reason },
    );
    expect(outcome.status).toBe('timeout');
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBe(reason);
    await new Promise((resolve) => setTimeout(resolve, 50));
  });

  it('aborts with a TimeoutError by default, and never times out with Infinity', async () => {
    let seen: AbortSignal | undefined;
    await withDeadline(
      (signal) => {
        seen = signal;
        return new Promise(() => {});
      },
      { timeoutMs: 5 },
    );
    expect((seen?.reason as DOMException | undefined)?.name).toBe('TimeoutError');
    const forever = await withDeadline(
      () => new Promise((resolve) => setTimeout(() => resolve('done'), 20)),
      { timeoutMs: Number.POSITIVE_INFINITY },
    );
    expect(forever).toMatchObject({ status: 'settled', value: 'done' });
  });
});
