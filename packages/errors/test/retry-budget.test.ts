import { retryBudget } from '@prod/errors';
import { describe, expect, it } from 'vitest';
import { invalidOption, manualClock } from './helpers.js';

describe('retryBudget', () => {
  it('allows retries up to the ratio of requests plus the floor', () => {
    const clock = manualClock();
    const budget = retryBudget({ ratio: 0.1, minRetriesPerSecond: 0, now: clock.now });
    for (let i = 0; i < 100; i++) budget.recordRequest();
    let granted = 0;
    while (budget.tryAcquire()) granted += 1;
    expect(granted).toBe(10);
    expect(budget.stats()).toEqual({ requests: 100, retries: 10, available: 0 });
  });

  it('keeps a floor of retries per second for low traffic', () => {
    const clock = manualClock();
    const budget = retryBudget({
      ratio: 0,
      minRetriesPerSecond: 2,
      windowMs: 1_000,
      now: clock.now,
    });
    expect(budget.tryAcquire()).toBe(true);
    expect(budget.tryAcquire()).toBe(true);
    expect(budget.tryAcquire()).toBe(false);
  });

  it('forgets requests and retries once they leave the window', () => {
    const clock = manualClock();
    const budget = retryBudget({
      ratio: 0.5,
      minRetriesPerSecond: 0,
      windowMs: 1_000,
      now: clock.now,
    });
    for (let i = 0; i < 4; i++) budget.recordRequest();
    expect(budget.tryAcquire()).toBe(true);
    expect(budget.tryAcquire()).toBe(true);
    expect(budget.tryAcquire()).toBe(false);
    clock.advance(500);
    budget.recordRequest();
    budget.recordRequest();
    expect(budget.stats().requests).toBe(6);
    clock.advance(600);
    // The first four requests and both retries fell out; the two later requests remain.
    expect(budget.stats()).toEqual({ requests: 2, retries: 0, available: 1 });
    clock.advance(10_000);
    expect(budget.stats()).toEqual({ requests: 0, retries: 0, available: 0 });
  });

  it('survives a clock that goes backwards by starting afresh', () => {
    const clock = manualClock(50_000);
    const budget = retryBudget({ ratio: 1, minRetriesPerSecond: 0, now: clock.now });
    budget.recordRequest();
    clock.advance(-40_000);
    expect(budget.stats().requests).toBe(0);
  });

  it('rejects nonsense options', () => {
    expect(invalidOption(() => retryBudget({ ratio: -0.1 }))).toBe('ratio');
    expect(invalidOption(() => retryBudget({ ratio: Number.NaN }))).toBe('ratio');
    expect(invalidOption(() => retryBudget({ windowMs: 0 }))).toBe('windowMs');
    expect(invalidOption(() => retryBudget({ minRetriesPerSecond: -1 }))).toBe(
      'minRetriesPerSecond',
    );
  });
});
