import { optionChecks } from '@prod/core';
import { LoggerErrors } from '../errors.js';

/** The option checks of this package: every failure is `LOGGER_INVALID_OPTIONS`. */
export const check = optionChecks(LoggerErrors.LOGGER_INVALID_OPTIONS);
