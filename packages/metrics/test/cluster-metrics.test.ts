import cluster, { type Worker } from 'node:cluster';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterMetrics, createMetrics, shareWithCluster } from '@prod/metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition, promtoolCheck, sampleValue } from './support/exposition.js';
import { fakeRequest } from './support/requests.js';

const here = dirname(fileURLToPath(import.meta.url));
const METRIC = 'http_server_request_duration_seconds';
const WORKERS = 2;

describe('cluster aggregation (real node:cluster workers)', () => {
  const workers: Worker[] = [];
  const ready: { shared: boolean; workerScrape: string }[] = [];

  beforeAll(async () => {
    cluster.setupPrimary({
      exec: join(here, 'fixtures/cluster-worker.ts'),
      execArgv: ['--conditions=@prod/source', '--import', 'tsx'],
      silent: true,
    });
    await Promise.all(
      Array.from({ length: WORKERS }, () => {
        const worker = cluster.fork();
        workers.push(worker);
        return new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('worker did not start')), 20_000);
          worker.on(
            'message',
            (message: { type?: string; shared: boolean; workerScrape: string }) => {
              if (message.type !== 'ready') return;
              clearTimeout(timer);
              ready.push(message);
              resolve();
            },
          );
          worker.on('exit', (code) => reject(new Error(`worker exited with ${code}`)));
        });
      }),
    );
  }, 30_000);

  afterAll(async () => {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) {
              resolve();
              return;
            }
            worker.once('exit', () => resolve());
            worker.kill();
          }),
      ),
    );
  });

  it('sums the workers HTTP histograms and counters into one exposition', async () => {
    expect(ready.map((r) => r.shared)).toEqual([true, true]);
    const aggregate = clusterMetrics();
    const response = await aggregate.route.handler(fakeRequest({ route: '/metrics' }));
    expect(response.status).toBe(200);
    expect(response.headers?.['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const body = response.body as string;
    expect(promtoolCheck(body) ?? []).toEqual([]);
    const families = parseExposition(body);
    const labels = {
      service: 'cluster-test',
      http_request_method: 'GET',
      http_route: '/notes/:id',
      http_response_status_code: '200',
    };
    expect(sampleValue(families, METRIC, `${METRIC}_count`, labels)).toBe(3 * WORKERS);
    expect(sampleValue(families, METRIC, `${METRIC}_sum`, labels)).toBeCloseTo(0.06 * WORKERS, 6);
    expect(sampleValue(families, METRIC, `${METRIC}_bucket`, { ...labels, le: '0.025' })).toBe(
      3 * WORKERS,
    );
    expect(
      sampleValue(families, 'job_duration_seconds', 'job_duration_seconds_count', {
        outcome: 'ok',
      }),
    ).toBe(WORKERS);
    // Runtime gauges come through once, by their aggregator.
    const elu = families.get('nodejs_eventloop_utilization_ratio')?.samples;
    expect(elu).toHaveLength(1);
    expect(families.get('nodejs_version_info')?.samples).toHaveLength(1);
  });

  it('refuses to aggregate from inside a worker', () => {
    expect(ready.map((r) => r.workerScrape)).toEqual([
      'METRICS_CLUSTER_UNAVAILABLE',
      'METRICS_CLUSTER_UNAVAILABLE',
    ]);
  });

  it('returns METRICS_CLUSTER_UNAVAILABLE when a worker does not answer in time', async () => {
    const silent = cluster.fork({ PROD_METRICS_SILENT: '1' });
    workers.push(silent);
    await new Promise<void>((resolve) =>
      silent.on('message', (message: { type?: string }) => {
        if (message.type === 'ready') resolve();
      }),
    );
    const result = await clusterMetrics({ timeoutMs: 300 }).scrape();
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('METRICS_CLUSTER_UNAVAILABLE');
    silent.kill();
  });

  it('is a no-op outside a worker', () => {
    expect(shareWithCluster(createMetrics({ runtime: false }))).toBe(false);
  });
});
