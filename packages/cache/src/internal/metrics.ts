import { CacheErrors } from '../errors.js';
import type { CacheMetricsTarget, MetricsRegistryLike } from '../types.js';

/** Loader outcomes the duration histogram is split by. */
export type LoadOutcome = 'ok' | 'error' | 'timeout';

/** Upper bounds (seconds) of the loader duration histogram. */
export const LOAD_BUCKETS: readonly number[] = Object.freeze([
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

/** One histogram series: bucket counts (not cumulative), sum and count. */
class Series {
  readonly counts = new Array<number>(LOAD_BUCKETS.length).fill(0);
  sum = 0;
  count = 0;
  observe(seconds: number): void {
    let at = 0;
    while (at < LOAD_BUCKETS.length && seconds > (LOAD_BUCKETS[at] ?? 0)) at += 1;
    if (at < this.counts.length) this.counts[at] = (this.counts[at] ?? 0) + 1;
    this.sum += seconds;
    this.count += 1;
  }
}

/** The counters of one cache: plain numbers bumped on the hot path, read at scrape time. */
export class Counters {
  l1Hits = 0;
  l1Misses = 0;
  l2Hits = 0;
  l2Misses = 0;
  l2Skipped = 0;
  readonly l2Errors = new Map<string, number>();
  loads = 0;
  loadErrors = 0;
  loadTimeouts = 0;
  coalesced = 0;
  staleSwr = 0;
  staleGrace = 0;
  staleTimeout = 0;
  busReceived = 0;
  readonly durations: Record<LoadOutcome, Series> = {
    ok: new Series(),
    error: new Series(),
    timeout: new Series(),
  };

  l2Error(operation: string): void {
    this.l2Errors.set(operation, (this.l2Errors.get(operation) ?? 0) + 1);
  }

  get l2ErrorTotal(): number {
    let total = 0;
    for (const count of this.l2Errors.values()) total += count;
    return total;
  }
}

/** What a registered cache shows to its collectors. */
export interface MetricsSource {
  readonly name: string;
  readonly counters: Counters;
  l1Size(): number;
  circuitOpen(): number | undefined;
  busConnected(): number | undefined;
}

interface Value {
  readonly value: number;
  readonly labels: Record<string, string | number>;
  readonly metricName?: string;
}

type Kind = 'counter' | 'gauge' | 'histogram';

const BRAND = Symbol.for('@prod/cache/collector');

/** A prom-client compatible metric whose values are read from the sources at scrape time. */
interface Collector {
  readonly [BRAND]: Group;
  name: string;
  readonly help: string;
  readonly type: Kind;
  readonly aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: Kind; aggregator: 'sum'; values: Value[] }>;
  reset(): void;
}

/** Every cache that reports to one registry under one prefix. */
class Group {
  readonly sources = new Map<string, MetricsSource>();
}

const groups = new WeakMap<object, Map<string, Group>>();

type Reader = (source: MetricsSource) => Value[];

const labelled = (
  source: MetricsSource,
  value: number,
  extra: Record<string, string> = {},
): Value => ({
  value,
  labels: { cache: source.name, ...extra },
});

function definitions(): readonly [string, Kind, string, Reader][] {
  return [
    [
      'cache_hits_total',
      'counter',
      'Cache lookups answered with a fresh value, by level.',
      (s) => [
        labelled(s, s.counters.l1Hits, { level: 'l1' }),
        labelled(s, s.counters.l2Hits, { level: 'l2' }),
      ],
    ],
    [
      'cache_misses_total',
      'counter',
      'Cache lookups without a fresh value, by level.',
      (s) => [
        labelled(s, s.counters.l1Misses, { level: 'l1' }),
        labelled(s, s.counters.l2Misses, { level: 'l2' }),
      ],
    ],
    [
      'cache_stale_served_total',
      'counter',
      'Stale values served, by reason: swr (stale-while-revalidate), grace (loader failed), timeout (soft or hard).',
      (s) => [
        labelled(s, s.counters.staleSwr, { reason: 'swr' }),
        labelled(s, s.counters.staleGrace, { reason: 'grace' }),
        labelled(s, s.counters.staleTimeout, { reason: 'timeout' }),
      ],
    ],
    [
      'cache_l2_errors_total',
      'counter',
      'Calls to the shared tier that failed or timed out, by operation.',
      (s) =>
        [...s.counters.l2Errors].map(([operation, count]) => labelled(s, count, { operation })),
    ],
    [
      'cache_l2_skipped_total',
      'counter',
      'Calls to the shared tier skipped because its circuit was open.',
      (s) => [labelled(s, s.counters.l2Skipped)],
    ],
    [
      'cache_coalesced_total',
      'counter',
      'getOrSet calls that joined a load already running for their key.',
      (s) => [labelled(s, s.counters.coalesced)],
    ],
    [
      'cache_loader_duration_seconds',
      'histogram',
      'Duration of loader calls, by outcome (ok, error, timeout).',
      (s) => histogram(s),
    ],
    [
      'cache_l1_entries',
      'gauge',
      'Entries in the in-process tier.',
      (s) => [labelled(s, s.l1Size())],
    ],
    [
      'cache_l2_circuit_open',
      'gauge',
      '1 while the circuit breaker of the shared tier is open (or half-open), else 0.',
      (s) => {
        const open = s.circuitOpen();
        return open === undefined ? [] : [labelled(s, open)];
      },
    ],
    [
      'cache_bus_connected',
      'gauge',
      '1 while the invalidation bus is connected, else 0.',
      (s) => {
        const connected = s.busConnected();
        return connected === undefined ? [] : [labelled(s, connected)];
      },
    ],
  ];
}

function histogram(source: MetricsSource): Value[] {
  const values: Value[] = [];
  for (const outcome of ['ok', 'error', 'timeout'] as const) {
    const series = source.counters.durations[outcome];
    if (series.count === 0 && outcome !== 'ok') continue;
    let cumulative = 0;
    LOAD_BUCKETS.forEach((bound, at) => {
      cumulative += series.counts[at] ?? 0;
      values.push({
        value: cumulative,
        labels: { cache: source.name, outcome, le: bound },
        metricName: 'bucket',
      });
    });
    values.push({
      value: series.count,
      labels: { cache: source.name, outcome, le: '+Inf' },
      metricName: 'bucket',
    });
    values.push({ value: series.sum, labels: { cache: source.name, outcome }, metricName: 'sum' });
    values.push({
      value: series.count,
      labels: { cache: source.name, outcome },
      metricName: 'count',
    });
  }
  return values;
}

const PREFIX = /^(?:[a-zA-Z_:][a-zA-Z0-9_:]*)?$/;

/**
 * Registers `source` with the registry of `target`: the first cache registers the collectors,
 * the next ones join them (each under its own `cache` label). Throws `CACHE_INVALID_OPTIONS`
 * for a bad target, a name another metric already uses, or a cache name already registered.
 *
 * @returns the function that removes the source again (on `close()`).
 */
export function registerMetrics(target: CacheMetricsTarget, source: MetricsSource): () => void {
  const registry = target.registry as MetricsRegistryLike | undefined;
  if (
    typeof registry !== 'object' ||
    registry === null ||
    typeof registry.registerMetric !== 'function' ||
    typeof registry.getSingleMetric !== 'function'
  ) {
    throw CacheErrors.CACHE_INVALID_OPTIONS({
      message: 'option metrics.registry must be a prom-client Registry',
      details: { option: 'metrics.registry' },
    });
  }
  const prefix = target.prefix ?? '';
  if (typeof prefix !== 'string' || !PREFIX.test(prefix)) {
    throw CacheErrors.CACHE_INVALID_OPTIONS({
      message: 'option metrics.prefix must be a metric name prefix (letters, digits, _ and :)',
      details: { option: 'metrics.prefix' },
    });
  }
  let byPrefix = groups.get(registry);
  if (byPrefix === undefined) {
    byPrefix = new Map();
    groups.set(registry, byPrefix);
  }
  let group = byPrefix.get(prefix);
  if (group === undefined) {
    const created = new Group();
    const collectors: Collector[] = definitions().map(([name, type, help, read]) => {
      const full = `${prefix}${name}`;
      const existing = registry.getSingleMetric(full) as Partial<Collector> | undefined;
      if (existing !== undefined) {
        throw CacheErrors.CACHE_INVALID_OPTIONS({
          message: `option metrics: the registry already has a metric named ${full}`,
          details: { option: 'metrics', metric: full },
        });
      }
      const collector: Collector = {
        [BRAND]: created,
        name: full,
        help,
        type,
        aggregator: 'sum',
        async get() {
          const values: Value[] = [];
          for (const one of created.sources.values()) {
            for (const value of read(one)) {
              values.push(
                value.metricName === undefined
                  ? value
                  : { ...value, metricName: `${full}_${value.metricName}` },
              );
            }
          }
          return { name: collector.name, help, type, aggregator: 'sum', values };
        },
        reset() {},
      };
      return collector;
    });
    for (const collector of collectors) registry.registerMetric(collector as never);
    byPrefix.set(prefix, created);
    group = created;
  }
  if (group.sources.has(source.name)) {
    throw CacheErrors.CACHE_INVALID_OPTIONS({
      message: `option name: a cache named ${JSON.stringify(source.name)} already reports to this registry`,
      details: { option: 'name', name: source.name },
    });
  }
  group.sources.set(source.name, source);
  const joined = group;
  return () => {
    if (joined.sources.get(source.name) === source) joined.sources.delete(source.name);
  };
}
