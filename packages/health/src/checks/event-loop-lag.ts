import { ok } from '@prod/core';
import type { CheckOptions, HealthCheck } from '../check.js';
import { buildCheck } from '../internal/build-check.js';

/** Options of {@link eventLoopLagCheck}. */
export interface EventLoopLagCheckOptions extends CheckOptions {
  /** p99 delay (ms) from which the check answers `warn`. Default 100. */
  readonly warnAt?: number;
  /** p99 delay (ms) from which the check answers `fail`. Default 1000. */
  readonly failAt?: number;
  /** Sampling period in ms. Default 20. */
  readonly resolution?: number;
}

const MAX_SAMPLES = 2048;

/**
 * A liveness check of event-loop delay (`eventLoop:delay`, ms): the p99 of how late an
 * unref'd sampling timer fired since the previous run (max in the output).
 *
 * Node 20's `monitorEventLoopDelay` does not record a long synchronous block as one
 * large delay, so the check samples with its own timer.
 *
 * @returns a {@link HealthCheck} whose runs never return `Err`; they answer `warn` or `fail`
 * over the thresholds.
 */
export function eventLoopLagCheck(options: EventLoopLagCheckOptions = {}): HealthCheck {
  const warnAt = options.warnAt ?? 100;
  const failAt = options.failAt ?? 1000;
  const resolution = Math.max(1, options.resolution ?? 20);
  let samples: number[] = [];
  let timer: NodeJS.Timeout | undefined;
  let last = 0;
  const sample = (): void => {
    const now = performance.now();
    if (samples.length < MAX_SAMPLES) samples.push(Math.max(0, now - last - resolution));
    last = now;
  };
  return buildCheck(
    { name: 'eventLoop', measurement: 'delay', kind: 'liveness', componentType: 'system' },
    options,
    () => {
      // A block still in progress when the probe arrives counts too.
      const pending = timer === undefined ? 0 : Math.max(0, performance.now() - last - resolution);
      const window = [...samples, pending].sort((a, b) => a - b);
      samples = [];
      const p99 = round(window[Math.min(window.length - 1, Math.floor(window.length * 0.99))] ?? 0);
      const max = round(window[window.length - 1] ?? 0);
      const status = p99 >= failAt ? 'fail' : p99 >= warnAt ? 'warn' : 'pass';
      return ok({
        observedValue: p99,
        observedUnit: 'ms',
        status,
        output: `p99 ${p99} ms, max ${max} ms`,
      });
    },
    {
      start: () => {
        if (timer !== undefined) return;
        last = performance.now();
        samples = [];
        timer = setInterval(sample, resolution);
        timer.unref();
      },
      stop: () => {
        clearInterval(timer);
        timer = undefined;
      },
    },
  );
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
