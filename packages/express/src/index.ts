export { ExpressErrors } from './errors.js';
export type { ExpressAppLike } from './mount-express.js';
export { mountExpress } from './mount-express.js';
export type { ProdExpress, ProdExpressOptions } from './prod-express.js';
export { prodExpress } from './prod-express.js';
