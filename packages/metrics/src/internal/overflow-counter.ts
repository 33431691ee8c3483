import { Counter, type Registry } from 'prom-client';

/** The name (without prefix) of the counter of observations sent to an overflow series. */
export const OVERFLOW_COUNTER = 'metrics_series_overflow_total';

/**
 * The registry's overflow counter, created on first use. One counter serves every capped
 * metric of a registry, labelled by the capped metric's name (a bounded set).
 */
export function overflowCounter(registry: Registry, prefix: string): Counter<'metric'> {
  const name = prefix + OVERFLOW_COUNTER;
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Counter) return existing as Counter<'metric'>;
  return new Counter({
    name,
    help: 'Observations recorded on a metric overflow series because its series cap was reached.',
    labelNames: ['metric'],
    registers: [registry],
  });
}
