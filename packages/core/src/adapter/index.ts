// The adapter kit: what @prod/express, @prod/fastify and @prod/koa share to mount parts on a
// Node HTTP server. Framework adapters are its only intended users; applications never need it.

export type { AdapterKit, AdapterKitOptions } from './adapter-kit.js';
export { createAdapterKit } from './adapter-kit.js';
export type { AdapterOptions } from './adapter-options.js';
export type { EncodedResponse } from './encode.js';
export type { Exchange, HeaderWriter } from './exchange.js';
export type { HookErrorReporter } from './hooks.js';
export { inspectBody } from './inspect-body.js';
export type { PathMethods } from './methods.js';
export { RequestView } from './request-view.js';
