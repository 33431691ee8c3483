import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { EncodedResponse, HeaderWriter } from '@prod/core/adapter';

/**
 * Writes an encoded response on the Node response Express wraps: status, headers, then the
 * payload, a stream piped untouched. Returns a promise only for a stream (resolved when it is
 * written, never rejected); a client that has gone away makes it a no-op (the stream, if
 * any, is destroyed).
 */
export function writeResponse(
  res: ServerResponse,
  encoded: EncodedResponse,
): Promise<void> | undefined {
  const { payload } = encoded;
  if (res.headersSent || res.destroyed) {
    if (payload instanceof Readable) payload.destroy();
    return undefined;
  }
  const status = encoded.status;
  // Express sets it before any middleware runs; an answer of the parts never advertises it.
  res.removeHeader('x-powered-by');
  const headers = encoded.headers;
  if (payload instanceof Readable) {
    res.statusCode = status;
    for (const name in headers) res.setHeader(name, headers[name] as string | readonly string[]);
    return pipeline(payload, res).catch(() => {
      // The client left or the stream failed mid-way: the connection is already closed.
    });
  }
  // One writeHead with the whole record: when nothing set a header before, Node validates and
  // serializes it in one pass instead of storing each through setHeader. Headers written
  // before the body would make Node fall back to chunked encoding: the length goes with them.
  if (payload !== undefined && status !== 204 && status !== 304 && !('content-length' in headers)) {
    (headers as Record<string, string>)['content-length'] = String(
      typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length,
    );
  }
  res.writeHead(status, headers as OutgoingHttpHeaders);
  if (payload === undefined) res.end();
  else res.end(payload);
  return undefined;
}

/** Header changes from `onSend` on a native route's response. */
export const RESPONSE_HEADERS: HeaderWriter<ServerResponse> = {
  set: (res, name, value) => {
    res.setHeader(name, value);
  },
  remove: (res, name) => {
    res.removeHeader(name);
  },
};
