import { getHeapStatistics } from 'node:v8';
import { ok } from '@prod/core';
import type { CheckOptions, HealthCheck } from '../check.js';
import { buildCheck } from '../internal/build-check.js';

/** Options of {@link heapCheck}. */
export interface HeapCheckOptions extends CheckOptions {
  /** Heap use (percent of the V8 heap limit) from which the check answers `warn`. Default 85. */
  readonly warnAt?: number;
  /** Heap use (percent of the limit) from which the check answers `fail`. Default 95. */
  readonly failAt?: number;
}

/**
 * A liveness check of V8 heap use (`heap:utilization`, percent of `heap_size_limit`), so a
 * process about to run out of memory is restarted before it crashes.
 *
 * @returns a {@link HealthCheck} whose runs never return `Err`.
 */
export function heapCheck(options: HeapCheckOptions = {}): HealthCheck {
  const warnAt = options.warnAt ?? 85;
  const failAt = options.failAt ?? 95;
  return buildCheck(
    {
      name: 'heap',
      measurement: 'utilization',
      kind: 'liveness',
      componentType: 'system',
      cacheTtl: 0,
    },
    options,
    () => {
      const stats = getHeapStatistics();
      const used = stats.used_heap_size;
      const limit = stats.heap_size_limit;
      const percent = Math.round((used / limit) * 1000) / 10;
      const status = percent >= failAt ? 'fail' : percent >= warnAt ? 'warn' : 'pass';
      const mib = (bytes: number): string => `${Math.round(bytes / 1048576)} MiB`;
      return ok({
        observedValue: percent,
        observedUnit: 'percent',
        status,
        output: `${mib(used)} of ${mib(limit)}`,
      });
    },
  );
}
