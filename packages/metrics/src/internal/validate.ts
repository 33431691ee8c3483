import { MetricsErrors } from '../errors.js';

// https://prometheus.io/docs/concepts/data_model/#metric-names-and-labels
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const MAX_NAME_LENGTH = 200;
const MAX_DEFAULT_LABEL_VALUE = 1024;

/** Throws METRICS_INVALID_OPTIONS with `message` unless `condition` holds. */
export function expectOption(condition: boolean, message: string): asserts condition {
  if (!condition) throw MetricsErrors.METRICS_INVALID_OPTIONS({ message, expose: false });
}

/** A prefix is empty or a valid start of a metric name. */
export function checkPrefix(prefix: unknown): string {
  if (prefix === undefined) return '';
  expectOption(
    typeof prefix === 'string' &&
      (prefix === '' || (prefix.length <= MAX_NAME_LENGTH && METRIC_NAME.test(prefix))),
    'prefix must match [a-zA-Z_:][a-zA-Z0-9_:]*',
  );
  return prefix;
}

/** Names reserved by Prometheus (leading `__`) are refused too. */
export function isMetricName(name: unknown): name is string {
  return (
    typeof name === 'string' &&
    name.length <= MAX_NAME_LENGTH &&
    METRIC_NAME.test(name) &&
    !name.startsWith('__')
  );
}

/** Validates and copies default labels into a null-prototype record. */
export function checkDefaultLabels(
  labels: unknown,
  reserved: readonly string[],
): Readonly<Record<string, string>> | undefined {
  if (labels === undefined) return undefined;
  expectOption(
    typeof labels === 'object' && labels !== null && !Array.isArray(labels),
    'defaultLabels must be an object of strings',
  );
  const out: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(labels)) {
    expectOption(
      LABEL_NAME.test(name) && !name.startsWith('__') && name !== 'le' && name !== 'quantile',
      `defaultLabels: "${name.slice(0, 64)}" is not a usable label name`,
    );
    expectOption(!reserved.includes(name), `defaultLabels: "${name}" is used by @prod/metrics`);
    expectOption(
      typeof value === 'string' && value.length <= MAX_DEFAULT_LABEL_VALUE,
      `defaultLabels: "${name}" must be a string of at most ${MAX_DEFAULT_LABEL_VALUE} characters`,
    );
    out[name] = value;
  }
  return out;
}

/** Histogram buckets: a non-empty, strictly increasing list of positive finite numbers. */
export function checkBuckets(buckets: unknown, fallback: readonly number[]): number[] {
  if (buckets === undefined) return [...fallback];
  expectOption(
    Array.isArray(buckets) && buckets.length > 0 && buckets.length <= 64,
    'buckets must be a non-empty array of at most 64 numbers',
  );
  let previous = 0;
  for (const bound of buckets) {
    expectOption(
      typeof bound === 'number' && Number.isFinite(bound) && bound > previous,
      'buckets must be positive, finite and strictly increasing',
    );
    previous = bound;
  }
  return [...(buckets as number[])];
}

/** A positive integer within bounds. */
export function checkInteger(value: unknown, name: string, min: number, max: number): number {
  expectOption(
    typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max,
    `${name} must be an integer from ${min} to ${max}`,
  );
  return value;
}
