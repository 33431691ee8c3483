import { defineErrors } from '@prod/core';

/** The codes @prod/koa throws itself (at mount time). */
export const KoaErrors = defineErrors({
  KOA_INVALID_OPTIONS: { status: 500, title: 'Invalid @prod/koa options' },
});
