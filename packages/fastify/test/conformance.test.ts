import { CoreErrors } from '@prod/core';
import { fastifyServerOptions, prodFastify } from '@prod/fastify';
import { runAdapterConformance } from '@prod/testing';
import Fastify from 'fastify';

runAdapterConformance('fastify 5', async (parts, native) => {
  const app = Fastify({ ...fastifyServerOptions() });
  await app.register(prodFastify, { parts });
  app.get(native.text, async (_request, reply) => {
    reply.header('x-native', 'yes').type('text/plain');
    return 'native';
  });
  app.get(native.fail, async () => {
    throw CoreErrors.CONFLICT();
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => app.close() };
});
