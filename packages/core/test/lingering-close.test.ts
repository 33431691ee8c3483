import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { isLingering, lingerAfterLastAnswer, lingeringClose } from '@prod/core';
import { afterEach, describe, expect, it } from 'vitest';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A server that answers every request `Connection: close`, lingering or not. */
async function closingServer(linger: boolean): Promise<{ port: number; requests: () => number }> {
  let requests = 0;
  server = createServer((req, res) => {
    requests += 1;
    if (linger) lingerAfterLastAnswer(req.socket);
    res.setHeader('connection', 'close');
    res.end('answered');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, requests: () => requests };
}

/**
 * Sends a request and, once the answer is in, keeps sending (a pipelined request, then
 * filler) as a client that has not noticed the close yet would, and says how it ended.
 */
function clientThatKeepsSending(port: number): Promise<{ reset: boolean; answer: string }> {
  return new Promise((resolve) => {
    // Half-open, so the client can keep writing after the server's FIN, as a real one would.
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let answer = '';
    let reset = false;
    let more = false;
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      if (more || !answer.includes('answered')) return;
      more = true;
      setTimeout(() => {
        socket.write('POST /second HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello');
        for (let i = 0; i < 8; i += 1) socket.write(Buffer.alloc(64 * 1024, 'x'));
        setTimeout(() => socket.end(), 100);
      }, 20);
    });
    socket.on('error', () => {
      reset = true;
    });
    socket.on('close', () => resolve({ reset, answer }));
    socket.write('GET /first HTTP/1.1\r\nHost: x\r\n\r\n');
  });
}

describe('lingeringClose', () => {
  it('ends a Connection: close answer without a reset, and never parses what comes after', async () => {
    const { port, requests } = await closingServer(true);
    const outcome = await clientThatKeepsSending(port);
    expect(outcome.answer).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(outcome.answer).toContain('answered');
    expect(outcome.reset).toBe(false);
    // The pipelined POST arrived after our FIN: it must not reach the application.
    expect(requests()).toBe(1);
  });

  it("is what prevents the reset: Node's own close destroys the socket with data unread", async () => {
    const { port } = await closingServer(false);
    const outcome = await clientThatKeepsSending(port);
    expect(outcome.answer).toContain('answered');
    expect(outcome.reset).toBe(true);
  });

  it('marks the socket, destroys it at the bounds, and is idempotent', async () => {
    server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const accepted = once(server, 'connection');
    const client = connect({ port, host: '127.0.0.1' });
    client.on('error', () => {});
    const [socket] = (await accepted) as [import('node:net').Socket];
    expect(isLingering(socket)).toBe(false);
    lingeringClose(socket, { ms: 50, bytes: 1024 });
    lingeringClose(socket, { ms: 50, bytes: 1024 });
    expect(isLingering(socket)).toBe(true);
    // A client that never closes its side: the bound ends the linger.
    await once(socket, 'close');
    expect(socket.destroyed).toBe(true);
    client.destroy();
  });
});
