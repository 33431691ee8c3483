import { type HttpResponse, PROBLEM_CONTENT_TYPE, type Result, type Route } from '@prod/core';
import { Registry } from 'prom-client';
import {
  createHttpMetrics,
  HTTP_LABELS,
  HTTP_SERVER_DURATION_BUCKETS,
  type HttpMetrics,
  type HttpMetricsOptions,
} from './http-metrics.js';
import { type Exposition, prefersOpenMetrics, renderMetrics } from './internal/render.js';
import { createTracker } from './internal/tracker.js';
import {
  checkBuckets,
  checkDefaultLabels,
  checkInteger,
  checkPrefix,
  expectOption,
} from './internal/validate.js';
import { type RuntimeMetricsOptions, registerRuntimeMetrics } from './runtime-metrics.js';

/** How {@link createMetrics} sets up a registry. Every field is optional. */
export interface MetricsOptions {
  /**
   * The prom-client registry to fill. Default: a new one. The global `register` is used only
   * if passed here explicitly.
   */
  readonly registry?: Registry;
  /** Prepended to every metric name (`myapp_`). Default `''`. */
  readonly prefix?: string;
  /** Labels added to every series (`{ service: 'notes' }`); set on the registry. */
  readonly defaultLabels?: Readonly<Record<string, string>>;
  /** Path of the exposition route. Default `'/metrics'`. */
  readonly path?: string;
  /**
   * Attach `trace_id` (and `span_id`) exemplars, from the @prod/core request context, to the
   * HTTP and `track` histograms, and answer scrapes that accept it in OpenMetrics (the only
   * format that carries exemplars). Default false.
   */
  readonly exemplars?: boolean;
  /** Hard cap on label sets per metric, the overflow set included. Default 1000. */
  readonly maxSeries?: number;
  /** Runtime and process metrics: `false` to leave them out. Default true. */
  readonly runtime?: boolean | Omit<RuntimeMetricsOptions, 'prefix'>;
  /** HTTP metric options beyond the shared ones above. */
  readonly http?: Pick<HttpMetricsOptions, 'buckets' | 'unmatchedRoute' | 'maxRouteLength'>;
  /** Buckets (seconds) of the `track` histograms. Default the HTTP buckets. */
  readonly trackBuckets?: readonly number[];
}

/** A registry with HTTP RED metrics, runtime metrics, `track` and an exposition route. */
export interface Metrics {
  /** The prom-client registry: register your own metrics on it. */
  readonly registry: Registry;
  /** The prefix of every metric name. */
  readonly prefix: string;
  /** The path of {@link Metrics.route}. */
  readonly path: string;
  /** Whether exemplars are recorded (and OpenMetrics offered). */
  readonly exemplars: boolean;
  /** `http_server_request_duration_seconds`. */
  readonly http: HttpMetrics;
  /** `GET <path>`: the exposition, as a neutral route any adapter mounts. */
  readonly route: Route;
  /**
   * Renders the registry. OpenMetrics when exemplars are on and `accept` prefers it, else the
   * Prometheus text format 0.0.4.
   *
   * @returns `Ok` with body and content type, or `Err` `METRICS_SCRAPE_FAILED` when a
   * collector throws.
   */
  scrape(accept?: string): Promise<Result<Exposition>>;
  /**
   * Runs `fn` and records `<prefix><name>_duration_seconds{outcome}` and, when it fails,
   * `<prefix><name>_errors_total{code}`. A thrown error counts with `ProdError.from(e).code`
   * and is rethrown; a returned (or resolved) `Err` counts with its error's code. Works with
   * sync and async functions and returns what `fn` returns.
   *
   * Throws `METRICS_INVALID_NAME` for a name that is not a metric name, and
   * `METRICS_NAME_CONFLICT` when the derived names are taken by other metrics.
   *
   * @example
   * const user = await metrics.track('db_user_lookup', () => findUser(id));
   */
  track<TReturn>(name: string, fn: () => TReturn): TReturn;
}

/**
 * Creates a metrics registry for one service: HTTP RED metrics with OpenTelemetry names and a
 * series cap, runtime metrics, a `track` helper and a `GET /metrics` route.
 *
 * Throws `METRICS_INVALID_OPTIONS` for bad options and `METRICS_NAME_CONFLICT` when the given
 * registry already holds these metrics (create one `Metrics` per registry).
 *
 * @example
 * const metrics = createMetrics({ prefix: 'notes_', defaultLabels: { service: 'notes' } });
 * const part = metricsPart(metrics); // mount it with @prod/express, @prod/fastify or @prod/koa
 */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  expectOption(
    typeof options === 'object' && options !== null,
    'createMetrics options must be an object',
  );
  const registry = options.registry ?? new Registry();
  expectOption(
    typeof registry === 'object' &&
      registry !== null &&
      typeof registry.metrics === 'function' &&
      typeof registry.registerMetric === 'function',
    'registry must be a prom-client Registry',
  );
  const prefix = checkPrefix(options.prefix);
  const defaultLabels = checkDefaultLabels(options.defaultLabels, [
    ...HTTP_LABELS,
    'outcome',
    'code',
    'metric',
  ]);
  const path = options.path ?? '/metrics';
  expectOption(
    typeof path === 'string' && path.startsWith('/') && path.length <= 256,
    'path must start with "/"',
  );
  const exemplars = options.exemplars === true;
  const maxSeries = checkInteger(options.maxSeries ?? 1000, 'maxSeries', 2, 1_000_000);
  const trackBuckets = checkBuckets(options.trackBuckets, HTTP_SERVER_DURATION_BUCKETS);
  const runtime = options.runtime ?? true;

  if (defaultLabels !== undefined) registry.setDefaultLabels({ ...defaultLabels });
  const http = createHttpMetrics(registry, {
    ...options.http,
    prefix,
    maxSeries,
    exemplars,
  });
  if (runtime !== false) {
    registerRuntimeMetrics(registry, { ...(runtime === true ? {} : runtime), prefix });
  }
  const track = createTracker({ registry, prefix, buckets: trackBuckets, maxSeries, exemplars });

  const scrape = (accept?: string): Promise<Result<Exposition>> =>
    renderMetrics(registry, exemplars && prefersOpenMetrics(accept));

  const route: Route = {
    method: 'GET',
    path,
    handler: async (request): Promise<HttpResponse> => {
      const result = await scrape(request.headers.accept);
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

  return { registry, prefix, path, exemplars, http, route, scrape, track };
}
