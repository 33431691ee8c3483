// Requests/s of a hello route with security headers on Fastify 5: bare Fastify; @fastify/helmet
// 13 (helmet 8's defaults, and a request-id echo, so every contender does the same work);
// @prod/fastify with securityHeadersPart; and, to tell the part's cost from the adapter's,
// @prod/fastify alone and @prod/fastify with @fastify/helmet registered before it. Each server in
// its own child process. Run: pnpm --filter @prod/security bench:http
// (CONNECTIONS, DURATION, WARMUP, ROUNDS: config/bench-http.ts).
import { randomUUID } from 'node:crypto';
import fastifyHelmet from '@fastify/helmet';
import helmetPluginPackage from '@fastify/helmet/package.json' with { type: 'json' };
import { definePart, json, type Part } from '@prod/core';
import { fastifyServerOptions, prodFastify } from '@prod/fastify';
import { securityHeadersPart } from '@prod/security';
import Fastify from 'fastify';
import fastifyPackage from 'fastify/package.json' with { type: 'json' };
import { type Contender, runHttpLoad } from '../../../config/bench-http.js';

const hello = definePart({
  name: 'hello',
  routes: [{ method: 'GET', path: '/hello', handler: () => json(200, { hello: 'world' }) }],
});

const started = async (app: ReturnType<typeof Fastify>) => {
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => app.close() };
};

const bare: Contender = async () => {
  const app = Fastify();
  app.get('/hello', async () => ({ hello: 'world' }));
  return started(app);
};

const withHelmet: Contender = async () => {
  const app = Fastify({
    genReqId: (req) => (req.headers['x-request-id'] as string | undefined) ?? randomUUID(),
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  await app.register(fastifyHelmet);
  app.get('/hello', async () => ({ hello: 'world' }));
  return started(app);
};

const prod =
  (parts: () => Part[], helmetFirst = false): Contender =>
  async () => {
    const app = Fastify({ ...fastifyServerOptions() });
    if (helmetFirst) await app.register(fastifyHelmet);
    await app.register(prodFastify, { parts: parts() });
    return started(app);
  };

const HELMET = `@fastify/helmet ${helmetPluginPackage.version}`;
await runHttpLoad({
  title: `Security-headers-Fastify ${fastifyPackage.version}`,
  benchUrl: import.meta.url,
  contenders: {
    bare,
    [HELMET]: withHelmet,
    '@prod/fastify + securityHeadersPart': prod(() => [securityHeadersPart(), hello]),
    '@prod/fastify alone (no security headers)': prod(() => [hello]),
    '@prod/fastify + @fastify/helmet before it': prod(() => [hello], true),
  },
  bare: 'bare',
  baseline: HELMET,
  path: '/hello',
});
