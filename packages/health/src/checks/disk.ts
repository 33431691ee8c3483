import { statfs } from 'node:fs/promises';
import { err, ok, type ProdError, type Result } from '@prod/core';
import type { CheckOptions, HealthCheck, Observation } from '../check.js';
import { HealthErrors } from '../errors.js';
import { buildCheck } from '../internal/build-check.js';
import { describeThrown } from '../internal/safe-output.js';

/** Options of {@link diskCheck}. */
export interface DiskCheckOptions extends CheckOptions {
  /** Fail below this many free bytes (available to unprivileged users). Default 0 (off). */
  readonly minFreeBytes?: number;
  /** Fail below this free percentage. Default 5. */
  readonly failBelowPercent?: number;
  /** Warn below this free percentage. Default 10. */
  readonly warnBelowPercent?: number;
}

/**
 * A check of free disk space on the filesystem holding `path` (`disk:free`, bytes
 * available to the process), via `fs.statfs`. The path is not shown in any output.
 *
 * @returns a {@link HealthCheck}; a run fails with `HEALTH_CHECK_FAILED` when the path
 * cannot be inspected.
 */
export function diskCheck(path: string, options: DiskCheckOptions = {}): HealthCheck {
  const minFree = options.minFreeBytes ?? 0;
  const failBelow = options.failBelowPercent ?? 5;
  const warnBelow = options.warnBelowPercent ?? 10;
  return buildCheck(
    {
      name: 'disk',
      measurement: 'free',
      kind: 'readiness',
      componentType: 'system',
      cacheTtl: 5000,
    },
    options,
    async (): Promise<Result<Observation, ProdError>> => {
      let free: number;
      let total: number;
      try {
        const stats = await statfs(path);
        free = stats.bavail * stats.bsize;
        total = stats.blocks * stats.bsize;
      } catch (error) {
        return err(
          HealthErrors.HEALTH_CHECK_FAILED({
            message: describeThrown(error).replaceAll(path, '<path>'),
            cause: error,
            captureStack: false,
          }),
        );
      }
      const percent = total > 0 ? Math.round((free / total) * 1000) / 10 : 0;
      const status =
        free < minFree || percent < failBelow ? 'fail' : percent < warnBelow ? 'warn' : 'pass';
      const gib = (bytes: number): string => `${(bytes / 1073741824).toFixed(1)} GiB`;
      return ok({
        observedValue: free,
        observedUnit: 'bytes',
        status,
        output: `${gib(free)} free of ${gib(total)} (${percent}%)`,
      });
    },
  );
}
