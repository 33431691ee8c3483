import { runWithContext } from '@prod/core';
import { createMetrics, type Metrics, metricsPart } from '@prod/metrics';
import { Counter } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parseExposition, promtoolCheck, seriesOf } from './support/exposition.js';
import { fakeRequest } from './support/requests.js';

const METRIC = 'http_server_request_duration_seconds';
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
// What Prometheus 2.x sends when exemplar storage is on.
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';

function recordIn(metrics: Metrics, traceId: unknown, durationMs: number, spanId?: unknown): void {
  const context = { requestId: 'r1', traceId, spanId } as never;
  runWithContext(context, () =>
    metricsPart(metrics).onResponse?.(fakeRequest({ route: '/notes/:id' }), {
      status: 200,
      durationMs,
    }),
  );
}

async function scrapeWith(metrics: Metrics, accept?: string) {
  return metrics.route.handler(
    fakeRequest({ route: '/metrics', headers: accept === undefined ? {} : { accept } }),
  );
}

describe('exemplars', () => {
  it('carries the trace id of the request context, in OpenMetrics', async () => {
    const metrics = createMetrics({ runtime: false, exemplars: true });
    recordIn(metrics, TRACE, 30, SPAN);
    const response = await scrapeWith(metrics, PROMETHEUS_ACCEPT);
    expect(response.status).toBe(200);
    expect(response.headers?.['content-type']).toBe(
      'application/openmetrics-text; version=1.0.0; charset=utf-8',
    );
    const families = parseExposition(response.body as string, true);
    const withExemplar = families
      .get(METRIC)
      ?.samples.filter((sample) => sample.exemplar !== undefined);
    expect(withExemplar).toHaveLength(1);
    expect(withExemplar?.[0]?.labels.le).toBe('0.05');
    expect(withExemplar?.[0]?.exemplar).toEqual({
      labels: { trace_id: TRACE, span_id: SPAN },
      value: 0.03,
    });
  });

  it('answers the classic text format (no exemplars) to scrapers that do not ask', async () => {
    const metrics = createMetrics({ runtime: false, exemplars: true });
    recordIn(metrics, TRACE, 30);
    for (const accept of [undefined, 'text/plain', 'application/openmetrics-text;q=0,text/plain']) {
      const response = await scrapeWith(metrics, accept);
      expect(response.headers?.['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
      const body = response.body as string;
      expect(body).not.toContain(TRACE);
      expect(promtoolCheck(body) ?? []).toEqual([]);
      expect(parseExposition(body).get(METRIC)?.samples.length).toBeGreaterThan(0);
    }
  });

  it('keeps counters named *_total in the text format after an OpenMetrics scrape', async () => {
    const metrics = createMetrics({ runtime: false, exemplars: true });
    const jobs = new Counter({ name: 'jobs_total', help: 'jobs', registers: [metrics.registry] });
    jobs.inc(3);
    const open = parseExposition(
      (await scrapeWith(metrics, PROMETHEUS_ACCEPT)).body as string,
      true,
    );
    expect(open.get('jobs')?.samples[0]).toMatchObject({ name: 'jobs_total', value: 3 });
    const text = (await scrapeWith(metrics)).body as string;
    expect(parseExposition(text).get('jobs_total')?.samples[0]?.value).toBe(3);
    expect(promtoolCheck(text) ?? []).toEqual([]);
  });

  it.each([
    ['missing', undefined],
    ['too long', 'a'.repeat(200)],
    ['not hex', 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz'],
    ['all zeros', '0'.repeat(32)],
    ['not a string', 42],
  ])('records without an exemplar when the trace id is %s', async (_name, traceId) => {
    const metrics = createMetrics({ runtime: false, exemplars: true });
    expect(() => recordIn(metrics, traceId, 10, 'x'.repeat(500))).not.toThrow();
    const families = parseExposition(
      (await scrapeWith(metrics, PROMETHEUS_ACCEPT)).body as string,
      true,
    );
    const samples = families.get(METRIC)?.samples ?? [];
    expect(samples.some((sample) => sample.exemplar !== undefined)).toBe(false);
    expect(samples.find((sample) => sample.name === `${METRIC}_count`)?.value).toBe(1);
  });

  it('drops an invalid span id but keeps the trace id', async () => {
    const metrics = createMetrics({ runtime: false, exemplars: true });
    recordIn(metrics, TRACE, 10, 'not-a-span');
    const families = parseExposition(
      (await scrapeWith(metrics, PROMETHEUS_ACCEPT)).body as string,
      true,
    );
    const exemplar = families.get(METRIC)?.samples.find((s) => s.exemplar)?.exemplar;
    expect(exemplar?.labels).toEqual({ trace_id: TRACE });
  });

  it('records no exemplar outside a request context', async () => {
    const metrics = createMetrics({ runtime: false, exemplars: true });
    metricsPart(metrics).onResponse?.(fakeRequest({ route: '/a' }), { status: 200, durationMs: 1 });
    const body = (await scrapeWith(metrics, PROMETHEUS_ACCEPT)).body as string;
    expect(
      parseExposition(body, true)
        .get(METRIC)
        ?.samples.some((s) => s.exemplar),
    ).toBe(false);
  });

  it('serves the text format even to OpenMetrics scrapers when exemplars are off', async () => {
    const metrics = createMetrics({ runtime: false });
    recordIn(metrics, TRACE, 30);
    const response = await scrapeWith(metrics, PROMETHEUS_ACCEPT);
    expect(response.headers?.['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(response.body as string).not.toContain(TRACE);
  });

  it('keeps the series cap with exemplars on', async () => {
    const metrics = createMetrics({ runtime: false, exemplars: true, maxSeries: 5 });
    for (let i = 0; i < 100; i++) {
      runWithContext({ requestId: 'r', traceId: TRACE }, () =>
        metricsPart(metrics).onResponse?.(fakeRequest({ route: `/r${i}` }), {
          status: 200,
          durationMs: 1,
        }),
      );
    }
    const body = (await scrapeWith(metrics, PROMETHEUS_ACCEPT)).body as string;
    expect(seriesOf(parseExposition(body, true).get(METRIC))).toHaveLength(5);
  });

  it('keeps default labels in OpenMetrics', async () => {
    const metrics = createMetrics({
      runtime: false,
      exemplars: true,
      defaultLabels: { service: 'notes' },
    });
    recordIn(metrics, TRACE, 30);
    const body = (await scrapeWith(metrics, PROMETHEUS_ACCEPT)).body as string;
    for (const family of parseExposition(body, true).values()) {
      for (const sample of family.samples) expect(sample.labels.service).toBe('notes');
    }
  });
});
