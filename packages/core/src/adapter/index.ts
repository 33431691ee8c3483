// The adapter kit: what @prod/express, @prod/fastify and @prod/koa share to mount parts on a
// Node HTTP server. Framework adapters are its only intended users; applications never need it.

export type { AdapterOptions } from './adapter-options.js';
export { isJsonContentType, JSON_MEDIA_TYPE, unparsableBody } from './body.js';
export type { EncodedResponse } from './encode.js';
export { encodeResponse } from './encode.js';
export { toProdError } from './framework-error.js';
export type {
  ErrorRenderer,
  HookErrorReporter,
  PartHooks,
  PartHooksOptions,
} from './hooks.js';
export {
  partHooks,
  routeResponse,
  runOnRequest,
  runOnRequestHooks,
  runOnResponse,
} from './hooks.js';
export type { PathMethods } from './methods.js';
export { methodsByPath } from './methods.js';
export type { RequestState } from './request-state.js';
export { beginRequest } from './request-state.js';
export { hasBody, RequestView, rawRequestOf } from './request-view.js';
export {
  answerOnRequest,
  answerRoute,
  earlyResponse,
  encodeError,
  encodeMethodNotAllowed,
  encodeNotFound,
  serveRoute,
} from './respond.js';
