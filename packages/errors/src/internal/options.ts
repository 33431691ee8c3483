import { optionChecks } from '@prod/core';
import { PolicyErrors } from '../errors.js';

/** The option checks of this package: every failure is `ERRORS_INVALID_OPTIONS`. */
export const check = optionChecks(PolicyErrors.ERRORS_INVALID_OPTIONS);
