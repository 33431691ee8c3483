import { fastifyServerOptions, prodFastify } from '@prod/fastify';
import { applyServerTimeouts, onShutdown } from '@prod/health';
import {
  composeService,
  type RunningService,
  type ServiceConfig,
  type StartOptions,
  serverUrl,
} from 'example-notes-app';
import Fastify from 'fastify';

/**
 * Starts the notes service on Fastify: composes every @prod part, registers them with
 * @prod/fastify, listens on `config.port` / `config.host` with production server timeouts
 * (slow clients are cut), and installs the graceful shutdown.
 */
export async function start(
  config: ServiceConfig,
  options: StartOptions = {},
): Promise<RunningService> {
  const composed = await composeService(config, options);
  if (!composed.ok) throw composed.error;
  const service = composed.value;

  // Fastify's own logger stays off: @prod/logger writes one line per request already. Its
  // early errors (a bad URL, an over-long path parameter) answer as problems like the rest.
  const app = Fastify({ ...fastifyServerOptions(), logger: false });
  // Before listen(): Fastify set its own keepAliveTimeout and requestTimeout on app.server.
  applyServerTimeouts(app.server);
  try {
    await app.register(prodFastify, { parts: [...service.parts], bodyLimit: service.bodyLimit });
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await app.close();
    await service.close();
    throw error;
  }
  const shutdown = onShutdown(app.server, {
    health: service.health,
    hooks: [...service.hooks, { name: 'fastify', close: () => app.close() }],
    logger: service.logger,
    ...options.shutdown,
  });
  return {
    framework: 'fastify',
    url: serverUrl(app.server),
    server: app.server,
    service,
    shutdown,
  };
}
