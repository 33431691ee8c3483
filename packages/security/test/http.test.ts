// The security parts mounted with the three @prod adapters: Express 5, Fastify 5, Koa 3
// (Express 4 in express4.test.ts).
import { CoreErrors } from '@prod/core';
import { prodExpress } from '@prod/express';
import { fastifyServerOptions, prodFastify } from '@prod/fastify';
import { prodKoa } from '@prod/koa';
import { listen } from '@prod/testing';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { describeSecurityOverHttp, NATIVE } from './support/http-cases.js';

describeSecurityOverHttp('Express 5', async (parts) => {
  const app = express();
  // Express adds X-Powered-By before any middleware runs; parts cannot remove it from the
  // answers the adapter writes, so the README says to turn it off (as helmet's docs do).
  app.disable('x-powered-by');
  const prod = prodExpress({ parts });
  app.use(prod.handler);
  app.get(NATIVE.read, (_req, res) => {
    res.json({ native: true });
  });
  app.post(NATIVE.read, (_req, res) => {
    res.status(201).json({ native: true });
  });
  app.get(NATIVE.fail, () => {
    throw CoreErrors.CONFLICT();
  });
  app.use(prod.finalHandler);
  return listen(app);
});

describeSecurityOverHttp('Fastify 5', async (parts) => {
  const app = Fastify({ ...fastifyServerOptions() });
  await app.register(prodFastify, { parts });
  app.get(NATIVE.read, async () => ({ native: true }));
  app.post(NATIVE.read, async (_request, reply) => reply.code(201).send({ native: true }));
  app.get(NATIVE.fail, async () => {
    throw CoreErrors.CONFLICT();
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => app.close() };
});

describeSecurityOverHttp('Koa 3', async (parts) => {
  const app = new Koa();
  app.use(prodKoa({ parts }));
  app.use(async (ctx, next) => {
    if (ctx.path === NATIVE.read && ctx.method === 'GET') ctx.body = { native: true };
    else if (ctx.path === NATIVE.read && ctx.method === 'POST') {
      ctx.status = 201;
      ctx.body = { native: true };
    } else if (ctx.path === NATIVE.fail) throw CoreErrors.CONFLICT();
    else await next();
  });
  return listen(app.callback());
});
