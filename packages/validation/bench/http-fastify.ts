// Requests/s of one validated route on Fastify 5: GET /orders with a query of five fields
// (numbers and an enum coerced from strings, a repeated key as an array) and the response
// checked against its schema (the shared driver checks that every contender answers
// {"hello":"world"}, so the body is that; the 20-field body is measured by validation.bench.ts). Bare Fastify (no validation), fastify-type-provider-zod
// 7 (its validatorCompiler for the query, serializerCompiler validating the response), and
// @prod/fastify with a defineRoute route through apiPart (sanitize, coerce, parse; response
// validation in `strip` mode, the production default). Each server in its own child process.
// Run: pnpm --filter @prod/validation bench:http (CONNECTIONS, DURATION, WARMUP, ROUNDS:
// config/bench-http.ts).
import { randomUUID } from 'node:crypto';
import { definePart, json } from '@prod/core';
import { fastifyServerOptions, prodFastify } from '@prod/fastify';
import { apiPart, defineRoute } from '@prod/validation';
import Fastify from 'fastify';
import fastifyPackage from 'fastify/package.json' with { type: 'json' };
import {
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import * as z from 'zod';
import { type Contender, runHttpLoad } from '../../../config/bench-http.js';
import { Hello, SEARCH_PATH } from './fixtures.js';

const started = async (app: ReturnType<typeof Fastify>) => {
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => app.close() };
};

const query = {
  limit: z.number().int().min(1).max(100),
  offset: z.number().int().min(0),
  status: z.enum(['open', 'paid']),
  tag: z.array(z.string()),
  q: z.string().optional(),
};

const bare: Contender = async () => {
  const app = Fastify();
  app.get('/orders', async () => ({ hello: 'world' }));
  return started(app);
};

const peer: Contender = async () => {
  const app = Fastify({
    genReqId: (req) => (req.headers['x-request-id'] as string | undefined) ?? randomUUID(),
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  const Query = z.object({
    limit: z.coerce.number().int().min(1).max(100),
    offset: z.coerce.number().int().min(0),
    status: z.enum(['open', 'paid']),
    tag: z.preprocess((value) => (Array.isArray(value) ? value : [value]), z.array(z.string())),
    q: z.string().optional(),
  });
  app
    .withTypeProvider<ZodTypeProvider>()
    .get('/orders', { schema: { querystring: Query, response: { 200: Hello } } }, async () => ({
      hello: 'world',
    }));
  return started(app);
};

const prod: Contender = async () => {
  const app = Fastify({ ...fastifyServerOptions() });
  const search = defineRoute({
    method: 'GET',
    path: '/orders',
    request: { query: z.object(query) },
    responses: { 200: Hello },
    responseValidation: 'strip',
    handler: () => ({ status: 200, body: { hello: 'world' } }),
  });
  await app.register(prodFastify, { parts: [apiPart({ routes: [search] })] });
  return started(app);
};

const prodPlain: Contender = async () => {
  const app = Fastify({ ...fastifyServerOptions() });
  const plain = definePart({
    name: 'plain',
    routes: [{ method: 'GET', path: '/orders', handler: () => json(200, { hello: 'world' }) }],
  });
  await app.register(prodFastify, { parts: [plain] });
  return started(app);
};

await runHttpLoad({
  title: `Validation-Fastify ${fastifyPackage.version}, GET ${SEARCH_PATH} (query of 5 fields and the response validated)`,
  benchUrl: import.meta.url,
  contenders: {
    bare,
    'fastify-type-provider-zod 7': peer,
    '@prod/fastify, plain route (no validation)': prodPlain,
    '@prod/fastify + defineRoute (apiPart)': prod,
  },
  bare: 'bare',
  baseline: 'fastify-type-provider-zod 7',
  path: SEARCH_PATH,
});
