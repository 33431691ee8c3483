import type { HttpRequest, HttpResponse } from '@prod/core';
import { isProdError } from '@prod/core';
import { createMetrics, MetricsErrors, metricsPart } from '@prod/metrics';
import { Gauge, register as globalRegister, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { parseExposition, promtoolCheck, seriesOf } from './support/exposition.js';

function request(overrides: Partial<HttpRequest> = {}): HttpRequest {
  return {
    method: 'GET',
    path: '/metrics',
    route: '/metrics',
    headers: {},
    ip: '127.0.0.1',
    query: {},
    params: {},
    body: undefined,
    signal: undefined,
    meta: {},
    ...overrides,
  };
}

async function scrape(
  metrics: ReturnType<typeof createMetrics>,
  headers: Record<string, string> = {},
): Promise<HttpResponse> {
  return metrics.route.handler(request({ headers }));
}

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('createMetrics', () => {
  afterEach(() => {
    globalRegister.clear();
  });

  it('serves GET /metrics as a neutral route with the Prometheus text format', async () => {
    const metrics = createMetrics({ runtime: false });
    expect(metrics.route.method).toBe('GET');
    expect(metrics.route.path).toBe('/metrics');
    const response = await scrape(metrics);
    expect(response.status).toBe(200);
    expect(response.headers?.['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const families = parseExposition(response.body as string);
    expect(families.get('http_server_request_duration_seconds')?.type).toBe('histogram');
    expect(families.get('metrics_series_overflow_total')?.type).toBe('counter');
    expect(promtoolCheck(response.body as string) ?? []).toEqual([]);
  });

  it('uses its own registry, never the global one unless passed', async () => {
    const metrics = createMetrics({ runtime: false });
    expect(metrics.registry).not.toBe(globalRegister);
    expect(await globalRegister.metrics()).not.toContain('http_server_request_duration_seconds');

    const onGlobal = createMetrics({ runtime: false, registry: globalRegister });
    expect(onGlobal.registry).toBe(globalRegister);
    expect(await globalRegister.metrics()).toContain('http_server_request_duration_seconds');
  });

  it('applies the prefix to every metric and the default labels to every series', async () => {
    const metrics = createMetrics({
      prefix: 'notes_',
      defaultLabels: { service: 'notes', env: 'test' },
    });
    metricsPart(metrics).onResponse?.(request({ route: '/n/:id' }), {
      status: 200,
      durationMs: 3,
    });
    const body = (await scrape(metrics)).body as string;
    const families = parseExposition(body);
    expect(families.size).toBeGreaterThan(10);
    for (const family of families.values()) {
      expect(family.name.startsWith('notes_')).toBe(true);
      for (const sample of family.samples) {
        expect(sample.labels.service).toBe('notes');
        expect(sample.labels.env).toBe('test');
      }
    }
    expect(seriesOf(families.get('notes_http_server_request_duration_seconds'))).toEqual([
      {
        env: 'test',
        service: 'notes',
        http_request_method: 'GET',
        http_route: '/n/:id',
        http_response_status_code: '200',
      },
    ]);
    expect(promtoolCheck(body) ?? []).toEqual([]);
  });

  it('serves the exposition on a custom path', async () => {
    const metrics = createMetrics({ runtime: false, path: '/internal/metrics' });
    expect(metrics.route.path).toBe('/internal/metrics');
    expect(metricsPart(metrics).routes?.[0]?.path).toBe('/internal/metrics');
  });

  it.each([
    ['a prefix that is not a metric name', { prefix: '1bad-' }, 'prefix'],
    ['a non-string prefix', { prefix: 42 }, 'prefix'],
    [
      'a default label with a reserved name',
      { defaultLabels: { __name__: 'x' } },
      'defaultLabels.__name__',
    ],
    [
      'a default label named like an HTTP label',
      { defaultLabels: { http_route: 'x' } },
      'defaultLabels.http_route',
    ],
    [
      'a default label with a non-string value',
      { defaultLabels: { service: 1 } },
      'defaultLabels.service',
    ],
    [
      'a huge default label value',
      { defaultLabels: { service: 'x'.repeat(10_000) } },
      'defaultLabels.service',
    ],
    [
      'a __proto__ default label',
      { defaultLabels: JSON.parse('{"__proto__":"x"}') },
      'defaultLabels.__proto__',
    ],
    ['default labels as an array', { defaultLabels: ['x'] }, 'defaultLabels'],
    ['maxSeries below 2', { maxSeries: 1 }, 'maxSeries'],
    ['a fractional maxSeries', { maxSeries: 10.5 }, 'maxSeries'],
    ['non-increasing buckets', { http: { buckets: [0.1, 0.1, 1] } }, 'buckets[1]'],
    ['negative buckets', { trackBuckets: [-1, 1] }, 'trackBuckets[0]'],
    ['NaN buckets', { http: { buckets: [Number.NaN] } }, 'buckets[0]'],
    ['a path without a slash', { path: 'metrics' }, 'path'],
    ['a registry that is not one', { registry: {} }, 'registry'],
    ['an empty unmatched route label', { http: { unmatchedRoute: '' } }, 'unmatchedRoute'],
    ['a string exemplars flag', { exemplars: 'yes' }, 'exemplars'],
    ['a logger without debug', { logger: {} }, 'logger'],
  ])('refuses %s with METRICS_INVALID_OPTIONS naming it', (_name, options, option) => {
    const error = thrownBy(() => createMetrics({ runtime: false, ...(options as object) }));
    expect(MetricsErrors.METRICS_INVALID_OPTIONS.is(error)).toBe(true);
    expect((error as { details: { option: string } }).details.option).toBe(option);
  });

  it('says what was expected and what was found', () => {
    expect(() => createMetrics({ runtime: false, maxSeries: 1 })).toThrow(
      'option maxSeries must be an integer >= 2 and <= 1000000, got 1',
    );
  });

  it('writes a debug line per scrape and one when a series cap is first reached', async () => {
    const lines: Array<[Record<string, unknown>, string | undefined]> = [];
    const logger = {
      debug: (obj: unknown, msg?: string) => void lines.push([obj as Record<string, unknown>, msg]),
      isLevelEnabled: (level: string) => level === 'debug',
    };
    const metrics = createMetrics({ runtime: false, maxSeries: 2, logger });
    for (const route of ['/a', '/b', '/c'])
      metrics.http.record({ method: 'GET', route }, 200, 0.01);
    await metrics.scrape();
    expect(lines.map(([, msg]) => msg)).toEqual([
      'metrics: series cap reached',
      'metrics: scraped',
    ]);
    expect(lines[0]?.[0]).toEqual({ metric: 'http_server_request_duration_seconds', maxSeries: 2 });
    expect(lines[1]?.[0]).toMatchObject({ format: 'prometheus', ok: true });
  });

  it('refuses null options', () => {
    const error = thrownBy(() => createMetrics(null as never));
    expect(MetricsErrors.METRICS_INVALID_OPTIONS.is(error)).toBe(true);
  });

  it('refuses a registry that already holds its metrics, leaving it as it was', async () => {
    const registry = new Registry();
    createMetrics({ registry, runtime: false });
    const before = await registry.metrics();
    const error = thrownBy(() => createMetrics({ registry, runtime: false }));
    expect(MetricsErrors.METRICS_NAME_CONFLICT.is(error)).toBe(true);
    expect(await registry.metrics()).toBe(before);
  });

  it('answers a failing collector with a 500 problem, without internals', async () => {
    const metrics = createMetrics({ runtime: false });
    new Gauge({
      name: 'broken',
      help: 'throws on collect',
      registers: [metrics.registry],
      collect() {
        throw new Error('secret database password in message');
      },
    });
    const response = await scrape(metrics);
    expect(response.status).toBe(500);
    expect(response.headers?.['content-type']).toBe('application/problem+json');
    const problem = response.body as Record<string, unknown>;
    expect(problem.code).toBe('METRICS_SCRAPE_FAILED');
    expect(JSON.stringify(problem)).not.toContain('secret');

    const result = await metrics.scrape();
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(isProdError(result.error, 'METRICS_SCRAPE_FAILED')).toBe(true);
      expect((result.error.cause as Error).message).toContain('secret');
    }
  });

  it('lets users add their own metrics to the registry and serves them', async () => {
    const metrics = createMetrics({ runtime: false });
    const gauge = new Gauge({ name: 'queue_depth', help: 'jobs', registers: [metrics.registry] });
    gauge.set(7);
    const families = parseExposition((await scrape(metrics)).body as string);
    expect(families.get('queue_depth')?.samples[0]?.value).toBe(7);
  });
});
