// A JWKS endpoint on 127.0.0.1 that a test can break: answer, fail, hang, lie, or go away.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JWK } from 'jose';

export type JwksMode =
  | 'ok'
  | 'error'
  | 'hang'
  | 'garbage'
  | 'not-a-set'
  | 'huge'
  | 'redirect'
  | 'slow-body';

export interface JwksServer {
  readonly url: string;
  /** Requests received so far. */
  readonly hits: number;
  mode: JwksMode;
  keys: JWK[];
  /** Stops answering and closes the port (connections are refused from now on). */
  down(): Promise<void>;
  close(): Promise<void>;
}

export async function jwksServer(keys: JWK[]): Promise<JwksServer> {
  const hanging = new Set<ServerResponse>();
  const state = { hits: 0, mode: 'ok' as JwksMode, keys };
  const server: Server = createServer((_request, response) => {
    state.hits += 1;
    switch (state.mode) {
      case 'ok':
        response.writeHead(200, { 'content-type': 'application/jwk-set+json' });
        response.end(JSON.stringify({ keys: state.keys }));
        return;
      case 'error':
        response.writeHead(500, { 'content-type': 'text/plain' });
        response.end('boom');
        return;
      case 'garbage':
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"keys": [');
        return;
      case 'not-a-set':
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"hello": "world"}');
        return;
      case 'huge':
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(`{"keys": [], "pad": "${'x'.repeat(2 * 1024 * 1024)}"}`);
        return;
      case 'redirect':
        response.writeHead(302, { location: 'https://evil.test/jwks.json' });
        response.end();
        return;
      case 'slow-body':
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write('{"keys": [');
        hanging.add(response);
        return;
      case 'hang':
        hanging.add(response);
        return;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const stop = async (): Promise<void> => {
    for (const response of hanging) response.destroy();
    hanging.clear();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  let stopped = false;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    get hits() {
      return state.hits;
    },
    get mode() {
      return state.mode;
    },
    set mode(value) {
      state.mode = value;
    },
    get keys() {
      return state.keys;
    },
    set keys(value) {
      state.keys = value;
    },
    async down() {
      if (stopped) return;
      stopped = true;
      await stop();
    },
    async close() {
      if (stopped) return;
      stopped = true;
      await stop();
    },
  };
}
