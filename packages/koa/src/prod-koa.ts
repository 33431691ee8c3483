import { bodyParser } from '@koa/bodyparser';
import Router, { type Layer } from '@koa/router';
import { isThenable, runWithContext } from '@prod/core';
import {
  type AdapterOptions,
  answerOnRequest,
  answerRoute,
  beginRequest,
  type EncodedResponse,
  encodeError,
  encodeMethodNotAllowed,
  encodeNotFound,
  methodsByPath,
  partHooks,
  type RequestState,
} from '@prod/core/adapter';
import { toHttpResponse } from '@prod/errors';
import type { Context, Middleware, Next } from 'koa';
import { KoaRequestView } from './internal/koa-view.js';
import { writeContext } from './internal/write-context.js';

/** Options of {@link prodKoa}. */
export type ProdKoaOptions = AdapterOptions;

const ALL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * The Koa 3 middleware that mounts neutral parts: `app.use(prodKoa({ parts }))`, first.
 *
 * Details: every request runs in the request context (its id echoed in `x-request-id`) and
 * through each part's `onRequest`; the parts' routes (@koa/router) are served with a
 * JSON-only body parser (@koa/bodyparser, prototype keys refused) and 405 for their other
 * methods; everything else goes on to your middleware. The middleware is the error
 * boundary: whatever your middleware throws, and a request nothing answered (404), becomes
 * `application/problem+json` through the parts' `onError` and `toHttpResponse`.
 *
 * Gotchas: mount it before your routers and body parsers, so that it sees (and can answer
 * for) everything.
 *
 * @example
 * const app = new Koa();
 * app.use(prodKoa({ parts: [notesPart] }));
 * const router = new Router();
 * router.get('/native', (ctx) => { ctx.body = 'ok'; });
 * app.use(router.routes());
 * app.listen(3000);
 */
export function prodKoa(options: ProdKoaOptions): Middleware {
  const hooks = partHooks({
    adapter: '@prod/koa',
    parts: options.parts,
    onHookError: options.onHookError,
    renderError: toHttpResponse,
  });
  const parseBody = bodyParser({
    enableTypes: ['json'],
    // The media type is checked before parsing (application/json or application/*+json).
    detectJSON: () => true,
    jsonLimit: options.bodyLimit ?? '1mb',
    jsonStrict: false,
    parsedMethods: ALL_METHODS,
  });
  // The request's state lives on the Koa context and dies with it (a WeakMap entry would
  // outlive a young request until a full GC). One symbol per middleware instance.
  const STATE = Symbol('@prod/koa request state');
  type WithState = Context & { [STATE]?: RequestState };
  const stateOf = (ctx: Context): RequestState => {
    let state = (ctx as WithState)[STATE];
    if (state === undefined) {
      state = beginRequest(hooks, new KoaRequestView(ctx), ctx.res);
      (ctx as WithState)[STATE] = state;
      ctx.set('x-request-id', state.requestId);
    }
    return state;
  };

  // The neutral routes, matched by @koa/router, answered directly (see `serveMatched`).
  type Answer = (ctx: Context, state: RequestState) => void | Promise<void>;
  const router = new Router();
  const answers = new Map<object, Answer>();
  const readBodyOf = (ctx: Context) => async (): Promise<unknown> => {
    await parseBody(ctx, async () => {});
    return (ctx.request as { body?: unknown }).body;
  };
  const declare = (path: string, methods: string[], answer: Answer): void => {
    const layer = router.register(path, methods, (ctx: Context) => answer(ctx, stateOf(ctx)));
    answers.set(layer, answer);
  };
  for (const route of hooks.routes) {
    declare(route.path, [route.method], (ctx, state) => {
      const encoded = answerRoute(hooks, state, route, readBodyOf(ctx));
      if (!isThenable(encoded)) return writeContext(ctx, encoded);
      return encoded.then((answer) => writeContext(ctx, answer));
    });
  }
  for (const { path, allow, rejected } of methodsByPath(hooks.routes)) {
    declare(path, [...rejected], (ctx, state) =>
      encodeMethodNotAllowed(hooks, state, allow).then((encoded) => writeContext(ctx, encoded)),
    );
  }

  const answered = (ctx: Context, state: RequestState): void | Promise<void> => {
    if (!unanswered(ctx)) return undefined;
    return encodeNotFound(hooks, state).then((encoded) => writeContext(ctx, encoded));
  };
  const failed = (ctx: Context, state: RequestState, error: unknown): Promise<void> =>
    encodeError(hooks, state, error).then((encoded) => writeContext(ctx, encoded));
  // A neutral route: set what @koa/router sets on the context, and answer without its
  // per-request middleware chain (a composed function and promises per request).
  const serveMatched = (
    ctx: Context,
    state: RequestState,
    path: string,
    layers: readonly RouterLayer[],
  ): void | Promise<void> => {
    const routed = ctx as Context & RoutedContext;
    let layer: RouterLayer | undefined;
    for (let index = layers.length - 1; index >= 0 && layer === undefined; index -= 1) {
      const candidate = layers[index] as RouterLayer;
      if (candidate.methods.length > 0) layer = candidate;
    }
    const answer = layer === undefined ? undefined : answers.get(layer);
    if (layer === undefined || answer === undefined) return answered(ctx, state);
    routed.captures = layer.captures(path);
    routed.request.params = layer.params(path, routed.captures, routed.params);
    routed.params = routed.request.params;
    // Our layers are registered with string paths.
    const template = layer.path as string;
    routed.routerPath = template;
    routed.routerName = layer.name ?? undefined;
    routed._matchedRoute = template;
    if (layer.name) routed._matchedRouteName = layer.name;
    let result: void | Promise<void>;
    try {
      result = answer(ctx, state);
    } catch (error) {
      return failed(ctx, state, error);
    }
    if (!isThenable(result)) return answered(ctx, state);
    return result.then(
      () => answered(ctx, state),
      (error: unknown) => failed(ctx, state, error),
    );
  };
  const dispatch = (ctx: Context, next: Next, state: RequestState): void | Promise<void> => {
    const routed = ctx as Context & RoutedContext;
    const path = routed.newRouterPath || ctx.path || routed.routerPath || '';
    const match = router.match(path, ctx.method);
    if (match.route) {
      routed.matched =
        routed.matched === undefined ? match.path : [...routed.matched, ...match.path];
      routed.router = router;
      routed.routeMatched = true;
      return serveMatched(ctx, state, path, match.pathAndMethod);
    }
    let downstream: Promise<unknown>;
    try {
      downstream = next();
    } catch (error) {
      return failed(ctx, state, error);
    }
    return Promise.resolve(downstream).then(
      () => answered(ctx, state),
      (error: unknown) => failed(ctx, state, error),
    );
  };
  const afterOnRequest = (
    ctx: Context,
    next: Next,
    state: RequestState,
    early: EncodedResponse | undefined,
  ): void | Promise<void> => {
    if (early === undefined) return dispatch(ctx, next, state);
    writeContext(ctx, early);
    return undefined;
  };
  // Inside the request's context; promises only where something is asynchronous.
  const handle = (ctx: Context, next: Next, state: RequestState): void | Promise<void> => {
    const early = answerOnRequest(hooks, state);
    if (isThenable(early)) return early.then((answer) => afterOnRequest(ctx, next, state, answer));
    return afterOnRequest(ctx, next, state, early);
  };

  return function prodKoaMiddleware(ctx, next) {
    if ((ctx as WithState)[STATE] !== undefined) return next();
    const state = stateOf(ctx);
    return runWithContext(state.context, () => handle(ctx, next, state));
  };
}

/** A route layer of @koa/router, as far as `serveMatched` uses it. */
type RouterLayer = Layer;

/** The context fields @koa/router sets on a routed request. */
interface RoutedContext {
  matched?: RouterLayer[];
  router?: Router;
  routeMatched?: boolean;
  captures: string[];
  params: Record<string, string>;
  request: { params: Record<string, string> };
  routerPath?: string;
  routerName?: string | undefined;
  newRouterPath?: string;
  _matchedRoute?: string;
  _matchedRouteName?: string;
}

/** Nothing downstream answered: Koa would send its plain-text 404. */
function unanswered(ctx: Context): boolean {
  return ctx.respond !== false && !ctx.headerSent && ctx.status === 404 && ctx.body == null;
}
