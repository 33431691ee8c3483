// prom-client compatible collectors that read plain counters at scrape time: nothing is computed
// or allocated per decision. Several limiters (or throttles) may report to one registry: the first
// registers the collectors, the next ones join them under their own name label.
import { RateLimitErrors } from '../errors.js';
import type { MetricsRegistryLike, MetricsTarget } from '../types.js';

/** One sample a collector reports. */
export interface Sample {
  readonly value: number;
  readonly labels: Readonly<Record<string, string>>;
}

/** One metric: its name (without the prefix), type, help, and how to read a source. */
export interface MetricDefinition<TSource> {
  readonly name: string;
  readonly type: 'counter' | 'gauge';
  readonly help: string;
  read(source: TSource): readonly Sample[];
}

interface Group<TSource> {
  readonly sources: Map<string, TSource>;
}

const groups = new WeakMap<object, Map<string, Group<unknown>>>();
const PREFIX = /^(?:[a-zA-Z_:][a-zA-Z0-9_:]*)?$/;

/**
 * Registers `source` under `name` with the collectors of `family` (one set per registry and
 * prefix). Throws `RATELIMIT_INVALID_OPTIONS` for a registry that is not one, a metric name
 * another metric already uses, or a name already reporting.
 *
 * @returns the function that removes the source again.
 */
export function registerSource<TSource>(
  target: MetricsTarget,
  family: string,
  name: string,
  source: TSource,
  definitions: readonly MetricDefinition<TSource>[],
): () => void {
  const registry = (target as { registry?: MetricsRegistryLike } | undefined)?.registry;
  if (
    typeof registry !== 'object' ||
    registry === null ||
    typeof registry.registerMetric !== 'function' ||
    typeof registry.getSingleMetric !== 'function'
  ) {
    throw RateLimitErrors.RATELIMIT_INVALID_OPTIONS({
      message: 'option metrics.registry must be a prom-client Registry',
      details: { option: 'metrics.registry' },
    });
  }
  const prefix = target.prefix ?? '';
  if (typeof prefix !== 'string' || !PREFIX.test(prefix)) {
    throw RateLimitErrors.RATELIMIT_INVALID_OPTIONS({
      message: 'option metrics.prefix must be a metric name prefix (letters, digits, _ and :)',
      details: { option: 'metrics.prefix' },
    });
  }
  let byFamily = groups.get(registry);
  if (byFamily === undefined) {
    byFamily = new Map();
    groups.set(registry, byFamily);
  }
  const id = `${family}\u0000${prefix}`;
  let group = byFamily.get(id) as Group<TSource> | undefined;
  if (group === undefined) {
    const created: Group<TSource> = { sources: new Map() };
    const collectors = definitions.map((definition) => {
      const full = `${prefix}${definition.name}`;
      if (registry.getSingleMetric(full) !== undefined) {
        throw RateLimitErrors.RATELIMIT_INVALID_OPTIONS({
          message: `option metrics: the registry already has a metric named ${full}`,
          details: { option: 'metrics', metric: full },
        });
      }
      const collector = {
        name: full,
        help: definition.help,
        type: definition.type,
        aggregator: 'sum',
        get: async () => ({
          name: full,
          help: definition.help,
          type: definition.type,
          aggregator: 'sum',
          values: [...created.sources.values()].flatMap((one) => definition.read(one)),
        }),
        reset: () => {},
      };
      return collector;
    });
    for (const collector of collectors) registry.registerMetric(collector as never);
    group = created;
    byFamily.set(id, created as Group<unknown>);
  }
  if (group.sources.has(name)) {
    throw RateLimitErrors.RATELIMIT_INVALID_OPTIONS({
      message: `option name: ${JSON.stringify(name)} already reports to this registry`,
      details: { option: 'name', name },
    });
  }
  group.sources.set(name, source);
  const joined = group;
  return () => {
    if (joined.sources.get(name) === source) joined.sources.delete(name);
  };
}
