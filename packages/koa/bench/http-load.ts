// Requests/s of a hello route on Koa 3: bare (@koa/router), with its usual peer middleware
// (a tiny request id middleware, koa-pino-logger, a prom-client histogram middleware) and with
// the @prod stack (request id, request logging, metrics, tracing without SDK).
// Every stack logs to a discarding stream.
// Run: pnpm bench:http (CONNECTIONS, DURATION, WARMUP, ROUNDS: see config/bench-http.ts).
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import Router from '@koa/router';
import { definePart, json, type Part } from '@prod/core';
import { prodKoa } from '@prod/koa';
import { createLogger, requestLoggingPart } from '@prod/logger';
import { createMetrics, metricsPart } from '@prod/metrics';
import { tracingPart } from '@prod/tracing';
import Koa from 'koa';
import koaPackage from 'koa/package.json' with { type: 'json' };
import koaPinoLogger from 'koa-pino-logger';
import { pino } from 'pino';
import promClient from 'prom-client';
import {
  type Contender,
  listen,
  type ProdStack,
  prodContenders,
  runHttpLoad,
} from '../../../config/bench-http.js';

const PROD = '@prod (@prod/koa + tracing, logging, metrics parts)';

const stack: ProdStack<Part> = {
  tracing: () => tracingPart(),
  logging: (log) => requestLoggingPart({ logger: createLogger({ destination: log }) }),
  metrics: () => metricsPart(createMetrics()),
  hello: definePart({
    name: 'hello',
    routes: [{ method: 'GET', path: '/hello', handler: () => json(200, { hello: 'world' }) }],
  }),
};

function helloRouter(): Router {
  const router = new Router();
  router.get('/hello', (ctx) => {
    ctx.body = { hello: 'world' };
  });
  return router;
}

const bare: Contender = async () => {
  const app = new Koa();
  app.use(helloRouter().routes());
  return listen(createServer(app.callback()));
};

const peer: Contender = async (log) => {
  const registry = new promClient.Registry();
  promClient.collectDefaultMetrics({ register: registry });
  const duration = new promClient.Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration in seconds',
    labelNames: ['method', 'route', 'status_code'],
    registers: [registry],
  });
  const app = new Koa();
  // Request id: the incoming x-request-id or a UUID, echoed; pino-http reuses `req.id`.
  app.use((ctx, next) => {
    const incoming = ctx.get('x-request-id');
    const id = incoming === '' ? randomUUID() : incoming;
    (ctx.req as typeof ctx.req & { id: string }).id = id;
    ctx.set('x-request-id', id);
    return next();
  });
  app.use(koaPinoLogger({ logger: pino({}, log) }));
  app.use(async (ctx, next) => {
    const start = performance.now();
    try {
      await next();
    } finally {
      const route = typeof ctx._matchedRoute === 'string' ? ctx._matchedRoute : '_unmatched';
      duration.observe(
        { method: ctx.method, route, status_code: ctx.status },
        (performance.now() - start) / 1000,
      );
    }
  });
  const router = helloRouter();
  router.get('/metrics', async (ctx) => {
    ctx.type = registry.contentType;
    ctx.body = await registry.metrics();
  });
  app.use(router.routes());
  return listen(createServer(app.callback()));
};

const prod = prodContenders(PROD, stack, async (parts) => {
  const app = new Koa();
  app.use(prodKoa({ parts }));
  return listen(createServer(app.callback()));
});

await runHttpLoad({
  title: `Koa ${koaPackage.version}`,
  benchUrl: import.meta.url,
  contenders: {
    bare,
    'peer (koa-pino-logger + prom-client middleware)': peer,
    ...prod,
  },
  bare: 'bare',
  baseline: 'peer (koa-pino-logger + prom-client middleware)',
  path: '/hello',
});
