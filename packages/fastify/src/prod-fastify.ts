import type { Route } from '@prod/core';
import { type AdapterOptions, createAdapterKit } from '@prod/core/adapter';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import FindMyWay from 'find-my-way';
import { FastifyErrors } from './errors.js';
import { FastifyRequestView } from './internal/fastify-view.js';
import { KIT } from './internal/kit-key.js';
import { REPLY_HEADERS, sendReply } from './internal/send-reply.js';

/**
 * Options of the {@link prodFastify} plugin. `bodyLimit` applies to part routes; your own
 * routes keep Fastify's `bodyLimit`.
 */
export type ProdFastifyOptions = AdapterOptions;

// The part route a Fastify route serves, in its route config.
const ROUTE = Symbol.for('@prod/fastify/route');

function partRouteOf(request: FastifyRequest): { url: unknown; route: Route | undefined } {
  // `routeOptions` builds a new object on every read: read it once per request.
  const options = request.routeOptions;
  const config = options?.config as { [ROUTE]?: Route } | undefined;
  return { url: options?.url, route: config?.[ROUTE] };
}

/** What the kit's body reader refused, carried to the handler. */
class BodyRefusal {
  readonly error: unknown;
  constructor(error: unknown) {
    this.error = error;
  }
}

function bodyOf(request: FastifyRequest): unknown {
  const body: unknown = request.body;
  if (body instanceof BodyRefusal) throw body.error;
  return body;
}

async function prodFastifyPlugin(
  fastify: FastifyInstance,
  options: ProdFastifyOptions,
): Promise<void> {
  const kit = createAdapterKit<FastifyReply>({
    adapter: '@prod/fastify',
    options,
    invalidOptions: FastifyErrors.FASTIFY_INVALID_OPTIONS,
    view: (reply) => new FastifyRequestView(reply.request, reply),
    write: sendReply,
    headers: REPLY_HEADERS,
  });
  fastify.decorate(KIT, kit);

  fastify.addHook('onRequest', (request, reply, done) => {
    const exchange = kit.exchange(reply);
    const { url, route } = partRouteOf(request);
    (exchange.view as FastifyRequestView).routed(url);
    if (route !== undefined) exchange.match(route);
    // Fastify runs the rest of the lifecycle from `done`: `pass` calls it inside the context.
    void exchange.pass(done);
  });
  // Body parsing can resume from stream events outside the context; enter it again before
  // validation and the handler (the pattern @fastify/request-context uses).
  fastify.addHook('preValidation', (_request, reply, done) => {
    const exchange = kit.existing(reply);
    if (exchange === undefined) done();
    else exchange.run(done);
  });
  if (kit.decoratesNative) {
    fastify.addHook('onSend', (_request, reply, payload, done) => {
      const exchange = kit.existing(reply);
      if (exchange !== undefined && !exchange.answered) {
        exchange.decorate(reply.statusCode, reply.getHeaders());
      }
      done(null, payload);
    });
  }

  // Methods Fastify cannot route (PROPFIND...) reach the 404 handler: find-my-way, Fastify's
  // own router, tells a known part path from an unknown one.
  const paths = FindMyWay({ maxParamLength: Number.MAX_SAFE_INTEGER });
  for (const { path, allow } of kit.paths) paths.on('GET', path, () => {}, allow);
  fastify.setNotFoundHandler((_request, reply) => {
    const exchange = kit.exchange(reply);
    const known = paths.find('GET', exchange.view.path);
    return known === null ? exchange.notFound() : exchange.methodNotAllowed(String(known.store));
  });
  fastify.setErrorHandler((error, _request, reply) => {
    // Headers already gone (a stream failed mid-way): nothing left to answer.
    if (reply.sent) return reply;
    return kit.exchange(reply).fail(error);
  });

  // The part routes live in their own context, where the kit reads every body (its limits,
  // content encodings and inspection, the same as on Express and Koa).
  await fastify.register(async (routes) => {
    routes.removeAllContentTypeParsers();
    routes.addContentTypeParser('*', (request, _payload, done) => {
      // A refusal travels to the handler as the body, not as a parser error: Fastify answers
      // parser errors itself with `Connection: close`, where the kit keeps the connection of a
      // small refused body (as on Express and Koa) and closes it only for a large upload.
      kit.readBody(request.raw).then(
        (body) => done(null, body),
        (error: unknown) => done(null, new BodyRefusal(error)),
      );
    });
    for (const route of kit.routes) {
      routes.route({
        method: route.method,
        url: route.path,
        config: { [ROUTE]: route },
        // Not async: a route that answers synchronously sends without making a promise.
        handler: (request, reply) => kit.exchange(reply).serve(route, () => bodyOf(request)),
      });
    }
    const supported = fastify.supportedMethods;
    for (const { path, allow, methods } of kit.paths) {
      routes.route({
        method: supported.filter((method) => !methods.has(method as 'GET')),
        url: path,
        exposeHeadRoute: false,
        handler: (_request, reply) => kit.exchange(reply).methodNotAllowed(allow),
      });
    }
  });
}

/**
 * The Fastify 5 plugin that mounts neutral parts (made with fastify-plugin, so its hooks,
 * 404 and error handler apply to the whole app, your routes included).
 *
 * Details: every request runs in the request context and through each part's `onRequest`
 * (with the part route's metadata, when one matched); the parts' routes are served with the
 * kit's JSON body reader (limits, content encodings, prototype keys and unstorable text
 * refused) and 405 with `Allow` for every other method; 404s and every error (Fastify's own
 * included) become `application/problem+json` through the parts' `onError`; each part's
 * `onSend` decorates every response, and the headers of your own routes' responses.
 *
 * Gotchas: it sets the app's not-found and error handlers, so register it once, before your
 * routes, and do not set those handlers at the root yourself. Pass
 * `...fastifyServerOptions()` to `Fastify()` so that the errors Fastify raises before any
 * plugin runs answer the same way.
 *
 * @example
 * import Fastify from 'fastify';
 * declare const notesPart: Part;
 * const app = Fastify({ ...fastifyServerOptions() });
 * await app.register(prodFastify, { parts: [notesPart] });
 * app.get('/native', async () => 'ok');
 * await app.listen({ port: 3000 });
 */
export const prodFastify: FastifyPluginAsync<ProdFastifyOptions> = fastifyPlugin(
  prodFastifyPlugin,
  { name: '@prod/fastify', fastify: '5.x' },
);
