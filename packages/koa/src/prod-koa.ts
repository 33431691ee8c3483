import Router, { type Layer } from '@koa/router';
import type { Route } from '@prod/core';
import { type AdapterOptions, createAdapterKit, type Exchange } from '@prod/core/adapter';
import type { Context, Middleware, Next } from 'koa';
import { KoaErrors } from './errors.js';
import { KoaRequestView } from './internal/koa-view.js';
import { CONTEXT_HEADERS, writeContext } from './internal/write-context.js';

/** Options of {@link prodKoa}. */
export type ProdKoaOptions = AdapterOptions;

const ANSWERED_HERE = (): void => {};

/**
 * The Koa 3 middleware that mounts neutral parts: `app.use(prodKoa({ parts }))`, first.
 *
 * Details: every request runs in the request context (its id echoed in `x-request-id`) and
 * through each part's `onRequest` (with the part route's metadata, when one matched); the
 * parts' routes (matched with @koa/router's public `match`) are served with the kit's JSON
 * body reader and 405 with `Allow` for any other method; everything else goes on to your
 * middleware. The middleware is the error boundary: whatever your middleware throws, and a
 * request nothing answered (404), becomes `application/problem+json` through the parts'
 * `onError`; each part's `onSend` decorates every response, and the headers of yours.
 *
 * Gotchas: mount it before your routers and body parsers, so that it sees (and can answer
 * for) everything.
 *
 * @example
 * import Router from '@koa/router';
 * import Koa from 'koa';
 * declare const notesPart: Part;
 * const app = new Koa();
 * app.use(prodKoa({ parts: [notesPart] }));
 * const router = new Router();
 * router.get('/native', (ctx) => {
 *   ctx.body = 'ok';
 * });
 * app.use(router.routes());
 * app.listen(3000);
 */
export function prodKoa(options: ProdKoaOptions): Middleware {
  const kit = createAdapterKit<Context>({
    adapter: '@prod/koa',
    options,
    invalidOptions: KoaErrors.KOA_INVALID_OPTIONS,
    view: (ctx) => new KoaRequestView(ctx),
    write: writeContext,
    headers: CONTEXT_HEADERS,
  });
  // @koa/router only matches here (its public `match`, `captures` and `params`); the kit
  // answers, without the router's per-request middleware chain.
  const router = new Router();
  const partRoutes = new Map<Layer, Route>();
  for (const route of kit.routes) {
    partRoutes.set(router.register(route.path, [route.method], ANSWERED_HERE) as Layer, route);
  }
  const allowOf = new Map<string, string>(kit.paths.map(({ path, allow }) => [path, allow]));

  const afterNative = (ctx: Context, exchange: Exchange<Context>): void | Promise<void> => {
    if (unanswered(ctx)) return exchange.notFound();
    if (kit.decoratesNative && ctx.respond !== false && !ctx.headerSent) {
      exchange.decorate(ctx.status, ctx.response.headers);
    }
    return undefined;
  };
  const downstream = (ctx: Context, next: Next, exchange: Exchange<Context>): Promise<void> =>
    next().then(
      () => afterNative(ctx, exchange),
      (error: unknown) => exchange.fail(error),
    );

  return function prodKoaMiddleware(ctx, next) {
    if (kit.existing(ctx) !== undefined) return next();
    const exchange = kit.exchange(ctx);
    const path = ctx.path;
    const match = router.match(path, ctx.method);
    if (match.route) {
      const layer = match.pathAndMethod.find((candidate) => candidate.methods.length > 0);
      const route = layer === undefined ? undefined : partRoutes.get(layer);
      if (layer !== undefined && route !== undefined) {
        (exchange.view as KoaRequestView).routed(layer.params(path, layer.captures(path), {}));
        return exchange.serve(route);
      }
    }
    const known = match.path[0];
    if (known !== undefined) {
      return exchange.methodNotAllowed(allowOf.get(String(known.path)) ?? '');
    }
    return exchange.pass(() => downstream(ctx, next, exchange)) as Promise<void> | undefined;
  };
}

/** Nothing downstream answered: Koa would send its plain-text 404. */
function unanswered(ctx: Context): boolean {
  return ctx.respond !== false && !ctx.headerSent && ctx.status === 404 && ctx.body == null;
}
