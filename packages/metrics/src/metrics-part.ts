import type { Part } from '@prod/core';
import type { Metrics } from './create-metrics.js';
import { check } from './internal/validate.js';

/** How {@link metricsPart} behaves. */
export interface MetricsPartOptions {
  /** Record the scrapes of the exposition route in the HTTP metrics too. Default false. */
  readonly recordScrapes?: boolean;
  /** Serve the exposition route. Default true (false: hooks only, e.g. a separate port). */
  readonly serveRoute?: boolean;
}

/**
 * The metrics part: the `GET /metrics` route and an `onResponse` hook recording
 * `http_server_request_duration_seconds` for every request, from the adapter's route
 * template (`request.route`), `info.status` and `info.durationMs`.
 *
 * A request that matched no route (`request.route` undefined) is recorded under the
 * `http_route` value `_unmatched` (see `http.unmatchedRoute`); a method outside the standard
 * set as `_OTHER`. Exemplars, when enabled, take the trace id of the current request context.
 *
 * @example
 * import express from 'express';
 * import { mountExpress } from '@prod/express';
 * const app = express();
 * const metrics = createMetrics();
 * mountExpress(app, { parts: [metricsPart(metrics)] }); // or @prod/fastify, @prod/koa
 */
export function metricsPart(metrics: Metrics, options: MetricsPartOptions = {}): Part {
  if (typeof (metrics as Partial<Metrics> | undefined)?.http?.record !== 'function') {
    check.fail('metrics', 'what createMetrics() returns', metrics);
  }
  const given = check.object<MetricsPartOptions>('options', options);
  const recordScrapes = check.boolean('recordScrapes', given.recordScrapes, false);
  const serveRoute = check.boolean('serveRoute', given.serveRoute, true);
  const path = metrics.path;
  const http = metrics.http;
  return {
    name: 'metrics',
    routes: serveRoute ? [metrics.route] : [],
    onResponse(request, info): void {
      if (!recordScrapes && request.route === path) return;
      const durationMs = info.durationMs;
      if (typeof durationMs !== 'number') return;
      try {
        http.record(request, info.status, durationMs / 1000);
      } catch {
        // A hook must not throw; record() only could through a broken custom registry.
      }
    },
  };
}
