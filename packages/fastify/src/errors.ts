import { defineErrors } from '@prod/core';

/** The codes @prod/fastify throws itself (at registration). */
export const FastifyErrors = defineErrors({
  FASTIFY_INVALID_OPTIONS: { status: 500, title: 'Invalid @prod/fastify options' },
});
