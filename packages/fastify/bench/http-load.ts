// Requests/s of a hello route on Fastify 5: bare, with its usual peer plugins (its built-in
// pino logger + fastify-metrics, request id from `requestIdHeader`) and with the @prod stack
// (request id, request logging, metrics, tracing without SDK). Every stack logs
// to a discarding stream.
// Run: pnpm bench:http (CONNECTIONS, DURATION, WARMUP, ROUNDS: see config/bench-http.ts).
import { randomUUID } from 'node:crypto';
import { definePart, json, type Part } from '@prod/core';
import { prodFastify } from '@prod/fastify';
import { createLogger, requestLoggingPart } from '@prod/logger';
import { createMetrics, metricsPart } from '@prod/metrics';
import { tracingPart } from '@prod/tracing';
import Fastify, { type FastifyInstance } from 'fastify';
import fastifyPackage from 'fastify/package.json' with { type: 'json' };
import fastifyMetrics from 'fastify-metrics';
import {
  type BenchServer,
  type Contender,
  type ProdStack,
  prodContenders,
  runHttpLoad,
} from '../../../config/bench-http.js';

const PROD = '@prod (@prod/fastify + tracing, logging, metrics parts)';

const stack: ProdStack<Part> = {
  tracing: () => tracingPart(),
  logging: (log) => requestLoggingPart({ logger: createLogger({ destination: log }) }),
  metrics: () => metricsPart(createMetrics()),
  hello: definePart({
    name: 'hello',
    routes: [{ method: 'GET', path: '/hello', handler: () => json(200, { hello: 'world' }) }],
  }),
};

async function start(app: FastifyInstance): Promise<BenchServer> {
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url, close: () => app.close() };
}

const bare: Contender = async () => {
  const app = Fastify();
  app.get('/hello', async () => ({ hello: 'world' }));
  return start(app);
};

const peer: Contender = async (log) => {
  const app = Fastify({
    logger: { stream: log },
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
  });
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  await app.register(fastifyMetrics, { endpoint: '/metrics' });
  app.get('/hello', async () => ({ hello: 'world' }));
  return start(app);
};

const prod = prodContenders(PROD, stack, async (parts) => {
  const app = Fastify();
  await app.register(prodFastify, { parts });
  return start(app);
});

await runHttpLoad({
  title: `Fastify ${fastifyPackage.version}`,
  benchUrl: import.meta.url,
  contenders: {
    bare,
    'peer (built-in logger + fastify-metrics)': peer,
    ...prod,
  },
  bare: 'bare',
  baseline: 'peer (built-in logger + fastify-metrics)',
  path: '/hello',
});
