import { randomUUID } from 'node:crypto';
import {
  createHttpMetrics,
  createMetrics,
  HTTP_SERVER_DURATION_BUCKETS,
  type Metrics,
  metricsPart,
} from '@prod/metrics';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  type Family,
  parseExposition,
  promtoolCheck,
  sampleValue,
  seriesOf,
} from './support/exposition.js';
import { fakeRequest } from './support/requests.js';

const METRIC = 'http_server_request_duration_seconds';

async function families(metrics: Metrics): Promise<Map<string, Family>> {
  const response = await metrics.route.handler(fakeRequest({ route: '/metrics' }));
  const body = response.body as string;
  expect(promtoolCheck(body) ?? []).toEqual([]);
  return parseExposition(body);
}

describe('HTTP RED metrics through the metrics part', () => {
  it('records a histogram with the OpenTelemetry name, labels and buckets', async () => {
    const metrics = createMetrics({ runtime: false });
    const part = metricsPart(metrics);
    const req = fakeRequest({ method: 'POST', path: '/notes/42', route: '/notes/:id' });
    part.onResponse?.(req, { status: 201, durationMs: 30 });
    part.onResponse?.(req, { status: 201, durationMs: 300 });
    part.onResponse?.(fakeRequest({ route: '/notes/:id' }), { status: 404, durationMs: 1 });

    const scraped = await families(metrics);
    const family = scraped.get(METRIC);
    expect(family?.type).toBe('histogram');
    expect(family?.help).toContain('http.server.request.duration');
    const labels = {
      http_request_method: 'POST',
      http_route: '/notes/:id',
      http_response_status_code: '201',
    };
    expect(sampleValue(scraped, METRIC, `${METRIC}_count`, labels)).toBe(2);
    expect(sampleValue(scraped, METRIC, `${METRIC}_sum`, labels)).toBeCloseTo(0.33, 6);
    expect(sampleValue(scraped, METRIC, `${METRIC}_bucket`, { ...labels, le: '0.025' })).toBe(0);
    expect(sampleValue(scraped, METRIC, `${METRIC}_bucket`, { ...labels, le: '0.05' })).toBe(1);
    expect(sampleValue(scraped, METRIC, `${METRIC}_bucket`, { ...labels, le: '0.5' })).toBe(2);
    const bounds = family?.samples
      .filter((s) => s.name.endsWith('_bucket') && s.labels.http_response_status_code === '201')
      .map((s) => s.labels.le);
    expect(bounds).toEqual([...HTTP_SERVER_DURATION_BUCKETS.map(String), '+Inf']);
    expect(seriesOf(family)).toHaveLength(2);
  });

  it('never labels with the raw path: an unmatched route is one label value', async () => {
    const metrics = createMetrics({ runtime: false });
    const part = metricsPart(metrics);
    for (let i = 0; i < 10_000; i++) {
      const path = `/${randomUUID()}/wp-admin.php`;
      part.onResponse?.(fakeRequest({ path, route: undefined }), { status: 404, durationMs: 1 });
    }
    const scraped = await families(metrics);
    expect(seriesOf(scraped.get(METRIC))).toEqual([
      {
        http_request_method: 'GET',
        http_route: '_unmatched',
        http_response_status_code: '404',
      },
    ]);
    expect(sampleValue(scraped, METRIC, `${METRIC}_count`, {})).toBe(10_000);
    expect(metrics.http.series).toBe(1);
  });

  it('caps the series under 10,000 random routes: the cap, plus one overflow value', async () => {
    // An adapter that wrongly passes raw paths as the route: the cap is the last line.
    const metrics = createMetrics({ runtime: false });
    const part = metricsPart(metrics);
    part.onResponse?.(fakeRequest({ route: '/known' }), { status: 200, durationMs: 1 });
    for (let i = 0; i < 10_000; i++) {
      part.onResponse?.(fakeRequest({ route: `/${randomUUID()}` }), { status: 200, durationMs: 1 });
    }
    part.onResponse?.(fakeRequest({ route: '/known' }), { status: 200, durationMs: 1 });

    const scraped = await families(metrics);
    const series = seriesOf(scraped.get(METRIC));
    expect(series).toHaveLength(1000);
    expect(metrics.http.series).toBe(1000);
    const overflow = series.filter((labels) => labels.http_route === '_overflow');
    expect(overflow).toEqual([
      {
        http_request_method: '_overflow',
        http_route: '_overflow',
        http_response_status_code: '_overflow',
      },
    ]);
    // 1 known + 998 random admitted; the other 9,002 random ones overflowed.
    expect(sampleValue(scraped, METRIC, `${METRIC}_count`, { http_route: '_overflow' })).toBe(
      9_002,
    );
    expect(sampleValue(scraped, METRIC, `${METRIC}_count`, { http_route: '/known' })).toBe(2);
    expect(
      sampleValue(scraped, 'metrics_series_overflow_total', 'metrics_series_overflow_total', {
        metric: METRIC,
      }),
    ).toBe(9_002);
  });

  it('honours a smaller cap exactly', async () => {
    const metrics = createMetrics({ runtime: false, maxSeries: 10 });
    const part = metricsPart(metrics);
    for (let i = 0; i < 500; i++) {
      part.onResponse?.(fakeRequest({ route: `/r${i}` }), { status: 200, durationMs: 1 });
    }
    expect(seriesOf((await families(metrics)).get(METRIC))).toHaveLength(10);
  });

  it('exports the overflow counter at zero before any overflow, for alerting', async () => {
    const scraped = await families(createMetrics({ runtime: false }));
    expect(
      sampleValue(scraped, 'metrics_series_overflow_total', 'metrics_series_overflow_total', {
        metric: METRIC,
      }),
    ).toBe(0);
  });

  it('records methods outside the standard set as _OTHER', async () => {
    const metrics = createMetrics({ runtime: false });
    const part = metricsPart(metrics);
    for (const method of ['PROPFIND', 'get', 'G\nET', '', 'x'.repeat(10_000)]) {
      part.onResponse?.(fakeRequest({ method, route: '/a' }), { status: 200, durationMs: 1 });
    }
    for (const method of [42, null, { toString: () => 'GET' }, '__proto__']) {
      part.onResponse?.(fakeRequest({ method: method as never, route: '/a' }), {
        status: 200,
        durationMs: 1,
      });
    }
    for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
      part.onResponse?.(fakeRequest({ method, route: '/a' }), { status: 200, durationMs: 1 });
    }
    const methods = seriesOf((await families(metrics)).get(METRIC))
      .map((labels) => labels.http_request_method)
      .sort();
    expect(methods).toEqual(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', '_OTHER']);
  });

  it('records statuses outside 100-599 as _OTHER', async () => {
    const metrics = createMetrics({ runtime: false });
    const part = metricsPart(metrics);
    for (const status of [0, 99, 600, 1000, -1, 200.5, Number.NaN, '200', '__proto__', null]) {
      part.onResponse?.(fakeRequest({ route: '/a' }), {
        status: status as number,
        durationMs: 1,
      });
    }
    const scraped = await families(metrics);
    expect(seriesOf(scraped.get(METRIC))).toEqual([
      { http_request_method: 'GET', http_route: '/a', http_response_status_code: '_OTHER' },
    ]);
    expect(sampleValue(scraped, METRIC, `${METRIC}_count`, {})).toBe(10);
  });

  it('ignores durations that are not finite or negative, without throwing', async () => {
    const metrics = createMetrics({ runtime: false });
    const part = metricsPart(metrics);
    for (const durationMs of [Number.NaN, -1, Number.POSITIVE_INFINITY, '5' as never, undefined]) {
      expect(() =>
        part.onResponse?.(fakeRequest({ route: '/a' }), { status: 200, durationMs: durationMs! }),
      ).not.toThrow();
    }
    part.onResponse?.(fakeRequest({ route: '/a' }), { status: 200, durationMs: 0 });
    const scraped = await families(metrics);
    expect(sampleValue(scraped, METRIC, `${METRIC}_count`, {})).toBe(1);
  });

  it('escapes hostile route templates and sends over-long ones to the overflow series', async () => {
    const metrics = createMetrics({ runtime: false });
    const part = metricsPart(metrics);
    const hostile = '/a"b\\c\nd} # {x="y"} 1';
    part.onResponse?.(fakeRequest({ route: hostile }), { status: 200, durationMs: 1 });
    part.onResponse?.(fakeRequest({ route: `/${'x'.repeat(100_000)}` }), {
      status: 200,
      durationMs: 1,
    });
    const routes = seriesOf((await families(metrics)).get(METRIC))
      .map((labels) => labels.http_route)
      .sort();
    expect(routes).toEqual([hostile, '_overflow']);
  });

  it('uses a custom unmatched label', async () => {
    const metrics = createMetrics({ runtime: false, http: { unmatchedRoute: 'no_route' } });
    metricsPart(metrics).onResponse?.(fakeRequest({ route: '' }), { status: 404, durationMs: 1 });
    expect(seriesOf((await families(metrics)).get(METRIC))[0]?.http_route).toBe('no_route');
  });

  it('does not record its own scrapes unless asked', async () => {
    const quiet = createMetrics({ runtime: false });
    metricsPart(quiet).onResponse?.(fakeRequest({ route: '/metrics' }), {
      status: 200,
      durationMs: 1,
    });
    expect(quiet.http.series).toBe(0);

    const loud = createMetrics({ runtime: false });
    metricsPart(loud, { recordScrapes: true }).onResponse?.(fakeRequest({ route: '/metrics' }), {
      status: 200,
      durationMs: 1,
    });
    expect(loud.http.series).toBe(1);
  });

  it('serves hooks only when serveRoute is false', () => {
    const part = metricsPart(createMetrics({ runtime: false }), { serveRoute: false });
    expect(part.routes).toEqual([]);
    expect(typeof part.onResponse).toBe('function');
  });

  it('keeps recording after the registry is reset', async () => {
    const metrics = createMetrics({ runtime: false });
    const part = metricsPart(metrics);
    part.onResponse?.(fakeRequest({ route: '/a' }), { status: 200, durationMs: 1 });
    metrics.registry.resetMetrics();
    part.onResponse?.(fakeRequest({ route: '/a' }), { status: 200, durationMs: 1 });
    expect(sampleValue(await families(metrics), METRIC, `${METRIC}_count`, {})).toBe(1);
    metrics.http.reset();
    expect(metrics.http.series).toBe(0);
  });

  it('can be created on its own registry with custom buckets and prefix', async () => {
    const registry = new Registry();
    const http = createHttpMetrics(registry, { prefix: 'api_', buckets: [0.1, 1] });
    http.record({ method: 'GET', route: '/x' }, 200, 0.5);
    expect(http.name).toBe(`api_${METRIC}`);
    const scraped = parseExposition(await registry.metrics());
    const bounds = scraped.get(`api_${METRIC}`)?.samples.map((s) => s.labels.le);
    expect(bounds).toEqual(['0.1', '1', '+Inf', undefined, undefined]);
  });
});
