import { CronExpressionParser } from 'cron-parser';
import type { ScheduleSpec } from './driver.js';

/**
 * When a schedule runs next after `after` (epoch ms), as BullMQ computes it: the next cron
 * match, or the next multiple of the interval. Undefined when a cron pattern has no next run.
 */
export function nextRun(spec: ScheduleSpec, after: number): number | undefined {
  if (spec.everyMs !== undefined)
    return Math.floor(after / spec.everyMs) * spec.everyMs + spec.everyMs;
  if (spec.cron === undefined) return undefined;
  try {
    return CronExpressionParser.parse(spec.cron, {
      currentDate: new Date(after),
      ...(spec.tz === undefined ? {} : { tz: spec.tz }),
    })
      .next()
      .getTime();
  } catch {
    return undefined;
  }
}

/** Why a cron pattern (with its time zone) is refused, or undefined when it parses. */
export function cronProblem(cron: string, tz: string | undefined): string | undefined {
  try {
    CronExpressionParser.parse(cron, {
      currentDate: new Date(),
      ...(tz === undefined ? {} : { tz }),
    }).next();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
