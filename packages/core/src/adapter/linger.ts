import type { Socket } from 'node:net';

/** How long, and how much, a closing connection keeps reading what the client still sends. */
export interface LingerBounds {
  readonly ms: number;
  readonly bytes: number;
}

/** Two seconds, 16 MiB: enough for a client to read an early answer; bounded for abuse. */
export const DEFAULT_LINGER: LingerBounds = Object.freeze({ ms: 2000, bytes: 16 * 1024 * 1024 });

const ARMED = Symbol('@prod/core/adapter lingering close');

/**
 * Arms a lingering close on `socket` (what nginx calls lingering_close): when Node's server
 * ends the connection after a `Connection: close` answer, it ends our side (FIN) and keeps
 * reading and discarding what the client still sends until the client closes its side or the
 * bounds pass, and only then destroys the socket.
 *
 * Why: Node ends such a connection with `socket.destroySoon()`, which destroys it as soon as
 * the answer is written; a socket destroyed with unread bytes in its receive buffer sends a
 * TCP RST, and the client's kernel then drops the answer it had not read yet. A client that
 * uploads a body we refuse (413, 415) would see ECONNRESET or EPIPE instead of the answer.
 */
export function lingerOnClose(
  socket: Socket | null | undefined,
  bounds: LingerBounds = DEFAULT_LINGER,
): void {
  if (socket === null || socket === undefined || socket.destroyed) return;
  const armed = socket as Socket & { [ARMED]?: true };
  if (armed[ARMED] === true) return;
  armed[ARMED] = true;
  // An own property shadows net.Socket.prototype.destroySoon for this socket only.
  Object.defineProperty(socket, 'destroySoon', {
    configurable: true,
    writable: true,
    value: function lingeringDestroySoon(this: Socket): void {
      if (this.writable) this.end();
      let received = 0;
      const stop = (): void => {
        clearTimeout(timer);
        this.removeListener('data', count);
        this.destroy();
      };
      const count = (chunk: Buffer): void => {
        received += chunk.length;
        if (received > bounds.bytes) stop();
      };
      const timer = setTimeout(stop, bounds.ms);
      timer.unref();
      this.on('data', count);
      this.once('end', stop);
      this.once('close', () => clearTimeout(timer));
      this.resume();
    },
  });
}
