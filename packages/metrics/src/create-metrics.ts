import { type HttpResponse, PROBLEM_CONTENT_TYPE, type Result, type Route } from '@prod/core';
import { Registry } from 'prom-client';
import {
  createHttpMetrics,
  HTTP_LABELS,
  HTTP_SERVER_DURATION_BUCKETS,
  type HttpMetrics,
  type HttpMetricsOptions,
} from './http-metrics.js';
import { debugEnabled, debugLoggerOption, type MetricsDebugLogger } from './internal/debug.js';
import { type Exposition, prefersOpenMetrics, renderMetrics } from './internal/render.js';
import { createTracker } from './internal/tracker.js';
import {
  check,
  checkBuckets,
  checkDefaultLabels,
  checkPath,
  checkPrefix,
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
  /**
   * Debug lines: `metrics: scraped` (format, bytes, durationMs) per scrape, and
   * `metrics: series cap reached` (metric, maxSeries) the first time a metric's series cap
   * sends a label set to the overflow series. A pino logger or `createLogger()` of
   * @prod/logger; with `isLevelEnabled`, a disabled line costs one level check. Default none.
   */
  readonly logger?: MetricsDebugLogger;
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
   * declare function findUser(id: string): Promise<Result<{ name: string }, ProdError>>;
   * const metrics = createMetrics();
   * const user = await metrics.track('db_user_lookup', () => findUser('u1'));
   */
  track<TReturn>(name: string, fn: () => TReturn): TReturn;
}

/**
 * Creates a metrics registry for one service: HTTP RED metrics with OpenTelemetry names and a
 * series cap, runtime metrics, a `track` helper and a `GET /metrics` route.
 *
 * Throws `METRICS_INVALID_OPTIONS` for bad options (the message names the option, what was
 * expected and what was found) and `METRICS_NAME_CONFLICT` when the given
 * registry already holds these metrics (create one `Metrics` per registry).
 *
 * @example
 * const metrics = createMetrics({ prefix: 'notes_', defaultLabels: { service: 'notes' } });
 * const part = metricsPart(metrics); // mount it with @prod/express, @prod/fastify or @prod/koa
 */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const given = check.object<MetricsOptions>('options', options);
  const registry = given.registry ?? new Registry();
  if (
    typeof registry !== 'object' ||
    registry === null ||
    typeof registry.metrics !== 'function' ||
    typeof registry.registerMetric !== 'function'
  ) {
    check.fail('registry', 'a prom-client Registry', registry);
  }
  const prefix = checkPrefix(given.prefix);
  const defaultLabels = checkDefaultLabels(given.defaultLabels, [
    ...HTTP_LABELS,
    'outcome',
    'code',
    'metric',
  ]);
  const path = checkPath(given.path, '/metrics');
  const exemplars = check.boolean('exemplars', given.exemplars, false);
  const maxSeries = check.integer('maxSeries', given.maxSeries, 1000, { min: 2, max: 1_000_000 });
  const trackBuckets = checkBuckets(
    given.trackBuckets,
    HTTP_SERVER_DURATION_BUCKETS,
    'trackBuckets',
  );
  const runtime = given.runtime ?? true;
  if (typeof runtime !== 'boolean') check.object('runtime', runtime);
  const logger = debugLoggerOption(given.logger);

  if (defaultLabels !== undefined) registry.setDefaultLabels({ ...defaultLabels });
  const http = createHttpMetrics(registry, {
    ...check.object<MetricsOptions['http'] & object>('http', given.http),
    prefix,
    maxSeries,
    exemplars,
    ...(logger === undefined ? {} : { logger }),
  });
  if (runtime !== false) {
    registerRuntimeMetrics(registry, { ...(runtime === true ? {} : runtime), prefix });
  }
  const track = createTracker({
    registry,
    prefix,
    buckets: trackBuckets,
    maxSeries,
    exemplars,
    logger,
  });

  const scrape = async (accept?: string): Promise<Result<Exposition>> => {
    if (!debugEnabled(logger))
      return renderMetrics(registry, exemplars && prefersOpenMetrics(accept));
    const started = performance.now();
    const openMetrics = exemplars && prefersOpenMetrics(accept);
    const result = await renderMetrics(registry, openMetrics);
    logger.debug(
      {
        format: openMetrics ? 'openmetrics' : 'prometheus',
        ok: result.ok,
        bytes: result.ok ? Buffer.byteLength(result.value.body) : undefined,
        durationMs: Math.round((performance.now() - started) * 1000) / 1000,
      },
      'metrics: scraped',
    );
    return result;
  };

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
