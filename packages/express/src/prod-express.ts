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
import express, {
  type ErrorRequestHandler,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
  type Router,
} from 'express';
import { ExpressRequestView } from './internal/express-view.js';
import { writeResponse } from './internal/write-response.js';

/** Options of {@link prodExpress} and {@link mountExpress}. */
export type ProdExpressOptions = AdapterOptions;

/** What {@link prodExpress} returns: mount `handler` first and `finalHandler` last. */
export interface ProdExpress {
  /**
   * A Router that runs every request in the request context, echoes `x-request-id`, runs
   * each part's `onRequest`, and serves the parts' routes (405 for their other methods).
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
 * Details: `handler` goes before your routes, so every request (yours and 404s included)
 * runs in the request context and through each part's `onRequest`. `finalHandler` goes
 * after them: unmatched paths get a NOT_FOUND problem, and any error passed to `next()`
 * (body-parser failures included) becomes `application/problem+json` through the parts'
 * `onError` and `toHttpResponse` from @prod/errors.
 *
 * Gotchas: mount one `prodExpress` per app, with all its parts. Neutral routes parse their
 * own JSON body (express.json with `bodyLimit`); your routes keep their own parsers.
 *
 * @example
 * const app = express();
 * const prod = prodExpress({ parts: [notesPart] });
 * app.use(prod.handler);
 * app.get('/native', (req, res) => res.send('ok'));
 * app.use(prod.finalHandler);
 */
export function prodExpress(options: ProdExpressOptions): ProdExpress {
  const hooks = partHooks({
    adapter: '@prod/express',
    parts: options.parts,
    onHookError: options.onHookError,
    renderError: toHttpResponse,
  });
  const json = express.json({ limit: options.bodyLimit ?? '1mb', strict: false, type: () => true });
  // The request's state lives on the Express request and dies with it (a WeakMap entry would
  // outlive a young request until a full GC). One symbol per prodExpress instance.
  const STATE = Symbol('@prod/express request state');
  type WithState = Request & { [STATE]?: RequestState };

  const stateOf = (req: Request, res: Response): RequestState => {
    let state = (req as WithState)[STATE];
    if (state === undefined) {
      state = beginRequest(hooks, new ExpressRequestView(req, res), res);
      (req as WithState)[STATE] = state;
      res.setHeader('x-request-id', state.requestId);
    }
    return state;
  };

  // Returned, not assigned to a name: name-keeping tools would rename it on every request.
  const bodyReader = (req: Request, res: Response) => (): Promise<unknown> =>
    new Promise((resolve, reject) => {
      json(req, res, (error?: unknown) => (error ? reject(error) : resolve(req.body)));
    });

  const afterOnRequest = (
    res: Response,
    next: NextFunction,
    early: EncodedResponse | undefined,
  ): void => {
    if (early === undefined) next();
    else send(res, early, next);
  };

  const router = express.Router();
  router.use((req, res, next) => {
    if ((req as WithState)[STATE] !== undefined) return next();
    const state = stateOf(req, res);
    // Everything downstream (your routes too) runs in the request context.
    runWithContext(state.context, () => {
      if (hooks.onRequest.length === 0) return next();
      const early = answerOnRequest(hooks, state);
      if (!isThenable(early)) return afterOnRequest(res, next, early);
      early.then((answer) => afterOnRequest(res, next, answer)).catch(next);
    });
  });

  for (const route of hooks.routes) {
    router[METHOD_NAMES[route.method]](route.path, (req: Request, res: Response, next) => {
      const encoded = answerRoute(hooks, stateOf(req, res), route, bodyReader(req, res));
      if (!isThenable(encoded)) send(res, encoded, next);
      else encoded.then((answer) => send(res, answer, next)).catch(next);
    });
  }
  for (const { path, allow, rejected } of methodsByPath(hooks.routes)) {
    for (const method of rejected) {
      router[METHOD_NAMES[method]](path, (req: Request, res: Response, next) => {
        encodeMethodNotAllowed(hooks, stateOf(req, res), allow)
          .then((encoded) => send(res, encoded, next))
          .catch(next);
      });
    }
  }

  const notFound: RequestHandler = (req, res, next) => {
    encodeNotFound(hooks, stateOf(req, res))
      .then((encoded) => send(res, encoded, next))
      .catch(next);
  };
  const onError: ErrorRequestHandler = (error: unknown, req, res, next) => {
    // Headers already gone (a stream failed mid-way): let Express close the connection.
    if (res.headersSent) return next(error);
    encodeError(hooks, stateOf(req, res), error)
      .then((encoded) => send(res, encoded, next))
      .catch(next);
  };
  return { handler: router, finalHandler: [notFound, onError] };
}

/** Writes an encoded response; a failure (a stream's, at most) goes to Express's `next`. */
function send(res: Response, encoded: EncodedResponse, next: NextFunction): void {
  const written = writeResponse(res, encoded);
  if (written !== undefined) written.catch(next);
}
