import cluster from 'node:cluster';
import {
  err,
  type HttpResponse,
  ok,
  PROBLEM_CONTENT_TYPE,
  type Result,
  type Route,
} from '@prod/core';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Metrics } from './create-metrics.js';
import { MetricsErrors } from './errors.js';
import type { Exposition } from './internal/render.js';
import { check, checkPath } from './internal/validate.js';

/** How {@link clusterMetrics} serves the aggregate. */
export interface ClusterMetricsOptions {
  /** Path of the exposition route. Default `'/metrics'`. */
  readonly path?: string;
  /**
   * Give up on workers after this many milliseconds. Default 4000 (prom-client itself gives
   * up after 5000).
   */
  readonly timeoutMs?: number;
}

/** The primary's view of every worker's metrics. */
export interface ClusterMetrics {
  /** `GET <path>`: the aggregated exposition, as a neutral route. */
  readonly route: Route;
  /**
   * Asks every connected worker for its metrics and aggregates them (counters and histograms
   * summed, gauges by their aggregator: sum by default, average for event-loop lag and
   * utilization, first for version info). Prometheus text format, without exemplars.
   *
   * @returns `Ok` with the exposition (an empty body when no worker is up), or `Err`
   * `METRICS_CLUSTER_UNAVAILABLE` when called outside the primary, a worker fails or the
   * workers do not all answer in time.
   */
  scrape(): Promise<Result<Exposition>>;
}

/**
 * In a cluster worker, makes these metrics answer the primary's aggregation requests.
 *
 * Call it once per worker, after `createMetrics`. prom-client keeps one list of registries per
 * process: the last call wins. Outside a worker it does nothing, so the same code runs in
 * single-process mode.
 *
 * Gotcha: a worker that never calls this makes every aggregated scrape wait for the timeout.
 *
 * @returns true in a worker, false elsewhere.
 */
export function shareWithCluster(
  metrics: Metrics | Registry | readonly (Metrics | Registry)[],
): boolean {
  if (!cluster.isWorker) return false;
  const list = Array.isArray(metrics) ? metrics : [metrics];
  const registries = list.map((item: Metrics | Registry) =>
    'registry' in item ? item.registry : item,
  );
  AggregatorRegistry.setRegistries(registries);
  // The constructor installs the worker's message listener (prometheus/client_js#501).
  new AggregatorRegistry();
  return true;
}

/**
 * In the cluster primary, serves the metrics of every worker aggregated into one exposition
 * (prom-client's AggregatorRegistry). Workers call {@link shareWithCluster}.
 *
 * @example
 * import cluster from 'node:cluster';
 * import http from 'node:http';
 * if (cluster.isPrimary) {
 *   const aggregate = clusterMetrics();
 *   http.createServer(async (req, res) => {
 *     const r = await aggregate.scrape();
 *     res.writeHead(r.ok ? 200 : 503, { 'content-type': r.ok ? r.value.contentType : 'text/plain' });
 *     res.end(r.ok ? r.value.body : r.error.message);
 *   }).listen(9464);
 * }
 */
export function clusterMetrics(options: ClusterMetricsOptions = {}): ClusterMetrics {
  const given = check.object<ClusterMetricsOptions>('options', options);
  const path = checkPath(given.path, '/metrics');
  const timeoutMs = check.duration('timeoutMs', given.timeoutMs, 4000, {
    min: 0,
    exclusiveMin: true,
  });
  const aggregator = cluster.isPrimary ? new AggregatorRegistry() : undefined;

  async function scrape(): Promise<Result<Exposition>> {
    if (aggregator === undefined) {
      return err(
        MetricsErrors.METRICS_CLUSTER_UNAVAILABLE('cluster metrics are served by the primary'),
      );
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('workers did not answer in time')), timeoutMs);
    });
    try {
      const body = await Promise.race([aggregator.clusterMetrics(), timeout]);
      return ok({ contentType: aggregator.contentType, body });
    } catch (cause) {
      return err(
        MetricsErrors.METRICS_CLUSTER_UNAVAILABLE({
          message: 'the workers did not all report their metrics',
          cause,
        }),
      );
    } finally {
      clearTimeout(timer);
    }
  }

  const route: Route = {
    method: 'GET',
    path,
    handler: async (): Promise<HttpResponse> => {
      const result = await scrape();
      if (!result.ok) {
        return {
          status: result.error.status,
          headers: { 'content-type': PROBLEM_CONTENT_TYPE, 'cache-control': 'no-store' },
          body: result.error.toProblem(),
        };
      }
      return {
        status: 200,
        headers: { 'content-type': result.value.contentType, 'cache-control': 'no-store' },
        body: result.value.body,
      };
    },
  };
  return { route, scrape };
}
