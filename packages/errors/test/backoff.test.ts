import { err } from '@prod/core';
import { constantBackoff, exponentialBackoff, type Jitter, retry } from '@prod/errors';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { invalidOption, unavailable } from './helpers.js';

describe('exponentialBackoff', () => {
  it('without jitter doubles from the initial delay up to the cap', () => {
    const backoff = exponentialBackoff({ initialDelayMs: 100, maxDelayMs: 1_000, jitter: 'none' });
    expect([1, 2, 3, 4, 5, 6].map((a) => backoff(a, 0))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
  });

  it('with full jitter scales the exponential ceiling by the random draw', () => {
    const backoff = exponentialBackoff({ initialDelayMs: 100, jitter: 'full', random: () => 0.5 });
    expect(backoff(1, 0)).toBe(50);
    expect(backoff(3, 0)).toBe(200);
  });

  it('with decorrelated jitter draws between the base and three times the previous delay', () => {
    const low = exponentialBackoff({
      initialDelayMs: 100,
      jitter: 'decorrelated',
      random: () => 0,
    });
    const high = exponentialBackoff({
      initialDelayMs: 100,
      jitter: 'decorrelated',
      random: () => 0.999_999,
    });
    expect(low(1, 0)).toBe(100);
    expect(high(2, 1_000)).toBeCloseTo(3_000, 0);
  });

  it('keeps a zero base at zero however many attempts (no NaN from 0 * Infinity)', () => {
    const backoff = exponentialBackoff({ initialDelayMs: 0, jitter: 'none' });
    expect(backoff(5_000, 0)).toBe(0);
  });

  it('stays in bounds even with a broken random source', () => {
    const broken = exponentialBackoff({ maxDelayMs: 500, random: () => Number.NaN });
    const huge = exponentialBackoff({ maxDelayMs: 500, random: () => 7 });
    expect(broken(3, 0)).toBe(0);
    expect(huge(3, 0)).toBeLessThanOrEqual(500);
  });

  it('rejects nonsense options', () => {
    expect(invalidOption(() => exponentialBackoff({ initialDelayMs: -1 }))).toBe('initialDelayMs');
    expect(invalidOption(() => exponentialBackoff({ maxDelayMs: Number.NaN }))).toBe('maxDelayMs');
    // Beyond what a timer can wait, setTimeout would fire at once.
    expect(invalidOption(() => exponentialBackoff({ maxDelayMs: 2 ** 31 }))).toBe('maxDelayMs');
    expect(invalidOption(() => exponentialBackoff({ factor: Number.POSITIVE_INFINITY }))).toBe(
      'factor',
    );
    expect(invalidOption(() => exponentialBackoff({ jitter: 'random' as Jitter }))).toBe('jitter');
    expect(invalidOption(() => constantBackoff(-5))).toBe('delayMs');
  });

  it('property: every delay lies in its documented bounds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5_000 }),
        fc.integer({ min: 0, max: 60_000 }),
        fc.double({ min: 1, max: 4, noNaN: true }),
        fc.constantFrom<Jitter>('full', 'decorrelated', 'none'),
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (initial, max, factor, jitter, attempt, previous, draw) => {
          const backoff = exponentialBackoff({
            initialDelayMs: initial,
            maxDelayMs: max,
            factor,
            jitter,
            random: () => draw,
          });
          const delay = backoff(attempt, previous);
          const lower = jitter === 'decorrelated' ? Math.min(initial, max) : 0;
          expect(delay).toBeGreaterThanOrEqual(lower);
          expect(delay).toBeLessThanOrEqual(max);
          if (jitter === 'none') {
            expect(delay).toBe(Math.min(max, initial * factor ** (attempt - 1)));
          }
        },
      ),
    );
  });
});

describe('retry delays under a fake clock', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('property: the waits between attempts stay inside the backoff bounds', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2_000 }),
        fc.integer({ min: 1, max: 20_000 }),
        fc.constantFrom<Jitter>('full', 'decorrelated', 'none'),
        fc.integer({ min: 2, max: 6 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        async (initial, max, jitter, maxAttempts, seed) => {
          let state = seed;
          // A small deterministic PRNG (mulberry32), so a failure can be replayed.
          const random = (): number => {
            state = (state + 0x6d2b79f5) | 0;
            let t = Math.imul(state ^ (state >>> 15), 1 | state);
            t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
            return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
          };
          const attemptsAt: number[] = [];
          const policy = retry({
            maxAttempts,
            backoff: exponentialBackoff({
              initialDelayMs: initial,
              maxDelayMs: max,
              jitter,
              random,
            }),
            now: () => Date.now(),
          });
          const pending = policy.execute(() => {
            attemptsAt.push(Date.now());
            return err(unavailable());
          });
          await vi.runAllTimersAsync();
          const result = await pending;
          expect(result.ok).toBe(false);
          expect(attemptsAt).toHaveLength(maxAttempts);
          for (let i = 1; i < attemptsAt.length; i++) {
            const waited = (attemptsAt[i] ?? 0) - (attemptsAt[i - 1] ?? 0);
            const ceiling = Math.min(max, initial * 2 ** (i - 1));
            const lower = jitter === 'decorrelated' ? Math.min(initial, max) : 0;
            // Fake timers count whole milliseconds: allow the rounding of one timer.
            expect(waited).toBeGreaterThanOrEqual(Math.floor(lower));
            expect(waited).toBeLessThanOrEqual(
              Math.ceil(jitter === 'decorrelated' ? max : ceiling),
            );
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
