export { FastifyErrors } from './errors.js';
export { fastifyServerOptions } from './fastify-server-options.js';
export type { ProdFastifyOptions } from './prod-fastify.js';
export { prodFastify } from './prod-fastify.js';
