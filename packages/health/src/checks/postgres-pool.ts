import { err, ok } from '@prod/core';
import type { CheckOptions, HealthCheck } from '../check.js';
import { HealthErrors } from '../errors.js';
import { buildCheck } from '../internal/build-check.js';
import { type PostgresQueryable, poolUsage } from './postgres.js';

/** Options of {@link postgresPoolCheck}. */
export interface PostgresPoolCheckOptions extends CheckOptions {
  /** Busy-client percentage from which the check answers `warn`. Default 80. */
  readonly warnAt?: number;
  /** Whether a saturated pool (all busy, callers waiting) fails. Default false (`warn`). */
  readonly failWhenSaturated?: boolean;
}

/**
 * A check of a pg.Pool's utilization (`postgres:utilization`, percent) from its counters:
 * no query, so it is free to run often.
 *
 * @returns a {@link HealthCheck}; a run fails with `HEALTH_CHECK_FAILED` when the object has
 * no pool counters.
 */
export function postgresPoolCheck(
  pool: PostgresQueryable,
  options: PostgresPoolCheckOptions = {},
): HealthCheck {
  const warnAt = options.warnAt ?? 80;
  return buildCheck(
    {
      name: 'postgres',
      measurement: 'utilization',
      kind: 'readiness',
      componentType: 'datastore',
      cacheTtl: 0,
    },
    options,
    () => {
      const usage = poolUsage(pool);
      if (usage === undefined) {
        return err(
          HealthErrors.HEALTH_CHECK_FAILED({
            message: 'not a pg.Pool: no pool counters',
            captureStack: false,
          }),
        );
      }
      const output = `${usage.total - usage.idle}/${usage.max} busy, ${usage.idle} idle, ${usage.waiting} waiting`;
      const status = usage.saturated
        ? options.failWhenSaturated === true
          ? 'fail'
          : 'warn'
        : usage.utilization >= warnAt
          ? 'warn'
          : 'pass';
      return ok({ observedValue: usage.utilization, observedUnit: 'percent', status, output });
    },
  );
}
