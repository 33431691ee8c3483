import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BootedServer } from '@prod/testing';

/** Listens on 127.0.0.1 port 0 and gives the base URL and a close that waits for requests. */
export async function listen(app: {
  listen(port: number, host: string): Server;
}): Promise<BootedServer> {
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
