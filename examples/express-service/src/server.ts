import { once } from 'node:events';
import { mountExpress } from '@prod/express';
import { onShutdown } from '@prod/health';
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
 * @prod/express, listens on `config.port` / `config.host`, and installs the graceful shutdown.
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

  const server = app.listen(config.port, config.host);
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
