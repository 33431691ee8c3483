// The db.client.operation.duration histogram as a prom-client compatible collector: the hot
// path bumps plain numbers, prom-client reads them at scrape time. No prom-client import.
import { DbErrors } from '../errors.js';
import type { MetricsRegistryLike } from '../types.js';

/** Upper bounds (seconds): OpenTelemetry's advice for `db.client.operation.duration`. */
export const DB_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10,
]);

/** Label value standing for "too many distinct values" once the series cap is reached. */
export const OTHER = '_other';

/** One label set of the histogram: what a query's cached shape holds to observe without a lookup. */
export class Series {
  readonly counts = new Float64Array(DB_DURATION_BUCKETS.length + 1);
  sum = 0;
  count = 0;
  constructor(readonly labels: Readonly<Record<string, string>>) {}

  observe(seconds: number): void {
    let at = 0;
    while (at < DB_DURATION_BUCKETS.length && seconds > (DB_DURATION_BUCKETS[at] as number))
      at += 1;
    this.counts[at] = (this.counts[at] ?? 0) + 1;
    this.sum += seconds;
    this.count += 1;
  }
}

/** One histogram, shared by every instrumented client reporting to one registry and prefix. */
export class DurationHistogram {
  private readonly series = new Map<string, Series>();

  constructor(
    readonly name: string,
    private readonly maxSeries: number,
  ) {}

  observe(
    system: string,
    operation: string,
    table: string,
    errorType: string,
    seconds: number,
  ): void {
    this.seriesOf(system, operation, table, errorType).observe(seconds);
  }

  /**
   * The series these labels land in, created on first use; once `maxSeries` label sets
   * exist, new tables (and error types) fold into `_other`. A series never goes away, so a
   * handle stays the right one for its labels.
   */
  seriesOf(system: string, operation: string, table: string, errorType: string): Series {
    let key = `${operation}\u0000${table}\u0000${errorType}`;
    let series = this.series.get(key);
    if (series === undefined) {
      if (this.series.size >= this.maxSeries) {
        key = `${operation}\u0000${OTHER}\u0000${errorType === '' ? '' : OTHER}`;
        series = this.series.get(key);
      }
      if (series === undefined) {
        const capped = this.series.size >= this.maxSeries;
        const labels: Record<string, string> = {
          db_system_name: system,
          db_operation_name: operation,
        };
        const collection = capped ? OTHER : table;
        if (collection !== '') labels.db_collection_name = collection;
        const error = capped && errorType !== '' ? OTHER : errorType;
        if (error !== '') labels.error_type = error;
        series = new Series(labels);
        this.series.set(key, series);
      }
    }
    return series;
  }

  values(): Array<{ value: number; labels: Record<string, string | number>; metricName: string }> {
    const out: Array<{
      value: number;
      labels: Record<string, string | number>;
      metricName: string;
    }> = [];
    for (const series of this.series.values()) {
      let cumulative = 0;
      DB_DURATION_BUCKETS.forEach((bound, at) => {
        cumulative += series.counts[at] ?? 0;
        out.push({
          value: cumulative,
          labels: { ...series.labels, le: bound },
          metricName: `${this.name}_bucket`,
        });
      });
      out.push({
        value: series.count,
        labels: { ...series.labels, le: '+Inf' },
        metricName: `${this.name}_bucket`,
      });
      out.push({ value: series.sum, labels: { ...series.labels }, metricName: `${this.name}_sum` });
      out.push({
        value: series.count,
        labels: { ...series.labels },
        metricName: `${this.name}_count`,
      });
    }
    return out;
  }
}

const BRAND = Symbol.for('@prod/db/duration-histogram');
const PREFIX = /^(?:[a-zA-Z_:][a-zA-Z0-9_:]*)?$/;

/**
 * The histogram registered on `registry` under `prefix`: the first caller registers it, the
 * next ones share it. Throws `DB_INVALID_OPTIONS` for a bad registry or prefix, or when
 * another metric already has the name.
 */
export function durationHistogram(
  registry: MetricsRegistryLike,
  prefix: string,
  maxSeries: number,
): DurationHistogram {
  if (
    typeof registry !== 'object' ||
    registry === null ||
    typeof registry.registerMetric !== 'function' ||
    typeof registry.getSingleMetric !== 'function'
  ) {
    throw DbErrors.DB_INVALID_OPTIONS({
      message: 'option metrics.registry must be a prom-client Registry',
      details: { option: 'metrics.registry' },
    });
  }
  if (typeof prefix !== 'string' || !PREFIX.test(prefix)) {
    throw DbErrors.DB_INVALID_OPTIONS({
      message: 'option metrics.prefix must be a metric name prefix (letters, digits, _ and :)',
      details: { option: 'metrics.prefix' },
    });
  }
  const name = `${prefix}db_client_operation_duration_seconds`;
  const existing = registry.getSingleMetric(name) as { [BRAND]?: DurationHistogram } | undefined;
  if (existing !== undefined) {
    const shared = existing[BRAND];
    if (shared === undefined) {
      throw DbErrors.DB_INVALID_OPTIONS({
        message: `option metrics: the registry already has a metric named ${name}`,
        details: { option: 'metrics', metric: name },
      });
    }
    return shared;
  }
  const histogram = new DurationHistogram(name, maxSeries);
  const help =
    'Duration of database client operations, by operation and table (OpenTelemetry db.client.operation.duration).';
  const collector = {
    [BRAND]: histogram,
    name,
    help,
    type: 'histogram' as const,
    aggregator: 'sum' as const,
    async get() {
      return {
        name,
        help,
        type: 'histogram' as const,
        aggregator: 'sum' as const,
        values: histogram.values(),
      };
    },
    reset() {},
  };
  registry.registerMetric(collector as never);
  return histogram;
}
