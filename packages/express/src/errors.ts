import { defineErrors } from '@prod/core';

/** The codes @prod/express throws itself (at mount time). */
export const ExpressErrors = defineErrors({
  EXPRESS_INVALID_OPTIONS: { status: 500, title: 'Invalid @prod/express options' },
});
