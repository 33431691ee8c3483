import { check } from './validate.js';

/** What the `logger` option needs (pino fits). */
export interface MetricsDebugLogger {
  debug(obj: unknown, msg?: string): void;
  isLevelEnabled?(level: string): boolean;
}

/** Validates a `logger` option. */
export function debugLoggerOption(value: unknown): MetricsDebugLogger | undefined {
  if (value === undefined) return undefined;
  if (typeof (value as Partial<MetricsDebugLogger> | null)?.debug !== 'function') {
    check.fail('logger', 'a logger with debug() (pino fits)', value);
  }
  return value as MetricsDebugLogger;
}

/** Whether a debug line would be written; asked every time (levels change at runtime). */
export function debugEnabled(logger: MetricsDebugLogger | undefined): logger is MetricsDebugLogger {
  return (
    logger !== undefined &&
    (typeof logger.isLevelEnabled !== 'function' || logger.isLevelEnabled('debug'))
  );
}

/** Writes `metrics: series cap reached` once per metric, on its first overflow. */
export function capReachedOnce(
  logger: MetricsDebugLogger | undefined,
  metric: string,
  maxSeries: number,
): () => void {
  let told = false;
  return () => {
    if (told || !debugEnabled(logger)) return;
    told = true;
    logger.debug({ metric, maxSeries }, 'metrics: series cap reached');
  };
}
