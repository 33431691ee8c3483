import { type AdapterOptions, createAdapterKit, type Exchange } from '@prod/core/adapter';
import express, {
  type ErrorRequestHandler,
  type RequestHandler,
  type Response,
  type Router,
} from 'express';
import { ExpressErrors } from './errors.js';
import { decorateNative } from './internal/decorate-native.js';
import { ExpressRequestView } from './internal/express-view.js';
import { RESPONSE_HEADERS, writeResponse } from './internal/write-response.js';

/** Options of {@link prodExpress} and {@link mountExpress}. */
export type ProdExpressOptions = AdapterOptions;

/** What {@link prodExpress} returns: mount `handler` first and `finalHandler` last. */
export interface ProdExpress {
  /**
   * A Router that serves the parts' routes (405 with `Allow` for their other methods), and
   * runs every other request in the request context and through each part's `onRequest`
   * before your routes.
   */
  readonly handler: Router;
  /** The 404 handler and the error handler, both answering problem+json. */
  readonly finalHandler: [RequestHandler, ErrorRequestHandler];
}

const METHOD_NAMES = {
  GET: 'get',
  HEAD: 'head',
  POST: 'post',
  PUT: 'put',
  PATCH: 'patch',
  DELETE: 'delete',
  OPTIONS: 'options',
} as const;

/**
 * Mounts neutral parts on Express 4 or 5, for apps that also have their own routes.
 *
 * Details: `handler` goes before your routes. It answers the parts' routes itself and runs
 * every other request in the request context and through each part's `onRequest` (and, for
 * the headers of your routes' responses, each `onSend`). `finalHandler` goes after your
 * routes: unmatched paths get a NOT_FOUND problem, and any error passed to `next()` becomes
 * `application/problem+json` through the parts' `onError`.
 *
 * Gotchas: mount one `prodExpress` per app, with all its parts. Part routes read their own
 * JSON body (limits, encodings, prototype keys: see `bodyLimit`); your routes keep their own
 * parsers.
 *
 * @example
 * import express from 'express';
 * declare const notesPart: Part;
 * const app = express();
 * const prod = prodExpress({ parts: [notesPart] });
 * app.use(prod.handler);
 * app.get('/native', (_req, res) => {
 *   res.send('ok');
 * });
 * app.use(prod.finalHandler);
 */
export function prodExpress(options: ProdExpressOptions): ProdExpress {
  const kit = createAdapterKit<Response>({
    adapter: '@prod/express',
    options,
    invalidOptions: ExpressErrors.EXPRESS_INVALID_OPTIONS,
    view: (res) => new ExpressRequestView(res.req, res),
    write: writeResponse,
    headers: RESPONSE_HEADERS,
  });
  const router = express.Router();
  for (const route of kit.routes) {
    router[METHOD_NAMES[route.method]](route.path, (_req, res) => {
      void kit.exchange(res).serve(route);
    });
  }
  for (const { path, allow } of kit.paths) {
    router.all(path, (_req, res) => {
      void kit.exchange(res).methodNotAllowed(allow);
    });
  }
  router.use((_req, res, next) => {
    if (kit.existing(res) !== undefined) return next();
    const exchange: Exchange<Response> = kit.exchange(res);
    if (kit.decoratesNative) decorateNative(res, exchange);
    // Everything downstream (your routes too) runs in the request context.
    void exchange.pass(next);
  });

  const notFound: RequestHandler = (_req, res) => {
    void kit.exchange(res).notFound();
  };
  const onError: ErrorRequestHandler = (error: unknown, _req, res, next) => {
    // Headers already gone (a stream failed mid-way): let Express close the connection.
    if (res.headersSent) return next(error);
    void kit.exchange(res).fail(error);
  };
  return { handler: router, finalHandler: [notFound, onError] };
}
