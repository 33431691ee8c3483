import type { Socket } from 'node:net';

/** How long, and how much, a closing connection keeps reading what the client still sends. */
export interface LingerBounds {
  readonly ms: number;
  readonly bytes: number;
}

/** Two seconds and 1 MiB: time for a client to read its last answer and close; bounded for abuse. */
export const DEFAULT_LINGER: LingerBounds = Object.freeze({ ms: 2000, bytes: 1024 * 1024 });

// One mark per process, whichever copy of @prod/core (ESM, CJS) armed the socket.
const LINGERING = Symbol.for('@prod/core/lingering-close');
const ARMED = Symbol.for('@prod/core/linger-after-last-answer');

type Lingering = Socket & { [LINGERING]?: true };

/** Whether {@link lingeringClose} has begun on `socket`. */
export function isLingering(socket: Socket): boolean {
  return (socket as Lingering)[LINGERING] === true;
}

/**
 * Closes an HTTP server connection without a TCP reset (nginx's lingering_close): ends our
 * side (FIN, after what is already written), stops parsing what arrives, keeps reading and
 * discarding it until the client closes its side or `bounds` pass, and only then destroys the
 * socket.
 *
 * Why: a socket destroyed with unread bytes in its receive buffer sends RST, and the client's
 * kernel then drops what it had not read yet, including our last answer. That is the case of a
 * request already on the wire when the server decides to close (an idle keep-alive connection
 * whose next request is in the buffer, a pipelined request after a `Connection: close` answer)
 * and of an upload the server refused before it ended (a 413 while the client still sends).
 * The adapter kit uses it for refused uploads, @prod/health's drain for every connection it
 * ends.
 *
 * Why stop parsing: a request that arrives after our FIN cannot be answered; it must not reach
 * the application either (it would run, a POST would write, and nobody would get the answer).
 * Node's HTTP server reads the socket through its parser: adding a `data` listener takes the
 * socket back from the parser (the server's wrapper "unconsumes" it), and removing the server's
 * own `data` listener stops the parsing.
 */
export function lingeringClose(socket: Socket, bounds: LingerBounds = DEFAULT_LINGER): void {
  const lingering = socket as Lingering;
  if (lingering[LINGERING] === true || socket.destroyed) return;
  lingering[LINGERING] = true;
  let received = 0;
  const discard = (chunk: Buffer): void => {
    received += chunk.length;
    if (received > bounds.bytes) stop();
  };
  const stop = (): void => {
    clearTimeout(timer);
    socket.destroy();
  };
  const whenBothEnded = (): void => {
    if (socket.readableEnded && socket.writableFinished) stop();
  };
  socket.on('data', discard);
  for (const listener of socket.listeners('data')) {
    if (listener !== discard) socket.removeListener('data', listener as (chunk: Buffer) => void);
  }
  const timer = setTimeout(stop, bounds.ms);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.once('end', whenBothEnded);
  socket.once('finish', whenBothEnded);
  if (socket.writable) socket.end();
  // The server may have paused reading (backpressure, pipelining): the discarding must go on.
  socket.resume();
  if (socket.readableEnded) whenBothEnded();
}

/**
 * Makes Node's HTTP server close `socket` with {@link lingeringClose} after an answer marked
 * `Connection: close`: Node ends such a connection with `socket.destroySoon()`, which destroys
 * it as soon as the answer is written, unread bytes or not.
 */
export function lingerAfterLastAnswer(
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
      lingeringClose(this, bounds);
    },
  });
}
