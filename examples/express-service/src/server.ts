import { once } from 'node:events';
import { createServer } from 'node:http';
import { mountExpress } from '@prod/express';
import { applyServerTimeouts, onShutdown } from '@prod/health';
import {
  composeService,
  type RunningService,
  type ServiceConfig,
  type StartOptions,
  serverUrl,
} from 'example-notes-app';
import express from 'express';

/**
 * Starts the notes service on Express: composes every @prod part, mounts them with
 * @prod/express, listens on `config.port` / `config.host` with production server timeouts
 * (slow clients are cut), and installs the graceful shutdown.
 */
export async function start(
  config: ServiceConfig,
  options: StartOptions = {},
): Promise<RunningService> {
  const composed = await composeService(config, options);
  if (!composed.ok) throw composed.error;
  const service = composed.value;

  const app = express();
  app.disable('x-powered-by');
  mountExpress(app, { parts: [...service.parts], bodyLimit: service.bodyLimit });

  // Our own server rather than app.listen(), so the timeouts are set before it listens.
  const server = createServer(app);
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
  return { framework: 'express', url: serverUrl(server), server, service, shutdown };
}
