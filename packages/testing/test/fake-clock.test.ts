import { useFakeClock } from '@prod/testing';
import { afterEach, describe, expect, it } from 'vitest';

describe('useFakeClock', () => {
  let restore = (): void => {};
  afterEach(() => restore());

  it('moves Date, performance.now and timers together', async () => {
    const clock = useFakeClock({ now: 1_000 });
    restore = clock.restore;
    const perfStart = performance.now();
    const fired: number[] = [];
    setTimeout(() => fired.push(clock.now()), 500);
    await clock.advance(499);
    expect(fired).toEqual([]);
    await clock.advance(1);
    expect(fired).toEqual([1_500]);
    expect(Date.now()).toBe(1_500);
    expect(performance.now() - perfStart).toBe(500);
  });

  it('runs promise callbacks scheduled by timers while advancing', async () => {
    const clock = useFakeClock();
    restore = clock.restore;
    const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
    let done = false;
    void (async () => {
      await sleep(100);
      await sleep(100);
      done = true;
    })();
    await clock.advance(200);
    expect(done).toBe(true);
  });

  it('restore brings real time back', () => {
    const clock = useFakeClock({ now: 0 });
    clock.restore();
    expect(Date.now()).toBeGreaterThan(1_600_000_000_000);
  });
});
