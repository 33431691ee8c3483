import { SeriesCap } from '@prod/metrics';
import { describe, expect, it } from 'vitest';

describe('SeriesCap', () => {
  it('admits maxSeries - 1 keys, then shares one overflow entry', () => {
    let overflows = 0;
    let built = 0;
    const cap = new SeriesCap<string>({
      maxSeries: 3,
      overflow: () => {
        built++;
        return 'overflow';
      },
      onOverflow: () => overflows++,
    });
    expect(cap.add('a', 'A')).toBe('A');
    expect(cap.add('b', 'B')).toBe('B');
    expect(cap.full).toBe(true);
    expect(cap.add('c', 'C')).toBe('overflow');
    expect(cap.add('d', 'D')).toBe('overflow');
    expect(cap.get('a')).toBe('A');
    expect(cap.get('c')).toBeUndefined();
    expect(cap.add('a', 'other')).toBe('A');
    expect(cap.size).toBe(3);
    expect(cap.overflowed).toBe(2);
    expect(overflows).toBe(2);
    expect(built).toBe(1);
  });

  it('forgets everything on reset', () => {
    const cap = new SeriesCap<number>({ maxSeries: 2, overflow: () => -1 });
    cap.add('a', 1);
    cap.add('b', 2);
    cap.reset();
    expect(cap.size).toBe(0);
    expect(cap.overflowed).toBe(0);
    expect(cap.add('b', 2)).toBe(2);
  });

  it('treats keys like __proto__ as plain keys', () => {
    const cap = new SeriesCap<number>({ maxSeries: 10, overflow: () => -1 });
    expect(cap.add('__proto__', 1)).toBe(1);
    expect(cap.get('__proto__')).toBe(1);
    expect(cap.get('constructor')).toBeUndefined();
  });

  it.each([[1], [0], [1.5], [Number.NaN]])('refuses maxSeries %s', (maxSeries) => {
    expect(() => new SeriesCap({ maxSeries, overflow: () => 0 })).toThrow(
      expect.objectContaining({
        code: 'METRICS_INVALID_OPTIONS',
        details: expect.objectContaining({ option: 'maxSeries' }),
      }),
    );
  });
});
