import type { Part, Result } from '@prod/core';
import { createMetrics, type Exposition, metricsPart } from '@prod/metrics';
import { describe, expectTypeOf, it } from 'vitest';

describe('types', () => {
  const metrics = createMetrics({ runtime: false });

  it('track returns exactly what the function returns', () => {
    expectTypeOf(metrics.track('op', () => 42)).toEqualTypeOf<number>();
    expectTypeOf(metrics.track('op', async () => 'x')).toEqualTypeOf<Promise<string>>();
    const result = metrics.track('op', (): Result<number> => ({ ok: true, value: 1 }));
    expectTypeOf(result).toEqualTypeOf<Result<number>>();
  });

  it('scrape returns a Result of an exposition', () => {
    expectTypeOf(metrics.scrape()).toEqualTypeOf<Promise<Result<Exposition>>>();
  });

  it('metricsPart is a core Part', () => {
    expectTypeOf(metricsPart(metrics)).toEqualTypeOf<Part>();
  });

  it('rejects unknown options', () => {
    // @ts-expect-error: not an option
    createMetrics({ prefx: 'x' });
  });
});
