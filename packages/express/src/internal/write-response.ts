import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { EncodedResponse } from '@prod/core/adapter';

/**
 * Writes an encoded response on the Node response Express wraps: status, headers, then the
 * payload, a stream piped untouched. Resolves when written; a client that has gone away
 * makes it a no-op (the stream, if any, is destroyed).
 */
export async function writeResponse(res: ServerResponse, encoded: EncodedResponse): Promise<void> {
  const { payload } = encoded;
  if (res.headersSent || res.destroyed) {
    if (payload instanceof Readable) payload.destroy();
    return;
  }
  res.statusCode = encoded.status;
  for (const [name, value] of Object.entries(encoded.headers)) res.setHeader(name, value);
  if (payload instanceof Readable) {
    await pipeline(payload, res).catch(() => {
      // The client left or the stream failed mid-way: the connection is already closed.
    });
  } else if (payload === undefined) {
    res.end();
  } else {
    res.end(payload);
  }
}
