// Requests/s of one validated route on Fastify 5: GET /orders with a query of five fields
// (numbers and an enum coerced from strings, a repeated key as an array) and a 20-field nested
// response checked against its schema. Bare Fastify (no validation), fastify-type-provider-zod
// 7 (its validatorCompiler for the query, serializerCompiler validating the response), and
// @prod/fastify with a defineRoute route through apiPart (sanitize, coerce, parse; response
// validation in `strip` mode, the production default). Each server in its own child process.
// Run: pnpm --filter @prod/validation bench:http (CONNECTIONS, DURATION, WARMUP, ROUNDS:
// config/bench-http.ts).
import { randomUUID } from 'node:crypto';
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
import { SEARCH_PATH, StoredOrder, storedOrder } from './fixtures.js';

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
  app.get('/orders', async () => storedOrder);
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
    .get(
      '/orders',
      { schema: { querystring: Query, response: { 200: StoredOrder } } },
      async () => storedOrder as z.input<typeof StoredOrder>,
    );
  return started(app);
};

const prod: Contender = async () => {
  const app = Fastify({ ...fastifyServerOptions() });
  const search = defineRoute({
    method: 'GET',
    path: '/orders',
    request: { query: z.object(query) },
    responses: { 200: StoredOrder },
    responseValidation: 'strip',
    handler: (_input) => ({ status: 200, body: storedOrder as z.input<typeof StoredOrder> }),
  });
  await app.register(prodFastify, { parts: [apiPart({ routes: [search] })] });
  return started(app);
};

await runHttpLoad({
  title: `Validation-Fastify ${fastifyPackage.version}, GET ${SEARCH_PATH} (query + 20-field response validated)`,
  benchUrl: import.meta.url,
  contenders: {
    bare,
    'fastify-type-provider-zod 7': peer,
    '@prod/fastify + defineRoute (apiPart)': prod,
  },
  bare: 'bare',
  baseline: 'fastify-type-provider-zod 7',
  path: SEARCH_PATH,
});
