import { optionChecks } from '@prod/core';
import { MetricsErrors } from '../errors.js';

// https://prometheus.io/docs/concepts/data_model/#metric-names-and-labels
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const MAX_NAME_LENGTH = 200;
const MAX_DEFAULT_LABEL_VALUE = 1024;
const MAX_PATH = 256;

/** The option checks of this package: every failure is `METRICS_INVALID_OPTIONS`. */
export const check = optionChecks(MetricsErrors.METRICS_INVALID_OPTIONS);

/** A prefix is empty or a valid start of a metric name. */
export function checkPrefix(prefix: unknown, name = 'prefix'): string {
  const value = check.string(name, prefix, '');
  if (value !== '' && (value.length > MAX_NAME_LENGTH || !METRIC_NAME.test(value))) {
    check.fail(name, 'a metric name prefix matching [a-zA-Z_:][a-zA-Z0-9_:]*', prefix);
  }
  return value;
}

/** A route path: starts with `/`, at most 256 characters. */
export function checkPath(path: unknown, fallback: string): string {
  const value = check.string('path', path, fallback);
  if (!value.startsWith('/') || value.length > MAX_PATH) {
    check.fail('path', `a path starting with "/" of at most ${MAX_PATH} characters`, path);
  }
  return value;
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
  const given = check.object<Record<string, unknown>>('defaultLabels', labels);
  const out: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(given)) {
    const option = `defaultLabels.${name.slice(0, 64)}`;
    if (!LABEL_NAME.test(name) || name.startsWith('__') || name === 'le' || name === 'quantile') {
      check.fail(
        option,
        'a label name matching [a-zA-Z_][a-zA-Z0-9_]* (not __*, le, quantile)',
        name,
      );
    }
    if (reserved.includes(name)) check.fail(option, 'a label name not used by @prod/metrics', name);
    if (typeof value !== 'string' || value.length > MAX_DEFAULT_LABEL_VALUE) {
      check.fail(option, `a string of at most ${MAX_DEFAULT_LABEL_VALUE} characters`, value);
    }
    out[name] = value as string;
  }
  return out;
}

/** Histogram buckets: a non-empty, strictly increasing list of positive finite numbers. */
export function checkBuckets(
  buckets: unknown,
  fallback: readonly number[],
  name: string,
): number[] {
  if (buckets === undefined) return [...fallback];
  if (!Array.isArray(buckets) || buckets.length === 0 || buckets.length > 64) {
    check.fail(name, 'a non-empty array of at most 64 numbers', buckets);
  }
  let previous = 0;
  (buckets as unknown[]).forEach((bound, at) => {
    if (typeof bound !== 'number' || !Number.isFinite(bound) || bound <= previous) {
      check.fail(
        `${name}[${at}]`,
        `a finite number > ${previous} (buckets strictly increase)`,
        bound,
      );
    }
    previous = bound as number;
  });
  return [...(buckets as number[])];
}
