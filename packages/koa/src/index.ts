export { KoaErrors } from './errors.js';
export type { ProdKoaOptions } from './prod-koa.js';
export { prodKoa } from './prod-koa.js';
