import { once } from 'node:events';
import { createServer } from 'node:http';
import { applyServerTimeouts, onShutdown } from '@prod/health';
import { prodKoa } from '@prod/koa';
import {
  composeService,
  type RunningService,
  type ServiceConfig,
  type StartOptions,
  serverUrl,
} from 'example-notes-app';
import Koa from 'koa';

/**
 * Starts the notes service on Koa: composes every @prod part, mounts them with @prod/koa,
 * listens on `config.port` / `config.host` with production server timeouts (slow clients are
 * cut), and installs the graceful shutdown.
 */
export async function start(
  config: ServiceConfig,
  options: StartOptions = {},
): Promise<RunningService> {
  const composed = await composeService(config, options);
  if (!composed.ok) throw composed.error;
  const service = composed.value;

  const app = new Koa();
  // Koa reports socket errors after the response (a client hanging up mid-body) here; without
  // a listener it prints them to stderr. Request errors never get here: prodKoa answers them.
  const koaLog = service.logger.module('koa');
  app.on('error', (error: unknown) => koaLog.debug({ err: error }, 'connection error'));
  // First: it is the error boundary for everything mounted after it.
  app.use(prodKoa({ parts: [...service.parts], bodyLimit: service.bodyLimit }));

  // Our own server rather than app.listen(), so the timeouts are set before it listens.
  const server = createServer(app.callback());
  applyServerTimeouts(server);
  server.listen(config.port, config.host);
  try {
    await once(server, 'listening');
  } catch (error) {
    await service.close();
    throw error;
  }
  const shutdown = onShutdown(server, {
    health: service.health,
    hooks: service.hooks,
    logger: service.logger,
    ...options.shutdown,
  });
  return { framework: 'koa', url: serverUrl(server), server, service, shutdown };
}
