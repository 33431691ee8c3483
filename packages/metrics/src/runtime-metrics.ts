import { performance } from 'node:perf_hooks';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { MetricsErrors } from './errors.js';
import { check, checkBuckets, checkPrefix } from './internal/validate.js';

/** How {@link registerRuntimeMetrics} samples the runtime. */
export interface RuntimeMetricsOptions {
  /** Prepended to every runtime metric name. Default `''`. */
  readonly prefix?: string;
  /** Event-loop delay sampling resolution in milliseconds. Default 10. */
  readonly eventLoopMonitoringPrecision?: number;
  /** Buckets of `nodejs_gc_duration_seconds`. Default `[0.001, 0.01, 0.1, 1, 2, 5]`. */
  readonly gcDurationBuckets?: readonly number[];
}

const GC_BUCKETS: readonly number[] = [0.001, 0.01, 0.1, 1, 2, 5];
const ELU_METRIC = 'nodejs_eventloop_utilization_ratio';

/**
 * Registers the Node.js runtime and process metrics on `registry`: CPU
 * (`process_cpu_seconds_total`), memory (`process_resident_memory_bytes`,
 * `nodejs_heap_size_used_bytes`, heap spaces), open and max file descriptors (Linux),
 * event-loop lag (`nodejs_eventloop_lag_*`) and utilization
 * (`nodejs_eventloop_utilization_ratio`), GC pauses by kind (`nodejs_gc_duration_seconds`),
 * active handles and requests by type.
 *
 * prom-client's collectors do the work; its gauges named `*_total` (which
 * `promtool check metrics` rejects: a gauge must not end in `_total`) are left out, since
 * `sum(nodejs_active_handles)` gives the same number.
 *
 * Gotchas: prom-client's GC observer and event-loop delay monitor cannot be stopped; register
 * runtime metrics once per process.
 *
 * @returns the names of the metrics registered.
 */
export function registerRuntimeMetrics(
  registry: Registry,
  options: RuntimeMetricsOptions = {},
): string[] {
  const given = check.object<RuntimeMetricsOptions>('options', options);
  const prefix = checkPrefix(given.prefix);
  const precision = check.integer(
    'eventLoopMonitoringPrecision',
    given.eventLoopMonitoringPrecision,
    10,
    { min: 1, max: 10_000 },
  );
  const gcDurationBuckets = checkBuckets(given.gcDurationBuckets, GC_BUCKETS, 'gcDurationBuckets');

  // Collect into a scratch registry, then move over only what passes promtool.
  const scratch = new Registry();
  collectDefaultMetrics({
    register: scratch,
    prefix,
    eventLoopMonitoringPrecision: precision,
    gcDurationBuckets,
  });
  const kept = scratch
    .getMetricsAsArray()
    .filter((metric) => String(metric.type) === 'counter' || !metric.name.endsWith('_total'));
  const names = [...kept.map((metric) => metric.name), prefix + ELU_METRIC];
  // Check every name first so that a conflict leaves the registry untouched.
  const taken = names.find((name) => registry.getSingleMetric(name) !== undefined);
  if (taken !== undefined) {
    throw MetricsErrors.METRICS_NAME_CONFLICT({
      message: `${taken} is already registered on this registry`,
      expose: false,
    });
  }
  for (const metric of kept) registry.registerMetric(metric as never);
  let last = performance.eventLoopUtilization();
  new Gauge({
    name: prefix + ELU_METRIC,
    help: 'Share of time the event loop was busy since the previous scrape (0 to 1).',
    aggregator: 'average',
    registers: [registry],
    collect(): void {
      const now = performance.eventLoopUtilization();
      this.set(performance.eventLoopUtilization(now, last).utilization);
      last = now;
    },
  });
  return names;
}
