import { err, ok, type ProdError, type Result } from '@prod/core';
import type { CheckOptions, HealthCheck, Observation } from '../check.js';
import { HealthErrors } from '../errors.js';
import { buildCheck, elapsed } from '../internal/build-check.js';
import { describeThrown } from '../internal/safe-output.js';

/**
 * What the check needs from a `pg.Pool`, a `pg.Client` or a PGlite instance: a `query`
 * method. Pool counters, when present, add saturation to the report. Structural, so this
 * package never imports pg or PGlite.
 */
export interface PostgresQueryable {
  query(text: string): Promise<unknown>;
  /** pg.Pool: clients open. */
  readonly totalCount?: number;
  /** pg.Pool: clients idle. */
  readonly idleCount?: number;
  /** pg.Pool: callers waiting for a client. */
  readonly waitingCount?: number;
  /** pg.Pool: its options (for `max`). */
  readonly options?: { readonly max?: number | undefined };
  /** pg.Pool: true once `end()` was called. */
  readonly ending?: boolean;
  /** PGlite: true once closed. */
  readonly closed?: boolean;
}

/** Options of {@link postgresCheck}. */
export interface PostgresCheckOptions extends CheckOptions {
  /**
   * What a saturated pool (every client busy and callers waiting) reports: `warn`
   * (default), `fail`, or `ignore` (run the query anyway, queueing behind the callers).
   */
  readonly saturation?: 'warn' | 'fail' | 'ignore';
  /** Answer with `warn` when `SELECT 1` takes longer than this many ms. */
  readonly warnLatency?: number;
}

/** Pool usage read from a pg.Pool's counters, if it has them. */
export interface PoolUsage {
  readonly total: number;
  readonly idle: number;
  readonly waiting: number;
  readonly max: number;
  /** Busy clients over `max`, in percent. */
  readonly utilization: number;
  /** Every client busy and callers waiting. */
  readonly saturated: boolean;
}

/** Reads a pg.Pool's counters; undefined for a client or PGlite. */
export function poolUsage(db: PostgresQueryable): PoolUsage | undefined {
  const { totalCount: total, idleCount: idle, waitingCount: waiting } = db;
  if (typeof total !== 'number' || typeof idle !== 'number' || typeof waiting !== 'number') {
    return undefined;
  }
  const configured = db.options?.max;
  const max = typeof configured === 'number' && configured > 0 ? configured : 10;
  const busy = Math.max(0, total - idle);
  return {
    total,
    idle,
    waiting,
    max,
    utilization: Math.round((busy / max) * 1000) / 10,
    saturated: waiting > 0 && busy >= max,
  };
}

/**
 * A readiness check that runs `SELECT 1` on a pg Pool, a pg Client or PGlite and reports
 * its latency (`postgres:responseTime`, ms), plus pool saturation.
 *
 * A saturated pool would queue `SELECT 1` behind real traffic and time out although the
 * database is fine, so by default the check then skips the query and answers `warn`
 * with the pool counters (detail view).
 *
 * @returns a {@link HealthCheck}; its runs fail with `HEALTH_CHECK_FAILED` (query error,
 * pool ended, saturated with `saturation: 'fail'`) or `HEALTH_CHECK_TIMEOUT`.
 * @example
 * import { Pool } from 'pg';
 * const pool = new Pool({ connectionString: process.env.DATABASE_URL });
 * createHealth({ checks: [postgresCheck(pool, { interval: 5_000 })] });
 */
export function postgresCheck(
  db: PostgresQueryable,
  options: PostgresCheckOptions = {},
): HealthCheck {
  const saturation = options.saturation ?? 'warn';
  return buildCheck(
    {
      name: 'postgres',
      measurement: 'responseTime',
      kind: 'readiness',
      componentType: 'datastore',
      timeout: 1000,
    },
    options,
    async (): Promise<Result<Observation, ProdError>> => {
      if (db.ending === true || db.closed === true) {
        return err(
          HealthErrors.HEALTH_CHECK_FAILED({
            message: 'database pool is closed',
            captureStack: false,
          }),
        );
      }
      const usage = poolUsage(db);
      const poolText =
        usage === undefined
          ? ''
          : `pool ${usage.total - usage.idle}/${usage.max} busy, ${usage.waiting} waiting`;
      if (usage?.saturated === true && saturation !== 'ignore') {
        return ok({
          observedValue: usage.utilization,
          observedUnit: 'percent',
          status: saturation,
          output: `pool saturated: ${poolText}`,
        });
      }
      const started = performance.now();
      try {
        await db.query('SELECT 1');
      } catch (error) {
        return err(
          HealthErrors.HEALTH_CHECK_FAILED({
            message: describeThrown(error),
            cause: error,
            captureStack: false,
          }),
        );
      }
      const latency = elapsed(started);
      const slow = options.warnLatency !== undefined && latency > options.warnLatency;
      const notes = [poolText, slow ? `SELECT 1 took over ${options.warnLatency} ms` : '']
        .filter((note) => note.length > 0)
        .join('; ');
      return ok({
        observedValue: latency,
        observedUnit: 'ms',
        ...(slow ? { status: 'warn' } : {}),
        ...(notes.length > 0 ? { output: notes } : {}),
      });
    },
  );
}
