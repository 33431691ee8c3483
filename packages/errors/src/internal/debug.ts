import { isProdError } from '@prod/core';
import type { DebugLogger } from '../types.js';
import { check } from './options.js';

/** Validates a `logger` option. */
export function debugLoggerOption(value: unknown): DebugLogger | undefined {
  if (value === undefined) return undefined;
  if (typeof (value as Partial<DebugLogger> | null)?.debug !== 'function') {
    check.fail('logger', 'a logger with debug() (pino fits)', value);
  }
  return value as DebugLogger;
}

/**
 * Whether a debug line would be written: the check that keeps a disabled line free (no
 * fields object is built). Levels may change at runtime, so it is asked every time.
 */
export function debugEnabled(logger: DebugLogger | undefined): logger is DebugLogger {
  return (
    logger !== undefined &&
    (typeof logger.isLevelEnabled !== 'function' || logger.isLevelEnabled('debug'))
  );
}

/** The error's code for a log line (`INTERNAL`-free: a non-ProdError gives its name). */
export function codeOf(error: unknown): string {
  if (isProdError(error)) return error.code;
  const name = (error as { name?: unknown } | null | undefined)?.name;
  return typeof name === 'string' ? name : typeof error;
}
