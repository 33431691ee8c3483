import type { Socket } from 'node:net';
import { isLingering, lingerAfterLastAnswer, lingeringClose } from '@prod/core';

/** What a drain had to do to the connections, for the report and the log. */
export interface DrainCounts {
  /** Connections ended by the drain after being idle for the grace period. */
  readonly idleClosed: number;
  /** Connections still open at the deadline, destroyed then. */
  readonly cutConnections: number;
  /** Requests received on those connections whose answer had not been sent. */
  readonly cutRequests: number;
}

/** One tracked connection. */
export interface Connection {
  /** Requests received whose response has not closed yet (more than one when pipelined). */
  pending: number;
  idleTimer: NodeJS.Timeout | undefined;
}

/**
 * The connections of the servers being drained, tracked from their `connection` and
 * `request` events (Node keeps its own list private).
 *
 * The drain never destroys a connection that may hold a request: a connection that looks idle
 * to the server may have its next request in the socket buffer, unread, and destroying a
 * socket with unread data sends RST. So, once {@link drain} is called, every connection keeps
 * being read; a request that arrives is answered with `Connection: close` (marked by the
 * caller), and Node then closes the connection after that answer, with a lingering close; a
 * connection is ended by the drain only after it has been idle for `idleGrace`, and with a
 * lingering close too. {@link cut} destroys what is left at the deadline.
 */
export class ConnectionDrain {
  private readonly connections = new Map<Socket, Connection>();
  private closing = false;
  private draining = false;
  private idleClosed = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(private readonly idleGrace: number) {}

  /** Open connections tracked. */
  get size(): number {
    return this.connections.size;
  }

  /** The server's `connection` (or `secureConnection`) listener. */
  readonly onConnection = (socket: Socket): void => {
    this.track(socket);
  };

  /** A request arrived on `socket` (called before the application sees it). */
  requestStarted(socket: Socket): Connection {
    const connection = this.track(socket);
    connection.pending += 1;
    if (connection.idleTimer !== undefined) {
      clearTimeout(connection.idleTimer);
      connection.idleTimer = undefined;
    }
    return connection;
  }

  /** The response of a request from {@link requestStarted} closed (sent, or its socket gone). */
  requestEnded(socket: Socket, connection: Connection): void {
    connection.pending -= 1;
    if (this.draining) this.scheduleIdle(socket, connection);
  }

  /**
   * From now on, connections close after an answer marked `Connection: close` with a
   * lingering close instead of Node's immediate destroy (the shutdown marks every answer so).
   */
  beginClosing(): void {
    if (this.closing) return;
    this.closing = true;
    for (const socket of this.connections.keys()) lingerAfterLastAnswer(socket);
  }

  /** Starts closing idle connections, each after `idleGrace` without a request. */
  drain(): void {
    this.beginClosing();
    if (this.draining) return;
    this.draining = true;
    for (const [socket, connection] of this.connections) this.scheduleIdle(socket, connection);
    this.settleIfEmpty();
  }

  /** Resolves once every tracked connection has closed (call after {@link drain}). */
  whenClosed(): Promise<void> {
    if (this.connections.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Destroys every connection still open and says what that cut. */
  cut(): DrainCounts {
    let cutConnections = 0;
    let cutRequests = 0;
    for (const [socket, connection] of this.connections) {
      cutConnections += 1;
      cutRequests += connection.pending;
      clearTimeout(connection.idleTimer);
      socket.destroy();
    }
    return { idleClosed: this.idleClosed, cutConnections, cutRequests };
  }

  private track(socket: Socket): Connection {
    const known = this.connections.get(socket);
    if (known !== undefined) return known;
    const connection: Connection = { pending: 0, idleTimer: undefined };
    if (socket.destroyed) return connection;
    this.connections.set(socket, connection);
    if (this.closing) lingerAfterLastAnswer(socket);
    socket.once('close', () => {
      clearTimeout(connection.idleTimer);
      this.forget(socket);
    });
    if (this.draining) this.scheduleIdle(socket, connection);
    return connection;
  }

  private scheduleIdle(socket: Socket, connection: Connection): void {
    if (connection.pending > 0 || connection.idleTimer !== undefined || isLingering(socket)) return;
    const timer = setTimeout(() => {
      // Timers run before the poll phase: let it read what has already arrived (a request in
      // the socket buffer shows up as a `request` event, which clears this timer), then decide.
      setImmediate(() => {
        if (connection.idleTimer !== timer) return;
        connection.idleTimer = undefined;
        if (connection.pending > 0 || socket.destroyed || isLingering(socket)) return;
        if (!servesHttp(socket)) {
          // Upgraded (a WebSocket): the application owns it now; hold it with a beacon.
          this.forget(socket);
          return;
        }
        this.idleClosed += 1;
        lingeringClose(socket);
      });
    }, this.idleGrace);
    timer.unref();
    connection.idleTimer = timer;
  }

  private forget(socket: Socket): void {
    this.connections.delete(socket);
    this.settleIfEmpty();
  }

  private settleIfEmpty(): void {
    if (!this.draining || this.connections.size > 0) return;
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}

/**
 * Whether Node's HTTP server still parses this socket: it drops its parser (`socket.parser`)
 * when the connection is upgraded (a WebSocket) or closed.
 */
function servesHttp(socket: Socket): boolean {
  return (socket as Socket & { parser?: unknown }).parser != null;
}
