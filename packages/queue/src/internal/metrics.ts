// The queue's metrics as prom-client compatible collectors (no prom-client import): the hot
// path bumps plain numbers, the job counts are read from the engine at scrape time.
import type { Result } from '@prod/core';
import { QueueErrors } from '../errors.js';
import type { JobCounts, MetricsRegistryLike, QueueError, QueueMetricsTarget } from '../types.js';

/** Upper bounds (seconds) of the processing-duration histogram. */
export const DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
]);

/** How one processing attempt ended, as the histogram's `outcome` label says it. */
export type ProcessOutcome = 'completed' | 'retried' | 'dead_lettered' | 'requeued';

const OTHER = '_other';
const MAX_CODES = 100;

class Histogram {
  readonly counts = new Float64Array(DURATION_BUCKETS.length + 1);
  sum = 0;
  count = 0;
  observe(seconds: number): void {
    let at = 0;
    while (at < DURATION_BUCKETS.length && seconds > (DURATION_BUCKETS[at] as number)) at += 1;
    this.counts[at] = (this.counts[at] ?? 0) + 1;
    this.sum += seconds;
    this.count += 1;
  }
}

/** The counters of one job name in one process. */
class JobSeries {
  enqueued = 0;
  retries = 0;
  readonly durations = new Map<ProcessOutcome, Histogram>();
  readonly deadByCode = new Map<string, number>();
}

/** What a queue shows to the collectors. */
export interface MetricsSource {
  /** Job names whose engine counts this source reads. */
  readonly jobs: readonly string[];
  counts(name: string): Promise<Result<JobCounts, QueueError>>;
}

type Value = { value: number; labels: Record<string, string | number>; metricName?: string };
type Kind = 'counter' | 'gauge' | 'histogram';

const BRAND = Symbol.for('@prod/queue/metrics');

/** Every queue reporting to one registry under one prefix shares one of these. */
export class QueueMetrics {
  private readonly series = new Map<string, JobSeries>();
  readonly sources = new Set<MetricsSource>();

  private of(job: string): JobSeries {
    let found = this.series.get(job);
    if (found === undefined) {
      found = new JobSeries();
      this.series.set(job, found);
    }
    return found;
  }

  enqueued(job: string, count: number): void {
    this.of(job).enqueued += count;
  }

  processed(job: string, outcome: ProcessOutcome, seconds: number, code?: string): void {
    const series = this.of(job);
    let histogram = series.durations.get(outcome);
    if (histogram === undefined) {
      histogram = new Histogram();
      series.durations.set(outcome, histogram);
    }
    histogram.observe(seconds);
    if (outcome === 'retried') series.retries += 1;
    if (outcome === 'dead_lettered' && code !== undefined) {
      const label =
        series.deadByCode.has(code) || series.deadByCode.size < MAX_CODES ? code : OTHER;
      series.deadByCode.set(label, (series.deadByCode.get(label) ?? 0) + 1);
    }
  }

  async gauges(): Promise<Value[]> {
    const seen = new Set<string>();
    const reads: Array<Promise<Value[]>> = [];
    for (const source of this.sources) {
      for (const job of source.jobs) {
        if (seen.has(job)) continue;
        seen.add(job);
        reads.push(
          source.counts(job).then((counts) =>
            counts.ok
              ? (Object.entries(counts.value) as Array<[string, number]>).map(([state, value]) => ({
                  value,
                  labels: { job, state },
                }))
              : [],
          ),
        );
      }
    }
    return (await Promise.all(reads)).flat();
  }

  counters(pick: (series: JobSeries) => number): Value[] {
    return [...this.series].map(([job, series]) => ({ value: pick(series), labels: { job } }));
  }

  deadLetters(): Value[] {
    const out: Value[] = [];
    for (const [job, series] of this.series) {
      for (const [code, value] of series.deadByCode) out.push({ value, labels: { job, code } });
    }
    return out;
  }

  histogram(name: string): Value[] {
    const out: Value[] = [];
    for (const [job, series] of this.series) {
      for (const [outcome, h] of series.durations) {
        const labels = { job, outcome };
        let cumulative = 0;
        DURATION_BUCKETS.forEach((bound, at) => {
          cumulative += h.counts[at] ?? 0;
          out.push({
            value: cumulative,
            labels: { ...labels, le: bound },
            metricName: `${name}_bucket`,
          });
        });
        out.push({
          value: h.count,
          labels: { ...labels, le: '+Inf' },
          metricName: `${name}_bucket`,
        });
        out.push({ value: h.sum, labels, metricName: `${name}_sum` });
        out.push({ value: h.count, labels, metricName: `${name}_count` });
      }
    }
    return out;
  }
}

const PREFIX = /^(?:[a-zA-Z_:][a-zA-Z0-9_:]*)?$/;

function invalid(message: string): never {
  throw QueueErrors.QUEUE_INVALID_OPTIONS({ message, details: { option: 'metrics' } });
}

/**
 * The metrics shared by every queue on `target.registry` under its prefix: the first queue
 * registers the collectors, the next ones share them. Throws `QUEUE_INVALID_OPTIONS` for a
 * bad registry or prefix, or a name another metric already has.
 */
export function queueMetrics(target: QueueMetricsTarget): QueueMetrics {
  if (typeof target !== 'object' || target === null) invalid('option metrics must be an object');
  const registry = target.registry as MetricsRegistryLike | undefined;
  if (
    typeof registry !== 'object' ||
    registry === null ||
    typeof registry.registerMetric !== 'function' ||
    typeof registry.getSingleMetric !== 'function'
  ) {
    invalid('option metrics.registry must be a prom-client Registry');
  }
  const prefix = target.prefix ?? '';
  if (typeof prefix !== 'string' || !PREFIX.test(prefix)) {
    invalid('option metrics.prefix must be a metric name prefix (letters, digits, _ and :)');
  }
  const first = `${prefix}queue_jobs`;
  const existing = registry.getSingleMetric(first) as { [BRAND]?: QueueMetrics } | undefined;
  if (existing !== undefined) {
    const shared = existing[BRAND];
    if (shared === undefined)
      invalid(`option metrics: the registry already has a metric named ${first}`);
    return shared;
  }
  const metrics = new QueueMetrics();
  const definitions: ReadonlyArray<[string, Kind, string, () => Value[] | Promise<Value[]>]> = [
    [
      'queue_jobs',
      'gauge',
      'Jobs in each state (waiting, active, delayed, failed: dead letters, completed: kept), by job name, read from the engine at scrape time.',
      () => metrics.gauges(),
    ],
    [
      'queue_jobs_enqueued_total',
      'counter',
      'Jobs enqueued by this process, by job name.',
      () => metrics.counters((s) => s.enqueued),
    ],
    [
      'queue_job_retries_total',
      'counter',
      'Failed attempts that were retried with backoff, by job name.',
      () => metrics.counters((s) => s.retries),
    ],
    [
      'queue_dead_letters_total',
      'counter',
      'Jobs this process moved to the dead letters, by job name and error code.',
      () => metrics.deadLetters(),
    ],
    [
      'queue_job_duration_seconds',
      'histogram',
      'Duration of processing attempts, by job name and outcome (completed, retried, dead_lettered, requeued).',
      () => metrics.histogram(`${prefix}queue_job_duration_seconds`),
    ],
  ];
  for (const [suffix, type, help, read] of definitions) {
    const name = `${prefix}${suffix}`;
    if (registry.getSingleMetric(name) !== undefined) {
      invalid(`option metrics: the registry already has a metric named ${name}`);
    }
    registry.registerMetric({
      [BRAND]: metrics,
      name,
      help,
      type,
      aggregator: 'sum',
      async get() {
        return { name, help, type, aggregator: 'sum', values: await read() };
      },
      reset() {},
    } as never);
  }
  return metrics;
}
