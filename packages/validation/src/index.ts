export type { RouteSpec } from './route-meta.js';
