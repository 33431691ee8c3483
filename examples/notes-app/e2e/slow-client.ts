// Slow clients against a framework example: the production server timeouts of @prod/health
// (`serverTimeouts`) are applied, and a client that sends its headers one byte every 200 ms is
// cut within `headersTimeout + connectionsCheckingInterval`, while other clients are served.
import { connect } from 'node:net';
import { serverTimeouts } from '@prod/health';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartService } from '../src/run-main.js';
import { startForTest, type TestService } from './notes-service-suite.js';

/** How long a client that trickles its headers may hold a connection, at most. */
export const SLOW_HEADERS_BOUND_MS =
  serverTimeouts.headersTimeout + serverTimeouts.connectionsCheckingInterval;

/** What {@link trickleHeaders} saw. */
export interface TrickleOutcome {
  /** True when the server closed the connection before the client had sent everything. */
  readonly cut: boolean;
  /** Milliseconds from the first byte to the close (or to the end of the trickle). */
  readonly heldMs: number;
  /** What the server wrote before it closed. */
  readonly answer: string;
}

/**
 * Opens a connection and sends a request's headers one byte every `everyMs`, for at most
 * `forMs`, stopping when the server closes the connection.
 */
export async function trickleHeaders(
  port: number,
  { everyMs = 200, forMs = SLOW_HEADERS_BOUND_MS + 5000 } = {},
): Promise<TrickleOutcome> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  let answer = '';
  socket.on('data', (chunk: Buffer) => {
    answer += chunk.toString('latin1');
  });
  const started = performance.now();
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const head = 'GET /v1/notes HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ';
  let sent = 0;
  const timer = setInterval(() => {
    if (socket.destroyed) return;
    socket.write(sent < head.length ? head.charAt(sent) : 'a');
    sent += 1;
  }, everyMs);
  const gaveUp = new Promise<'gave up'>((resolve) => setTimeout(() => resolve('gave up'), forMs));
  const first = await Promise.race([closed.then(() => 'closed' as const), gaveUp]);
  clearInterval(timer);
  const heldMs = Math.round(performance.now() - started);
  socket.destroy();
  return { cut: first === 'closed', heldMs, answer };
}

/** The slow-client tests every example runs, on the server its `start` builds. */
export function describeSlowClients(name: string, start: StartService): void {
  describe(`${name}: slow clients`, () => {
    let service: TestService;
    let port: number;
    beforeAll(async () => {
      service = await startForTest(start, { NOTES_STORE: 'memory' });
      port = Number(new URL(service.running.url).port);
    }, 60_000);
    afterAll(async () => {
      await service?.running.shutdown.shutdown('test done');
    });

    it('runs with the production server timeouts of @prod/health', () => {
      const { server } = service.running;
      expect(server.headersTimeout).toBe(serverTimeouts.headersTimeout);
      expect(server.requestTimeout).toBe(serverTimeouts.requestTimeout);
      expect(server.keepAliveTimeout).toBe(serverTimeouts.keepAliveTimeout);
    });

    it(`cuts a client that sends its headers one byte every 200 ms, with a 408, within headersTimeout + connectionsCheckingInterval (${SLOW_HEADERS_BOUND_MS} ms), and serves others meanwhile`, async () => {
      const slow = trickleHeaders(port);
      const other = await fetch(`${service.running.url}/health/live`);
      expect(other.status).toBe(200);
      const outcome = await slow;
      expect(outcome.cut).toBe(true);
      expect(outcome.answer).toMatch(/^HTTP\/1\.1 408 /);
    }, 30_000);
  });
}
