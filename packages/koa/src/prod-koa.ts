import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import { type Part, runWithContext } from '@prod/core';
import {
  beginRequest,
  earlyResponse,
  encodeError,
  encodeMethodNotAllowed,
  encodeNotFound,
  type HookErrorReporter,
  methodsByPath,
  partHooks,
  type RequestState,
  serveRoute,
} from '@prod/core/adapter';
import { toHttpResponse } from '@prod/errors';
import type { Context, Middleware } from 'koa';
import { KoaRequestView } from './internal/koa-view.js';
import { writeContext } from './internal/write-context.js';

/** Options of {@link prodKoa}. */
export interface ProdKoaOptions {
  /** The parts to mount, in order: their hooks run in this order (onResponse in reverse). */
  readonly parts: readonly Part[];
  /**
   * Largest JSON body a neutral route accepts, in bytes or as `'1mb'`, `'200kb'`.
   * Default `'1mb'`. A larger body gets PAYLOAD_TOO_LARGE (413).
   */
  readonly bodyLimit?: number | string;
  /**
   * Called when a part's `onResponse` or `onError` throws (the request carries on).
   * Default: `console.error`.
   */
  readonly onHookError?: HookErrorReporter;
}

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
  const states = new WeakMap<Context, RequestState>();
  const stateOf = (ctx: Context): RequestState => {
    let state = states.get(ctx);
    if (state === undefined) {
      state = beginRequest(hooks, new KoaRequestView(ctx), ctx.res);
      states.set(ctx, state);
      ctx.set('x-request-id', state.requestId);
    }
    return state;
  };

  const router = new Router();
  for (const route of hooks.routes) {
    router.register(route.path, [route.method], async (ctx) => {
      const readBody = async (): Promise<unknown> => {
        await parseBody(ctx, async () => {});
        return (ctx.request as { body?: unknown }).body;
      };
      writeContext(ctx, await serveRoute(hooks, stateOf(ctx), route, readBody));
    });
  }
  for (const { path, allow, rejected } of methodsByPath(hooks.routes)) {
    router.register(path, [...rejected], async (ctx) => {
      writeContext(ctx, await encodeMethodNotAllowed(hooks, stateOf(ctx), allow));
    });
  }
  // Router middleware typed for Koa's plain context: the router adds params itself.
  const routes = router.routes() as unknown as Middleware;

  return async function prodKoaMiddleware(ctx, next) {
    if (states.has(ctx)) return next();
    const state = stateOf(ctx);
    await runWithContext(state.context, async () => {
      const early = await earlyResponse(hooks, state);
      if (early !== undefined) return writeContext(ctx, early);
      try {
        await routes(ctx, next);
      } catch (error) {
        return writeContext(ctx, await encodeError(hooks, state, error));
      }
      if (unanswered(ctx)) writeContext(ctx, await encodeNotFound(hooks, state));
    });
  };
}

/** Nothing downstream answered: Koa would send its plain-text 404. */
function unanswered(ctx: Context): boolean {
  return ctx.respond !== false && !ctx.headerSent && ctx.status === 404 && ctx.body == null;
}
