import { type HttpRequest, KNOWN_HTTP_METHODS } from '@prod/core';
import { Histogram, type Registry } from 'prom-client';
import { MetricsErrors } from './errors.js';
import { capReachedOnce, debugLoggerOption, type MetricsDebugLogger } from './internal/debug.js';
import { contextExemplar } from './internal/exemplar.js';
import { OVERFLOW_COUNTER, overflowCounter } from './internal/overflow-counter.js';
import { check, checkBuckets, checkPrefix } from './internal/validate.js';
import { SeriesCap } from './series-cap.js';

/**
 * The bucket boundaries (seconds) OpenTelemetry recommends for `http.server.request.duration`.
 */
export const HTTP_SERVER_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
]);

/** The label names of the HTTP duration histogram (OpenTelemetry attribute names). */
export const HTTP_LABELS = [
  'http_request_method',
  'http_route',
  'http_response_status_code',
] as const;

/** One label name of the HTTP duration histogram. */
export type HttpLabel = (typeof HTTP_LABELS)[number];

/** How {@link createHttpMetrics} names, buckets and bounds the HTTP metric. */
export interface HttpMetricsOptions {
  /** Prepended to the metric name. Default `''`. */
  readonly prefix?: string;
  /** Histogram buckets in seconds. Default {@link HTTP_SERVER_DURATION_BUCKETS}. */
  readonly buckets?: readonly number[];
  /**
   * Hard cap on label sets (series) of the histogram, the overflow set included. Default
   * 1000. Past it, new label sets are recorded on one series whose every label is
   * `_overflow`, and `metrics_series_overflow_total{metric=...}` counts them.
   */
  readonly maxSeries?: number;
  /** The `http_route` of requests that matched no route. Default `'_unmatched'`. */
  readonly unmatchedRoute?: string;
  /** Routes longer than this go to the overflow series. Default 256. */
  readonly maxRouteLength?: number;
  /** Attach `trace_id` / `span_id` exemplars from the request context. Default false. */
  readonly exemplars?: boolean;
  /**
   * Debug line `metrics: series cap reached` (metric, maxSeries) the first time a label set
   * goes to the overflow series. Default none.
   */
  readonly logger?: MetricsDebugLogger;
}

/** What the HTTP part needs from a request: its method and matched route template. */
export type HttpRequestLabels = Pick<HttpRequest, 'method' | 'route'>;

/** The HTTP RED metric: `http_server_request_duration_seconds`. */
export interface HttpMetrics {
  /** The full metric name (prefix included). */
  readonly name: string;
  /** The prom-client histogram, for tests and custom reads. */
  readonly histogram: Histogram<HttpLabel>;
  /** Label sets in use, the overflow set included. Never above `maxSeries`. */
  readonly series: number;
  /**
   * Records one finished request. Never throws for any method, route, status or duration
   * value: a non-finite or negative duration is ignored, an unknown method becomes `_OTHER`, a missing route the unmatched label, a
   * status outside 100-599 `_OTHER`.
   */
  record(request: HttpRequestLabels, status: number, durationSeconds: number): void;
  /** Zeroes the histogram and forgets the admitted series. */
  reset(): void;
}

/** The label value of every label of the overflow series. */
export const OVERFLOW_LABEL = '_overflow';
const OTHER = '_OTHER';
const METRIC = 'http_server_request_duration_seconds';

// Label strings built once: a request must not allocate one. Slot 0 of the status table
// stands for any status outside 100-599, recorded as `_OTHER`.
const STATUS_SLOTS = 600;
const STATUS_LABELS: (string | undefined)[] = [];
for (let code = 100; code < STATUS_SLOTS; code++) STATUS_LABELS[code] = String(code);
const METHOD_LABELS: readonly string[] = [...KNOWN_HTTP_METHODS, OTHER];
const OTHER_METHOD_INDEX = METHOD_LABELS.length - 1;
const METHOD_INDEX: ReadonlyMap<unknown, number> = new Map(
  [...KNOWN_HTTP_METHODS].map((method, index) => [method, index]),
);

interface Series {
  readonly labels: Record<HttpLabel, string>;
  readonly observe: (value: number) => void;
}

/**
 * Creates `http_server_request_duration_seconds` (OpenTelemetry `http.server.request.duration`
 * translated to Prometheus) on `registry`, labelled by method, route template and status,
 * with a hard series cap.
 *
 * Label values come from the route template only, never from the raw path: an adapter that
 * could not match a route passes `route: undefined`, which is recorded as one value.
 *
 * @example
 * import { Registry } from 'prom-client';
 * const http = createHttpMetrics(new Registry());
 * http.record({ method: 'GET', route: '/notes/:id' }, 200, 0.012);
 */
export function createHttpMetrics(
  registry: Registry,
  options: HttpMetricsOptions = {},
): HttpMetrics {
  const given = check.object<HttpMetricsOptions>('options', options);
  const prefix = checkPrefix(given.prefix);
  const buckets = checkBuckets(given.buckets, HTTP_SERVER_DURATION_BUCKETS, 'buckets');
  const maxSeries = check.integer('maxSeries', given.maxSeries, 1000, { min: 2, max: 1_000_000 });
  const maxRouteLength = check.integer('maxRouteLength', given.maxRouteLength, 256, {
    min: 1,
    max: 8192,
  });
  const unmatched = check.string('unmatchedRoute', given.unmatchedRoute, '_unmatched', {
    nonEmpty: true,
  });
  if (unmatched.length > 256) {
    check.fail('unmatchedRoute', 'a non-empty string of at most 256 characters', unmatched);
  }
  const exemplars = check.boolean('exemplars', given.exemplars, false);
  const name = prefix + METRIC;
  const capReached = capReachedOnce(debugLoggerOption(given.logger), name, maxSeries);

  let histogram: Histogram<HttpLabel>;
  try {
    histogram = new Histogram({
      name,
      help: 'Duration of HTTP server requests (OpenTelemetry http.server.request.duration).',
      labelNames: HTTP_LABELS,
      buckets,
      enableExemplars: exemplars,
      // Registered by hand: prom-client refuses exemplar metrics on a registry whose content
      // type is the classic text format, but our scrape renders either format on demand.
      registers: [],
    });
    registry.registerMetric(histogram);
  } catch (cause) {
    throw MetricsErrors.METRICS_NAME_CONFLICT({
      message: `${name} is already registered on this registry`,
      cause,
      expose: false,
    });
  }
  const overflowed = overflowCounter(registry, prefix);
  overflowed.inc({ metric: name }, 0);
  const overflowChild = overflowed.labels(name);

  const makeSeries = (labels: Record<HttpLabel, string>): Series => ({
    labels,
    observe: histogram.labels(labels).observe,
  });
  const cap = new SeriesCap<Series>({
    maxSeries,
    overflow: () =>
      makeSeries({
        http_request_method: OVERFLOW_LABEL,
        http_route: OVERFLOW_LABEL,
        http_response_status_code: OVERFLOW_LABEL,
      }),
    onOverflow: () => {
      overflowChild.inc();
      capReached();
    },
  });

  // One route map per (method, status) slot: a request builds no key string, and route
  // template strings, reused by the adapter, keep their cached hash.
  // Pre-filled so that V8 keeps it a fast packed array rather than a sparse dictionary.
  const slots: (Map<string, Series> | undefined)[] = new Array(
    METHOD_LABELS.length * STATUS_SLOTS,
  ).fill(undefined);

  function lookup(methodIndex: number, status: number, route: string): Series {
    const slot = methodIndex * STATUS_SLOTS + status;
    const routes = slots[slot];
    const found = routes?.get(route);
    if (found !== undefined) return found;
    if (route.length > maxRouteLength || cap.full) return cap.overflow();
    const method = METHOD_LABELS[methodIndex] as string;
    const statusLabel = STATUS_LABELS[status] ?? OTHER;
    const series = cap.add(
      `${method} ${statusLabel} ${route}`,
      makeSeries({
        http_request_method: method,
        http_route: route,
        http_response_status_code: statusLabel,
      }),
    );
    if (routes === undefined) slots[slot] = new Map([[route, series]]);
    else routes.set(route, series);
    return series;
  }

  return {
    name,
    histogram,
    get series(): number {
      return cap.size;
    },
    record(request, status, durationSeconds): void {
      if (!(durationSeconds >= 0) || durationSeconds === Number.POSITIVE_INFINITY) return;
      const methodIndex = METHOD_INDEX.get(request.method) ?? OTHER_METHOD_INDEX;
      const statusIndex =
        typeof status === 'number' && STATUS_LABELS[status] !== undefined ? status : 0;
      const rawRoute = request.route;
      const route = typeof rawRoute === 'string' && rawRoute !== '' ? rawRoute : unmatched;
      const series = lookup(methodIndex, statusIndex, route);
      if (exemplars) {
        const exemplarLabels = contextExemplar();
        if (exemplarLabels !== undefined) {
          histogram.observe({
            labels: series.labels,
            value: durationSeconds,
            exemplarLabels: exemplarLabels as unknown as Record<HttpLabel, string>,
          });
          return;
        }
      }
      series.observe(durationSeconds);
    },
    reset(): void {
      histogram.reset();
      slots.fill(undefined);
      cap.reset();
    },
  };
}

export { OVERFLOW_COUNTER };
