import type { Server } from 'node:http';
import { optionChecks } from '@prod/core';
import { HealthErrors } from './errors.js';

/** The timeouts of a Node HTTP server that bound what a slow or idle client can hold. */
export interface ServerTimeouts {
  /**
   * Milliseconds a client has to send a request's headers, from its first byte (or from the
   * connection for its first request). Node's default: 60 000.
   */
  readonly headersTimeout: number;
  /** Milliseconds a client has to send a whole request, body included. Node's default: 300 000. */
  readonly requestTimeout: number;
  /**
   * Milliseconds an idle keep-alive connection stays open between requests. Keep it longer
   * than the idle timeout of the load balancer in front (AWS ALB: 60 s; nginx upstream
   * `keepalive_timeout`: 60 s): otherwise the balancer may send a request on a connection the
   * server is closing at that moment, and gets a reset (a 502 for its client). Node's default: 5000.
   */
  readonly keepAliveTimeout: number;
  /**
   * How often Node checks `headersTimeout` and `requestTimeout`, in ms: a slow client is cut
   * within `headersTimeout + connectionsCheckingInterval`. Node reads it when the server
   * starts listening; it cannot change afterwards. Node's default: 30 000.
   */
  readonly connectionsCheckingInterval: number;
}

/**
 * Production values for a service's Node HTTP server (Node's defaults let a client that sends
 * its headers one byte every 200 ms hold a connection for up to 90 s):
 *
 * - `headersTimeout` 10 s: headers are a few hundred bytes; a client that needs longer is
 *   broken or hostile (slowloris). Such a client is cut within 11 s, with a 408.
 * - `requestTimeout` 30 s: the whole request, body included (at the examples' 64 KB body
 *   limit, that is slower than 2 KB/s).
 * - `keepAliveTimeout` 65 s: longer than the 60 s idle timeout of the usual load balancers.
 * - `connectionsCheckingInterval` 1 s: the precision of the two first (a check walks only the
 *   connections that have a request in progress).
 *
 * Apply them with {@link applyServerTimeouts}, or pass them to `http.createServer(serverTimeouts,
 * handler)`. Raise `requestTimeout` for routes that take large uploads.
 */
export const serverTimeouts: ServerTimeouts = Object.freeze({
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 65_000,
  connectionsCheckingInterval: 1000,
});

/** The Node HTTP (or HTTPS) server {@link applyServerTimeouts} configures. */
export type TimeoutServer = Pick<
  Server,
  'headersTimeout' | 'requestTimeout' | 'keepAliveTimeout' | 'listening'
>;

const check = optionChecks(HealthErrors.HEALTH_INVALID_OPTIONS);

/**
 * Sets {@link serverTimeouts} (with `overrides`) on a Node HTTP server that is not listening
 * yet, and returns the values applied.
 *
 * Call it after the framework has created its server and before `listen()`: Express
 * (`http.createServer(app)`), Koa (`http.createServer(app.callback())`), Fastify (`app.server`,
 * right after `Fastify()`: it sets its own `keepAliveTimeout` and `requestTimeout` at
 * construction, which this replaces).
 *
 * Gotchas: `connectionsCheckingInterval` is read by Node when the server starts listening, so
 * on a server that already listens it cannot change: this throws then, unless the server
 * already runs with the interval asked for (created with `http.createServer(serverTimeouts, ...)`).
 *
 * @throws ProdError `HEALTH_INVALID_OPTIONS` for an invalid value, `headersTimeout` over
 * `requestTimeout`, or a server that already listens with another checking interval.
 * @example
 * import { createServer } from 'node:http';
 * import express from 'express';
 * const app = express();
 * const server = createServer(app);
 * applyServerTimeouts(server);
 * server.listen(3000);
 */
export function applyServerTimeouts(
  server: TimeoutServer,
  overrides: Partial<ServerTimeouts> = {},
): ServerTimeouts {
  const given = check.object<Partial<ServerTimeouts>>('overrides', overrides);
  const timeouts: ServerTimeouts = {
    // 0 turns a timeout off, as in Node.
    headersTimeout: check.duration(
      'headersTimeout',
      given.headersTimeout,
      serverTimeouts.headersTimeout,
    ),
    requestTimeout: check.duration(
      'requestTimeout',
      given.requestTimeout,
      serverTimeouts.requestTimeout,
    ),
    keepAliveTimeout: check.duration(
      'keepAliveTimeout',
      given.keepAliveTimeout,
      serverTimeouts.keepAliveTimeout,
    ),
    connectionsCheckingInterval: check.duration(
      'connectionsCheckingInterval',
      given.connectionsCheckingInterval,
      serverTimeouts.connectionsCheckingInterval,
      { min: 1 },
    ),
  };
  // Node's own rule at createServer: headers cannot be allowed longer than the whole request.
  if (timeouts.requestTimeout > 0 && timeouts.headersTimeout > timeouts.requestTimeout) {
    check.fail(
      'headersTimeout',
      `a duration <= requestTimeout (${timeouts.requestTimeout})`,
      timeouts.headersTimeout,
    );
  }
  const interval = server as TimeoutServer & { connectionsCheckingInterval?: number };
  if (
    server.listening &&
    interval.connectionsCheckingInterval !== timeouts.connectionsCheckingInterval
  ) {
    check.fail(
      'connectionsCheckingInterval',
      'set before the server listens (call applyServerTimeouts before listen())',
      interval.connectionsCheckingInterval,
    );
  }
  interval.connectionsCheckingInterval = timeouts.connectionsCheckingInterval;
  server.headersTimeout = timeouts.headersTimeout;
  server.requestTimeout = timeouts.requestTimeout;
  server.keepAliveTimeout = timeouts.keepAliveTimeout;
  return timeouts;
}
