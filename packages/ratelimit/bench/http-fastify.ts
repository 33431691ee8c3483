// Requests/s of one rate-limited hello route on Fastify 5, the same limit everywhere (a fixed
// window of 1e9 requests a minute per client IP: every request counted, none refused): bare
// Fastify, @fastify/rate-limit 11 (its LRU store, x-ratelimit-* headers), and @prod/fastify with
// rateLimitPart (draft-11 headers, memory store). Each server in its own child process.
// Run: pnpm --filter @prod/ratelimit bench:http (CONNECTIONS, DURATION, WARMUP, ROUNDS: config/bench-http.ts).
import { randomUUID } from 'node:crypto';
import fastifyRateLimit from '@fastify/rate-limit';
import { definePart, json } from '@prod/core';
import { fastifyServerOptions, prodFastify } from '@prod/fastify';
import { createRateLimiter, rateLimitPart } from '@prod/ratelimit';
import Fastify from 'fastify';
import fastifyPackage from 'fastify/package.json' with { type: 'json' };
import { type Contender, runHttpLoad } from '../../../config/bench-http.js';

const LIMIT = 1_000_000_000;
const WINDOW = 60_000;

const started = async (app: ReturnType<typeof Fastify>) => {
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => app.close() };
};

const bare: Contender = async () => {
  const app = Fastify();
  app.get('/hello', async () => ({ hello: 'world' }));
  return started(app);
};

const peer: Contender = async () => {
  const app = Fastify({
    genReqId: (req) => (req.headers['x-request-id'] as string | undefined) ?? randomUUID(),
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  await app.register(fastifyRateLimit, { max: LIMIT, timeWindow: WINDOW });
  app.get('/hello', async () => ({ hello: 'world' }));
  return started(app);
};

const prod: Contender = async () => {
  const app = Fastify({ ...fastifyServerOptions() });
  const limiter = createRateLimiter({
    policies: [{ name: 'per-minute', limit: LIMIT, window: WINDOW, key: 'ip' }],
  });
  const hello = definePart({
    name: 'hello',
    routes: [{ method: 'GET', path: '/hello', handler: () => json(200, { hello: 'world' }) }],
  });
  await app.register(prodFastify, { parts: [rateLimitPart(limiter), hello] });
  return started(app);
};

await runHttpLoad({
  title: `RateLimit-Fastify ${fastifyPackage.version}, limit 1e9/min per IP (fixed window, memory)`,
  benchUrl: import.meta.url,
  contenders: {
    bare,
    '@fastify/rate-limit 11 (x-ratelimit-* headers)': peer,
    '@prod/fastify + rateLimitPart (draft-11 headers)': prod,
  },
  bare: 'bare',
  baseline: '@fastify/rate-limit 11 (x-ratelimit-* headers)',
  path: '/hello',
});
