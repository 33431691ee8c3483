import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import {
  currentContext,
  type RequestContext,
  type ResponseInfo,
  requestIdFrom,
  runWithContext,
} from '../index.js';
import { type PartHooks, runOnResponse } from './hooks.js';
import { type RequestView, rawRequestOf } from './request-view.js';

/** What an adapter keeps about one request. */
export interface RequestState {
  readonly view: RequestView;
  readonly context: RequestContext;
  readonly requestId: string;
  /** Set when the response was made from an error. */
  failure: { readonly error: unknown } | undefined;
}

// The context's `route` is an own, enumerable accessor (a spread or Object.assign copy of the
// context keeps the value), defined with the same two functions on every context so that V8
// shares one hidden class among them; per-request closures would give each context its own
// and make it a slow dictionary object.
const VIEW = Symbol('@prod/core/adapter view');
const ROUTE = Symbol('@prod/core/adapter route');

interface AdapterContext extends RequestContext {
  readonly [VIEW]: RequestView;
  [ROUTE]: string | undefined;
}

const ROUTE_ACCESSOR: PropertyDescriptor = {
  enumerable: true,
  configurable: true,
  // The route template is known only after routing: read it when asked, unless a part set it.
  get(this: AdapterContext): string | undefined {
    return this[ROUTE] ?? this[VIEW].route;
  },
  set(this: AdapterContext, value: string | undefined): void {
    this[ROUTE] = value;
  },
};

function newContext(requestId: string, view: RequestView): RequestContext {
  const context = {
    requestId,
    extensions: new Map<symbol, unknown>(),
    [VIEW]: view,
    [ROUTE]: undefined,
  };
  Object.defineProperty(context, 'route', ROUTE_ACCESSOR);
  return context;
}

class ActiveRequest implements RequestState {
  readonly view: RequestView;
  readonly context: RequestContext;
  readonly requestId: string;
  failure: { readonly error: unknown } | undefined = undefined;
  readonly #hooks: PartHooks;
  readonly #response: ServerResponse;
  readonly #startedAt: number;
  #done = false;

  constructor(hooks: PartHooks, view: RequestView, response: ServerResponse) {
    this.requestId = requestIdFrom(rawRequestOf(view).headers['x-request-id']);
    this.view = view;
    this.context = newContext(this.requestId, view);
    this.#hooks = hooks;
    this.#response = response;
    this.#startedAt = performance.now();
  }

  /** Runs each `onResponse` once, inside the request's context. */
  finish(): void {
    if (this.#done) return;
    this.#done = true;
    const response = this.#response;
    const status = response.writableFinished ? response.statusCode : 499;
    const durationMs = performance.now() - this.#startedAt;
    const failure = this.failure;
    const info: ResponseInfo =
      failure === undefined ? { status, durationMs } : { status, durationMs, error: failure.error };
    // `finish` often fires inside the context already (the write began there): no re-entry.
    if (currentContext() === this.context) runOnResponse(this.#hooks, this.view, info);
    else runWithContext(this.context, () => runOnResponse(this.#hooks, this.view, info));
  }
}

/**
 * Starts a request: picks its id (the incoming `x-request-id` when safe), builds its
 * context, and arranges for each `onResponse` to run once the response has finished or the
 * connection has closed (status 499 when the client left before the end), inside the
 * request's context.
 */
export function beginRequest(
  hooks: PartHooks,
  view: RequestView,
  response: ServerResponse,
): RequestState {
  const state = new ActiveRequest(hooks, view, response);
  if (hooks.onResponse.length > 0) {
    // `on`, not `once`: once wraps every listener; the second event finds the request done.
    const finish = finisher(state);
    response.on('finish', finish);
    response.on('close', finish);
  }
  return state;
}

// Returned, not assigned to a name: tools that keep function names (tsx, esbuild keepNames)
// would otherwise redefine the closure's name on every request.
function finisher(state: ActiveRequest): () => void {
  return () => state.finish();
}
