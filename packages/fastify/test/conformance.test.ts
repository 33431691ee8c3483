import { prodFastify } from '@prod/fastify';
import { runAdapterConformance } from '@prod/testing';
import Fastify from 'fastify';

runAdapterConformance('fastify 5', async (parts) => {
  const app = Fastify();
  await app.register(prodFastify, { parts });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => app.close() };
});
