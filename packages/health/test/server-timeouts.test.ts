import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { applyServerTimeouts, serverTimeouts } from '@prod/health';
import { afterEach, describe, expect, it } from 'vitest';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    if (server.listening) await new Promise((resolve) => server.close(resolve));
  }
});

function fresh(): Server {
  const server = createServer((_req, res) => res.end('ok'));
  servers.push(server);
  return server;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('serverTimeouts', () => {
  it('are the documented production values, each tighter than Node’s default where it matters', () => {
    expect(serverTimeouts).toEqual({
      headersTimeout: 10_000,
      requestTimeout: 30_000,
      keepAliveTimeout: 65_000,
      connectionsCheckingInterval: 1000,
    });
    const node = createServer();
    expect(serverTimeouts.headersTimeout).toBeLessThan(node.headersTimeout);
    expect(serverTimeouts.requestTimeout).toBeLessThan(node.requestTimeout);
    // Longer than the 60 s idle timeout of the usual load balancers.
    expect(serverTimeouts.keepAliveTimeout).toBeGreaterThan(60_000);
    expect(Object.isFrozen(serverTimeouts)).toBe(true);
  });

  it('can be given to http.createServer as they are', () => {
    const server = createServer(serverTimeouts);
    expect(server.headersTimeout).toBe(10_000);
    expect(server.requestTimeout).toBe(30_000);
    expect(server.keepAliveTimeout).toBe(65_000);
  });
});

describe('applyServerTimeouts', () => {
  it('sets the production values, with overrides, and returns what it applied', () => {
    const server = fresh();
    const applied = applyServerTimeouts(server, { requestTimeout: 120_000 });
    expect(applied).toEqual({ ...serverTimeouts, requestTimeout: 120_000 });
    expect(server.headersTimeout).toBe(10_000);
    expect(server.requestTimeout).toBe(120_000);
    expect(server.keepAliveTimeout).toBe(65_000);
  });

  it('cuts a client that sends its headers one byte at a time, with a 408, within headersTimeout + connectionsCheckingInterval', async () => {
    const server = fresh();
    applyServerTimeouts(server, { headersTimeout: 300, connectionsCheckingInterval: 50 });
    const port = await listen(server);
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write('GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    // 100 bytes 20 ms apart: 2 s of trickle, far past the 350 ms bound.
    let sent = 0;
    const trickle = setInterval(() => {
      if (socket.destroyed || sent === 100) return;
      socket.write('a');
      sent += 1;
    }, 20);
    await closed;
    clearInterval(trickle);
    expect(sent).toBeLessThan(100);
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('refuses bad values with HEALTH_INVALID_OPTIONS naming the option', () => {
    const bad = (overrides: object, option: string): void =>
      expect(() => applyServerTimeouts(fresh(), overrides)).toThrow(
        expect.objectContaining({
          code: 'HEALTH_INVALID_OPTIONS',
          details: expect.objectContaining({ option }),
        }),
      );
    bad({ headersTimeout: -1 }, 'headersTimeout');
    bad({ keepAliveTimeout: '65s' }, 'keepAliveTimeout');
    bad({ connectionsCheckingInterval: 0 }, 'connectionsCheckingInterval');
    bad({ headersTimeout: 40_000 }, 'headersTimeout');
    bad(null as unknown as object, 'overrides');
  });

  it('refuses to change the checking interval of a server that already listens, as Node would ignore it', async () => {
    const late = fresh();
    await listen(late);
    expect(() => applyServerTimeouts(late)).toThrow(
      expect.objectContaining({
        code: 'HEALTH_INVALID_OPTIONS',
        details: expect.objectContaining({ option: 'connectionsCheckingInterval' }),
      }),
    );
    // Created with the interval asked for: nothing to change, so it applies.
    const created = createServer(serverTimeouts);
    servers.push(created);
    await listen(created);
    expect(applyServerTimeouts(created).connectionsCheckingInterval).toBe(1000);
  });
});
