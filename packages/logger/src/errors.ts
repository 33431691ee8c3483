import { defineErrors } from '@prod/core';

/**
 * The error codes of @prod/logger.
 *
 * - `LOGGER_INVALID_LEVEL`: a level or a level spec (`info,cache=debug`) that cannot be parsed.
 * - `LOGGER_INVALID_OPTIONS`: an option of `createLogger` or `requestLoggingPart` with a wrong type
 *   or an out-of-range value.
 * - `LOGGER_PRETTY_UNAVAILABLE`: `pretty` output was asked for but `pino-pretty` is not installed.
 *
 * @example
 * const parsed = parseLevelSpec('info,cache=loud');
 * if (!parsed.ok && LoggerErrors.LOGGER_INVALID_LEVEL.is(parsed.error)) console.error(parsed.error.message);
 */
export const LoggerErrors = defineErrors({
  LOGGER_INVALID_LEVEL: { status: 400, title: 'Invalid log level' },
  LOGGER_INVALID_OPTIONS: { status: 500, title: 'Invalid logger options' },
  LOGGER_PRETTY_UNAVAILABLE: { status: 500, title: 'Pretty log output unavailable' },
});
