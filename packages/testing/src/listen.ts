import { once } from 'node:events';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BootedServer } from './conformance/types.js';

/** What {@link listen} can start: a Node server, or a request listener (an Express app, `koaApp.callback()`). */
export type Listenable = Server | RequestListener;

/**
 * Listens on 127.0.0.1, an ephemeral port, and gives the base URL and a `close` that stops
 * accepting connections, lets in-flight requests finish, and closes idle keep-alive sockets.
 *
 * @example
 * import { mountExpress } from '@prod/express';
 * import express from 'express';
 * declare const notesPart: Part;
 * const app = express();
 * mountExpress(app, { parts: [notesPart] });
 * const server = await listen(app);
 * const response = await fetch(`${server.url}/notes`);
 * await server.close();
 */
export async function listen(target: Listenable): Promise<BootedServer> {
  const server = typeof target === 'function' ? createServer(target) : target;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}
