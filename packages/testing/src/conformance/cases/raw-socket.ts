import { connect, type Socket } from 'node:net';

/** What came back on a raw connection. */
export interface RawAnswer {
  /** The status of the first response, when one arrived. */
  readonly status: number | undefined;
  /** Its headers, names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  /** Its body (de-chunked), as text. */
  readonly body: string;
  /** Whether the connection was reset (ECONNRESET / EPIPE) at some point. */
  readonly reset: boolean;
  /** Whether the server closed the connection (FIN or reset) before the probe's deadline. */
  readonly closed: boolean;
  /** Everything received, as latin1 text (several pipelined responses, if any). */
  readonly raw: string;
}

/** What the probe writes: a string at once, or a function that drives the socket itself. */
export type RawWrite = string | Buffer | ((socket: Socket) => void | Promise<void>);

/**
 * Opens a TCP connection to `url`'s host and port, writes `write`, and reads until the
 * server closes the connection, or until the first response is complete and `untilClose` is
 * false, or `timeoutMs` passes. For what fetch cannot send: a declared length that never
 * arrives, a body that stops, bad framing, methods fetch refuses, oversized headers.
 */
export function rawExchange(
  url: string,
  write: RawWrite,
  options: { readonly timeoutMs?: number; readonly untilClose?: boolean } = {},
): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  const timeoutMs = options.timeoutMs ?? 5000;
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    let reset = false;
    let settled = false;
    const finish = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const bytes = Buffer.concat(chunks);
      resolve({ ...parseResponse(bytes), reset, closed, raw: bytes.toString('latin1') });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (options.untilClose !== true && responseComplete(Buffer.concat(chunks))) finish(false);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') reset = true;
      else finish(true);
    });
    socket.on('close', () => finish(true));
    socket.once('connect', () => {
      if (typeof write === 'function') {
        Promise.resolve(write(socket)).catch(() => {
          // The server cut the upload: the answer (or the reset) says what happened.
        });
      } else {
        socket.write(write);
      }
    });
  });
}

/** Writes `total` bytes of `fill` as fast as the socket takes them, honouring backpressure. */
export async function pour(socket: Socket, total: number, chunked: boolean): Promise<void> {
  const piece = Buffer.alloc(64 * 1024, 'a');
  let sent = 0;
  while (sent < total && !socket.destroyed && socket.writable) {
    const size = Math.min(piece.length, total - sent);
    const data = chunked
      ? Buffer.concat([
          Buffer.from(`${size.toString(16)}\r\n`),
          piece.subarray(0, size),
          Buffer.from('\r\n'),
        ])
      : piece.subarray(0, size);
    sent += size;
    if (!socket.write(data)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          socket.removeListener('drain', done);
          socket.removeListener('close', done);
          resolve();
        };
        socket.once('drain', done);
        socket.once('close', done);
      });
    }
  }
}

interface Parsed {
  readonly status: number | undefined;
  readonly headers: Record<string, string>;
  readonly body: string;
}

function parseResponse(bytes: Buffer): Parsed {
  const text = bytes.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) return { status: undefined, headers: {}, body: '' };
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = bytes.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1'));
  if (headers['transfer-encoding'] === 'chunked') body = dechunk(body);
  else if (headers['content-length'] !== undefined)
    body = body.subarray(0, Number(headers['content-length']));
  return {
    status: Number.isNaN(status) ? undefined : status,
    headers,
    body: body.toString('utf8'),
  };
}

function responseComplete(bytes: Buffer): boolean {
  const text = bytes.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) return false;
  const head = text.slice(0, end).toLowerCase();
  const length = /\r\ncontent-length:\s*(\d+)/.exec(head)?.[1];
  if (length !== undefined) return bytes.length >= end + 4 + Number(length);
  if (head.includes('transfer-encoding: chunked')) return text.includes('\r\n0\r\n\r\n', end);
  // No length and not chunked: the body ends when the server closes.
  return /^http\/1\.[01] (1\d\d|204|304)/.test(head);
}

function dechunk(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset < body.length) {
    const lineEnd = body.indexOf('\r\n', offset);
    if (lineEnd === -1) break;
    const size = Number.parseInt(body.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
