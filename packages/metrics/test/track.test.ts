import { CoreErrors, err, ok, ProdError, runWithContext } from '@prod/core';
import { createMetrics, type Metrics, MetricsErrors } from '@prod/metrics';
import { describe, expect, it } from 'vitest';
import {
  type Family,
  parseExposition,
  promtoolCheck,
  sampleValue,
  seriesOf,
} from './support/exposition.js';

async function scrape(metrics: Metrics): Promise<Map<string, Family>> {
  const result = await metrics.scrape();
  if (!result.ok) throw result.error;
  expect(promtoolCheck(result.value.body) ?? []).toEqual([]);
  return parseExposition(result.value.body);
}

function count(families: Map<string, Family>, outcome: string): number | undefined {
  return sampleValue(families, 'op_duration_seconds', 'op_duration_seconds_count', { outcome });
}

function errors(families: Map<string, Family>, code: string): number | undefined {
  return sampleValue(families, 'op_errors_total', 'op_errors_total', { code });
}

describe('track', () => {
  it('times a successful sync function and returns its value', async () => {
    const metrics = createMetrics({ runtime: false });
    expect(metrics.track('op', () => 42)).toBe(42);
    const families = await scrape(metrics);
    expect(families.get('op_duration_seconds')?.type).toBe('histogram');
    expect(count(families, 'ok')).toBe(1);
    expect(seriesOf(families.get('op_errors_total'))).toEqual([]);
  });

  it('counts a thrown ProdError by its code and rethrows the same error', async () => {
    const metrics = createMetrics({ runtime: false });
    const thrown = CoreErrors.CONFLICT('taken');
    expect(() =>
      metrics.track('op', () => {
        throw thrown;
      }),
    ).toThrow(thrown);
    const families = await scrape(metrics);
    expect(count(families, 'error')).toBe(1);
    expect(errors(families, 'CONFLICT')).toBe(1);
  });

  it('counts other thrown values with ProdError.from codes', async () => {
    const metrics = createMetrics({ runtime: false });
    const refused = Object.assign(new Error('connect'), { code: 'ECONNREFUSED' });
    for (const value of [new Error('boom'), 'string', refused, null]) {
      expect(() =>
        metrics.track('op', () => {
          throw value;
        }),
      ).toThrow();
    }
    const families = await scrape(metrics);
    expect(errors(families, 'INTERNAL')).toBe(3);
    expect(errors(families, 'UNAVAILABLE')).toBe(1);
  });

  it('counts a returned Err by its code and passes the Result through', async () => {
    const metrics = createMetrics({ runtime: false });
    const failed = err(new ProdError({ code: 'NOTE_NOT_FOUND', status: 404 }));
    expect(metrics.track('op', () => failed)).toBe(failed);
    const succeeded = ok('note');
    expect(metrics.track('op', () => succeeded)).toBe(succeeded);
    const families = await scrape(metrics);
    expect(errors(families, 'NOTE_NOT_FOUND')).toBe(1);
    expect(count(families, 'error')).toBe(1);
    expect(count(families, 'ok')).toBe(1);
  });

  it('handles async functions: resolved values, resolved Errs and rejections', async () => {
    const metrics = createMetrics({ runtime: false });
    await expect(metrics.track('op', async () => 'v')).resolves.toBe('v');
    await expect(
      metrics.track('op', async () => err(CoreErrors.TIMEOUT('slow'))),
    ).resolves.toMatchObject({ ok: false });
    const rejection = CoreErrors.UNAVAILABLE('down');
    await expect(metrics.track('op', () => Promise.reject(rejection))).rejects.toBe(rejection);
    const families = await scrape(metrics);
    expect(count(families, 'ok')).toBe(1);
    expect(count(families, 'error')).toBe(2);
    expect(errors(families, 'TIMEOUT')).toBe(1);
    expect(errors(families, 'UNAVAILABLE')).toBe(1);
  });

  it('measures the time until an async function settles', async () => {
    const metrics = createMetrics({ runtime: false });
    await metrics.track('op', () => new Promise((resolve) => setTimeout(resolve, 30)));
    const families = await scrape(metrics);
    const sum = sampleValue(families, 'op_duration_seconds', 'op_duration_seconds_sum', {});
    expect(sum).toBeGreaterThanOrEqual(0.02);
  });

  it('applies the prefix to both metrics', async () => {
    const metrics = createMetrics({ runtime: false, prefix: 'notes_' });
    metrics.track('db_query', () => undefined);
    const families = await scrape(metrics);
    expect(families.has('notes_db_query_duration_seconds')).toBe(true);
    expect(families.has('notes_db_query_errors_total')).toBe(true);
  });

  it.each([['has-dash'], ['1starts_with_digit'], ['__reserved'], [''], ['x'.repeat(1000)]])(
    'throws METRICS_INVALID_NAME for %j without running fn',
    (name) => {
      const metrics = createMetrics({ runtime: false });
      let ran = false;
      expect(() =>
        metrics.track(name, () => {
          ran = true;
        }),
      ).toThrow(expect.objectContaining({ code: 'METRICS_INVALID_NAME' }));
      expect(ran).toBe(false);
    },
  );

  it('throws METRICS_NAME_CONFLICT when a derived name is taken', () => {
    const metrics = createMetrics({ runtime: false });
    let thrown: unknown;
    try {
      metrics.track('http_server_request', () => 1);
    } catch (error) {
      thrown = error;
    }
    expect(MetricsErrors.METRICS_NAME_CONFLICT.is(thrown)).toBe(true);
  });

  it('caps the error codes of one operation', async () => {
    const metrics = createMetrics({ runtime: false, maxSeries: 5 });
    for (let i = 0; i < 100; i++) {
      metrics.track('op', () => err(new ProdError({ code: `CODE_${i}` })));
    }
    metrics.track('op', () => err(new ProdError({ code: `X${'Y'.repeat(500)}` })));
    const families = await scrape(metrics);
    const series = seriesOf(families.get('op_errors_total'));
    expect(series).toHaveLength(5);
    expect(errors(families, '_overflow')).toBe(97);
    expect(
      sampleValue(families, 'metrics_series_overflow_total', 'metrics_series_overflow_total', {
        metric: 'op_errors_total',
      }),
    ).toBe(97);
  });

  it('attaches trace exemplars when enabled', async () => {
    const metrics = createMetrics({ runtime: false, exemplars: true });
    const traceId = 'abcdef0123456789abcdef0123456789';
    runWithContext({ requestId: 'r', traceId }, () => metrics.track('op', () => 1));
    const result = await metrics.scrape('application/openmetrics-text');
    if (!result.ok) throw result.error;
    const families = parseExposition(result.value.body, true);
    const exemplar = families.get('op_duration_seconds')?.samples.find((s) => s.exemplar);
    expect(exemplar?.exemplar?.labels).toEqual({ trace_id: traceId });
  });
});
