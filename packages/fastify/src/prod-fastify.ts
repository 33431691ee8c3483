import { currentContext, isThenable, runWithContext } from '@prod/core';
import {
  type AdapterOptions,
  answerOnRequest,
  answerRoute,
  beginRequest,
  type EncodedResponse,
  encodeError,
  encodeMethodNotAllowed,
  encodeNotFound,
  JSON_MEDIA_TYPE,
  methodsByPath,
  partHooks,
  type RequestState,
  unparsableBody,
} from '@prod/core/adapter';
import { toHttpResponse } from '@prod/errors';
import bytes from 'bytes';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import { FastifyRequestView } from './internal/fastify-view.js';
import { sendReply } from './internal/send-reply.js';

/**
 * Options of the {@link prodFastify} plugin. `bodyLimit` applies to neutral routes; your own
 * routes keep Fastify's `bodyLimit`.
 */
export type ProdFastifyOptions = AdapterOptions;

function toBytes(limit: number | string): number {
  const parsed = typeof limit === 'number' ? limit : bytes.parse(limit);
  if (parsed === null || !Number.isInteger(parsed) || parsed <= 0) {
    throw new TypeError(`@prod/fastify: bodyLimit ${String(limit)} is not a size`);
  }
  return parsed;
}

async function prodFastifyPlugin(
  fastify: FastifyInstance,
  options: ProdFastifyOptions,
): Promise<void> {
  const hooks = partHooks({
    adapter: '@prod/fastify',
    parts: options.parts,
    onHookError: options.onHookError,
    renderError: toHttpResponse,
  });
  const bodyLimit = toBytes(options.bodyLimit ?? '1mb');
  // The request's state lives on the Fastify request and dies with it (a WeakMap entry would
  // outlive a young request until a full GC). One symbol per plugin instance.
  const STATE = Symbol('@prod/fastify request state');
  type WithState = FastifyRequest & { [STATE]?: RequestState };

  const stateOf = (request: FastifyRequest, reply: FastifyReply): RequestState => {
    let state = (request as WithState)[STATE];
    if (state === undefined) {
      state = beginRequest(hooks, new FastifyRequestView(request, reply), reply.raw);
      (request as WithState)[STATE] = state;
      reply.header('x-request-id', state.requestId);
    }
    return state;
  };

  const sendEarly = (
    reply: FastifyReply,
    early: EncodedResponse | undefined,
    done: (error?: Error) => void,
  ): void => {
    if (early === undefined) done();
    else sendReply(reply, early);
  };

  fastify.addHook('onRequest', (request, reply, done) => {
    const state = stateOf(request, reply);
    // Fastify runs the rest of the lifecycle from `done`: call it inside the context.
    runWithContext(state.context, () => {
      if (hooks.onRequest.length === 0) return done();
      const early = answerOnRequest(hooks, state);
      if (isThenable(early)) early.then((answer) => sendEarly(reply, answer, done), done);
      else sendEarly(reply, early, done);
    });
  });
  // Body parsing can resume from stream events outside the context; enter it again before
  // validation and the handler (the pattern @fastify/request-context uses).
  fastify.addHook('preValidation', (request, _reply, done) => {
    const state = (request as WithState)[STATE];
    if (state === undefined || currentContext() === state.context) done();
    else runWithContext(state.context, done);
  });

  fastify.setNotFoundHandler(async (request, reply) =>
    sendReply(reply, await encodeNotFound(hooks, stateOf(request, reply))),
  );
  fastify.setErrorHandler(async (error, request, reply) => {
    // Headers already gone (a stream failed mid-way): nothing left to answer.
    if (reply.sent) return reply;
    return sendReply(reply, await encodeError(hooks, stateOf(request, reply), error));
  });

  // The neutral routes live in their own context, with a JSON-only body parser.
  await fastify.register(async (routes) => {
    const parseJson = routes.getDefaultJsonParser('error', 'error');
    routes.removeAllContentTypeParsers();
    routes.addContentTypeParser(
      JSON_MEDIA_TYPE,
      { parseAs: 'string', bodyLimit },
      (request, body, done) => {
        const text = typeof body === 'string' ? body : body.toString('utf8');
        if (text === '') return done(null, undefined);
        parseJson(request, text, (error, value) => {
          if (error) done(unparsableBody(text, error), undefined);
          else done(null, value);
        });
      },
    );
    for (const route of hooks.routes) {
      routes.route({
        method: route.method,
        url: route.path,
        bodyLimit,
        // Not async: a route that answers synchronously sends without making a promise.
        handler: (request, reply) => {
          const state = stateOf(request, reply);
          const encoded = answerRoute(hooks, state, route, () => request.body);
          if (!isThenable(encoded)) {
            sendReply(reply, encoded);
            return undefined;
          }
          return encoded.then((answer) => {
            sendReply(reply, answer);
          });
        },
      });
    }
    for (const { path, allow, rejected } of methodsByPath(hooks.routes)) {
      routes.route({
        method: [...rejected],
        url: path,
        bodyLimit,
        exposeHeadRoute: false,
        handler: async (request, reply) =>
          sendReply(reply, await encodeMethodNotAllowed(hooks, stateOf(request, reply), allow)),
      });
    }
  });
}

/**
 * The Fastify 5 plugin that mounts neutral parts (made with fastify-plugin, so its hooks,
 * 404 and error handler apply to the whole app, your routes included).
 *
 * Details: every request runs in the request context and through each part's
 * `onRequest`; the parts' routes are served with a JSON-only body parser (prototype keys
 * refused) and 405 for their other methods; 404s and every error (Fastify's own
 * body-limit, media-type and JSON errors included) become `application/problem+json`
 * through the parts' `onError` and `toHttpResponse` from @prod/errors.
 *
 * Gotchas: it sets the app's not-found and error handlers, so register it once, before
 * your routes, and do not set those handlers at the root yourself.
 *
 * @example
 * const app = Fastify();
 * await app.register(prodFastify, { parts: [notesPart] });
 * app.get('/native', async () => 'ok');
 * await app.listen({ port: 3000 });
 */
export const prodFastify: FastifyPluginAsync<ProdFastifyOptions> = fastifyPlugin(
  prodFastifyPlugin,
  { name: '@prod/fastify', fastify: '5.x' },
);
