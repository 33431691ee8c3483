// Per-request recording cost of the metrics part against express-prom-bundle's middleware and
// fastify-metrics' hooks, in-process with fake request/response objects (no HTTP): each call
// records one request, cycling over the same 20 routes x 3 statuses x 2 methods, into a
// histogram with the same OpenTelemetry buckets, on a private registry.
// Run: `pnpm bench:micro metrics/bench/http-metrics`.
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { type HttpRequest, runWithContext } from '@prod/core';
import { createMetrics, HTTP_SERVER_DURATION_BUCKETS, metricsPart } from '@prod/metrics';
import promBundle from 'express-prom-bundle';
import * as promClient from 'prom-client';
import { runMicro } from '../../../config/bench-micro.js';

const require = createRequire(import.meta.url);
const BUCKETS = [...HTTP_SERVER_DURATION_BUCKETS];
const ROUTES = Array.from({ length: 20 }, (_, i) => `/api/v1/resource${i}/:id`);
const STATUSES = [200, 404, 500];
const METHODS = ['GET', 'POST', 'GET'];

interface Shape {
  readonly method: string;
  readonly route: string;
  readonly path: string;
  readonly status: number;
}
const shapes: Shape[] = Array.from({ length: 60 }, (_, i) => {
  const route = ROUTES[i % ROUTES.length] as string;
  return {
    method: METHODS[i % 3] as string,
    route,
    path: route.replace(':id', String(1000 + i)),
    status: STATUSES[Math.floor(i / 20)] as number,
  };
});

// --- @prod/metrics ---------------------------------------------------------------------
function prodPart(exemplars: boolean) {
  const metrics = createMetrics({ runtime: false, exemplars });
  return metricsPart(metrics);
}
const neutralRequests: HttpRequest[] = shapes.map((s) => ({
  method: s.method,
  path: s.path,
  route: s.route,
  headers: {},
  ip: '127.0.0.1',
  query: {},
  params: { id: '1' },
  body: undefined,
  signal: undefined,
  meta: {},
}));
const prod = prodPart(false);
const prodAdapterLike = prodPart(false);
const prodExemplars = prodPart(true);
const context = {
  requestId: 'r1',
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
};

// --- express-prom-bundle -----------------------------------------------------------------
function fakeExpress(shape: Shape) {
  const socket = Object.assign(new EventEmitter(), { writable: true });
  const res = Object.assign(new EventEmitter(), {
    writableEnded: false,
    headersSent: true,
    statusCode: shape.status,
    socket,
  });
  const req = {
    method: shape.method,
    url: shape.path,
    originalUrl: shape.path,
    baseUrl: '',
    route: { path: shape.route },
  };
  return { req, res };
}
const expressPairs = shapes.map(fakeExpress);
const noop = (): void => {};
function bundle(normalizePath?: (req: { route: { path: string } }) => string) {
  return promBundle({
    promRegistry: new promClient.Registry(),
    autoregister: false,
    includeUp: false,
    includeMethod: true,
    includePath: true,
    buckets: BUCKETS,
    ...(normalizePath === undefined ? {} : { normalizePath: normalizePath as never }),
  });
}
const bundleTemplate = bundle((req) => req.route.path);
const bundleDefault = bundle();

// --- fastify-metrics ---------------------------------------------------------------------
type Hook = (request: unknown, reply: unknown, done: () => void) => void;
async function fastifyHooks(histogramOnly: boolean, otelLabels = false) {
  const plugin = require('fastify-metrics').default as (
    fastify: unknown,
    options: unknown,
  ) => Promise<void>;
  const hooks: Record<string, Hook | ((route: unknown) => void)> = {};
  const fake = {
    addHook(name: string, fn: Hook) {
      hooks[name] = fn;
      return fake;
    },
    decorate: noop,
    route: noop,
  };
  const registry = new promClient.Registry();
  await plugin(fake, {
    promClient,
    endpoint: null,
    defaultMetrics: { enabled: false },
    routeMetrics: {
      enabled: histogramOnly ? { histogram: true, summary: false } : true,
      overrides: {
        ...(otelLabels
          ? {
              labels: {
                method: 'http_request_method',
                route: 'http_route',
                status: 'http_response_status_code',
              },
            }
          : {}),
        histogram: { registers: [registry], buckets: BUCKETS },
        summary: { registers: [registry] },
      },
    },
  });
  for (const route of ROUTES) {
    for (const method of ['GET', 'POST']) {
      (hooks.onRoute as (route: unknown) => void)({ url: route, method });
    }
  }
  return { onRequest: hooks.onRequest as Hook, onResponse: hooks.onResponse as Hook };
}
const fastifyPairs = shapes.map((s) => ({
  request: {
    method: s.method,
    url: s.path,
    raw: { url: s.path },
    routeOptions: { url: s.route, config: {} },
  },
  reply: { statusCode: s.status },
}));
const fastifyHistogram = await fastifyHooks(true);
const fastifyOtel = await fastifyHooks(true, true);
const fastifyDefaults = await fastifyHooks(false);

let cursor = 0;
function next(): number {
  cursor = (cursor + 1) % shapes.length;
  return cursor;
}

const PROD = '@prod/metrics part.onResponse (+ adapter timing)';
const BUNDLE_SAME = 'express-prom-bundle, route template as path label (same work)';
const BUNDLE_DEFAULT = 'express-prom-bundle, default url-value-parser path normalization';
const FASTIFY_SAME = 'fastify-metrics, histogram only, same OpenTelemetry label names (same work)';
const FASTIFY_SHORT = 'fastify-metrics, histogram only, its short label names';
const FASTIFY_DEFAULT = 'fastify-metrics defaults (histogram + summary)';

await runMicro({
  file: import.meta.url,
  title: '@prod/metrics: per-request recording vs express-prom-bundle and fastify-metrics',
  groups: [
    {
      name: 'per-request recording (one request per call)',
      // In a request context carrying trace ids, as in a service: the exemplars read them;
      // nothing else does.
      around: (run) => runWithContext(context, run),
      contenders: {
        [PROD]: () => {
          const i = next();
          const started = performance.now();
          prod.onResponse?.(neutralRequests[i] as HttpRequest, {
            status: (shapes[i] as Shape).status,
            durationMs: performance.now() - started,
          });
        },
        '@prod/metrics via a finish listener (adapter-like)': () => {
          const i = next();
          const { res } = expressPairs[i] as ReturnType<typeof fakeExpress>;
          const started = performance.now();
          res.once('finish', () =>
            prodAdapterLike.onResponse?.(neutralRequests[i] as HttpRequest, {
              status: res.statusCode,
              durationMs: performance.now() - started,
            }),
          );
          res.emit('finish');
        },
        '@prod/metrics with trace exemplars': () => {
          const i = next();
          const started = performance.now();
          prodExemplars.onResponse?.(neutralRequests[i] as HttpRequest, {
            status: (shapes[i] as Shape).status,
            durationMs: performance.now() - started,
          });
        },
        [BUNDLE_SAME]: () => {
          const { req, res } = expressPairs[next()] as ReturnType<typeof fakeExpress>;
          bundleTemplate(req as never, res as never, noop);
          res.emit('finish');
        },
        [BUNDLE_DEFAULT]: () => {
          const { req, res } = expressPairs[next()] as ReturnType<typeof fakeExpress>;
          bundleDefault(req as never, res as never, noop);
          res.emit('finish');
        },
        [FASTIFY_SAME]: () => {
          const { request, reply } = fastifyPairs[next()] as (typeof fastifyPairs)[number];
          fastifyOtel.onRequest(request, reply, noop);
          fastifyOtel.onResponse(request, reply, noop);
        },
        [FASTIFY_SHORT]: () => {
          const { request, reply } = fastifyPairs[next()] as (typeof fastifyPairs)[number];
          fastifyHistogram.onRequest(request, reply, noop);
          fastifyHistogram.onResponse(request, reply, noop);
        },
        [FASTIFY_DEFAULT]: () => {
          const { request, reply } = fastifyPairs[next()] as (typeof fastifyPairs)[number];
          fastifyDefaults.onRequest(request, reply, noop);
          fastifyDefaults.onResponse(request, reply, noop);
        },
      },
      ratios: [
        { ours: PROD, peer: BUNDLE_SAME },
        { ours: PROD, peer: BUNDLE_DEFAULT },
        { ours: PROD, peer: FASTIFY_SAME },
        { ours: PROD, peer: FASTIFY_SHORT },
        { ours: PROD, peer: FASTIFY_DEFAULT },
        {
          ours: PROD,
          peer: '@prod/metrics with trace exemplars',
          label: 'without vs with trace exemplars',
        },
      ],
    },
  ],
});
