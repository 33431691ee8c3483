import type { ValidatedRoute } from './define-route.js';
import type { Reply, RouteInput } from './types.js';

/** The typed input the handler of a route made by `defineRoute` receives. */
export type InferInput<TRoute> =
  TRoute extends ValidatedRoute<infer TPath, infer TRequest, infer TResponses>
    ? RouteInput<TPath, TRequest, TResponses>
    : never;

/** The answers the handler of a route made by `defineRoute` may give. */
export type InferReply<TRoute> =
  TRoute extends ValidatedRoute<infer _TPath, infer _TRequest, infer TResponses>
    ? Reply<TResponses>
    : never;
