import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { type RequestContext, requestIdFrom, runWithContext } from '../index.js';
import { type PartHooks, runOnResponse } from './hooks.js';
import type { RequestView } from './request-view.js';

/** What an adapter keeps about one request. */
export interface RequestState {
  readonly view: RequestView;
  readonly context: RequestContext;
  readonly requestId: string;
  /** Set when the response was made from an error. */
  failure: { readonly error: unknown } | undefined;
}

/**
 * Starts a request: picks its id (the incoming `x-request-id` when safe), builds its
 * context, and arranges for each `onResponse` to run once the response has finished or the
 * connection has closed (status 499 when the client left before the end).
 */
export function beginRequest(
  hooks: PartHooks,
  view: RequestView,
  response: ServerResponse,
): RequestState {
  const requestId = requestIdFrom(view.headers['x-request-id']);
  const startedAt = performance.now();
  const context: RequestContext = { requestId, extensions: new Map() };
  // The route template is known only after routing: read it when asked, unless a part set it.
  let route: string | undefined;
  Object.defineProperty(context, 'route', {
    enumerable: true,
    configurable: true,
    get: () => route ?? view.route,
    set: (value: string | undefined) => {
      route = value;
    },
  });
  const state: RequestState = { view, context, requestId, failure: undefined };
  if (hooks.onResponse.length > 0) {
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      response.off('finish', finish);
      response.off('close', finish);
      const info = {
        status: response.writableFinished ? response.statusCode : 499,
        durationMs: performance.now() - startedAt,
        ...(state.failure === undefined ? {} : { error: state.failure.error }),
      };
      runWithContext(context, () => runOnResponse(hooks, view, info));
    };
    response.once('finish', finish);
    response.once('close', finish);
  }
  return state;
}
