export type { ProdFastifyOptions } from './prod-fastify.js';
export { prodFastify } from './prod-fastify.js';
