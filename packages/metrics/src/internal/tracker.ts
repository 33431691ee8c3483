import { performance } from 'node:perf_hooks';
import { isProdError, isResult, isThenable, ProdError } from '@prod/core';
import { Counter, Histogram, type Registry } from 'prom-client';
import { MetricsErrors } from '../errors.js';
import { SeriesCap } from '../series-cap.js';
import { capReachedOnce, type MetricsDebugLogger } from './debug.js';
import { contextExemplar } from './exemplar.js';
import { overflowCounter } from './overflow-counter.js';
import { isMetricName } from './validate.js';

/** What the tracker needs from createMetrics. */
export interface TrackerOptions {
  readonly registry: Registry;
  readonly prefix: string;
  readonly buckets: readonly number[];
  readonly maxSeries: number;
  readonly exemplars: boolean;
  readonly logger: MetricsDebugLogger | undefined;
}

/** Runs a function and records its duration and failures. */
export type Track = <TReturn>(name: string, fn: () => TReturn) => TReturn;

type Outcome = 'ok' | 'error';

interface Operation {
  readonly histogram: Histogram<'outcome'>;
  readonly ok: { observe(value: number): void };
  readonly error: { observe(value: number): void };
  readonly errors: Counter<'code'>;
  readonly codes: SeriesCap<{ inc(): void }>;
}

const MAX_CODE_LENGTH = 128;
const OVERFLOW = '_overflow';

/** Builds the `track` function of one registry. */
export function createTracker(options: TrackerOptions): Track {
  const { registry, prefix, exemplars } = options;
  const operations = new Map<string, Operation>();

  function operation(name: string): Operation {
    const found = operations.get(name);
    if (found !== undefined) return found;
    if (!isMetricName(name)) {
      throw MetricsErrors.METRICS_INVALID_NAME({
        message: `track: "${String(name).slice(0, 64)}" is not a valid metric name`,
        expose: false,
      });
    }
    const durationName = `${prefix}${name}_duration_seconds`;
    const errorsName = `${prefix}${name}_errors_total`;
    for (const taken of [durationName, errorsName]) {
      if (registry.getSingleMetric(taken) !== undefined) {
        throw MetricsErrors.METRICS_NAME_CONFLICT({
          message: `track: ${taken} is already registered on this registry`,
          expose: false,
        });
      }
    }
    const histogram = new Histogram({
      name: durationName,
      help: `Duration of ${name} operations, by outcome.`,
      labelNames: ['outcome'] as const,
      buckets: [...options.buckets],
      enableExemplars: exemplars,
      // See createHttpMetrics: exemplar metrics are registered by hand.
      registers: [],
    });
    registry.registerMetric(histogram);
    const errors = new Counter({
      name: errorsName,
      help: `Failed ${name} operations, by error code.`,
      labelNames: ['code'] as const,
      registers: [registry],
    });
    const overflowed = overflowCounter(registry, prefix).labels(errorsName);
    const capReached = capReachedOnce(options.logger, errorsName, options.maxSeries);
    const created: Operation = {
      histogram,
      ok: histogram.labels('ok'),
      error: histogram.labels('error'),
      errors,
      codes: new SeriesCap({
        maxSeries: options.maxSeries,
        overflow: () => errors.labels(OVERFLOW),
        onOverflow: () => {
          overflowed.inc();
          capReached();
        },
      }),
    };
    operations.set(name, created);
    return created;
  }

  function record(op: Operation, outcome: Outcome, started: number, code?: string): void {
    const seconds = Math.max(0, (performance.now() - started) / 1000);
    const exemplar = exemplars ? contextExemplar() : undefined;
    if (exemplar !== undefined) {
      op.histogram.observe({
        labels: { outcome },
        value: seconds,
        exemplarLabels: exemplar as unknown as Record<'outcome', string>,
      });
    } else {
      op[outcome].observe(seconds);
    }
    if (code === undefined) return;
    const counted =
      op.codes.get(code) ??
      (code.length > MAX_CODE_LENGTH || op.codes.full
        ? op.codes.overflow()
        : op.codes.add(code, op.errors.labels(code)));
    counted.inc();
  }

  function settle(op: Operation, started: number, value: unknown): void {
    if (isResult(value) && !value.ok) record(op, 'error', started, codeOf(value.error));
    else record(op, 'ok', started);
  }

  return function track<TReturn>(name: string, fn: () => TReturn): TReturn {
    const op = operation(name);
    const started = performance.now();
    let value: TReturn;
    try {
      value = fn();
    } catch (thrown) {
      record(op, 'error', started, codeOf(thrown));
      throw thrown;
    }
    if (isThenable(value)) {
      return value.then(
        (resolved) => {
          settle(op, started, resolved);
          return resolved;
        },
        (thrown: unknown) => {
          record(op, 'error', started, codeOf(thrown));
          throw thrown;
        },
      ) as TReturn;
    }
    settle(op, started, value);
    return value;
  };
}

function codeOf(error: unknown): string {
  return isProdError(error) ? error.code : ProdError.from(error).code;
}
