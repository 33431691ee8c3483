import {
  request as httpRequest,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http';

/** A response read in full over a fresh connection. */
export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * Sends one request over its own connection (`Connection: close`), for what fetch cannot
 * do: repeated headers, aborting mid-request, not reusing a pooled socket.
 */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: OutgoingHttpHeaders; body?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: options.method ?? 'GET', headers: options.headers ?? {}, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Starts a request and returns a function that cuts its connection. */
export function abortableRequest(url: string, headers: OutgoingHttpHeaders): () => void {
  const req = httpRequest(url, { headers, agent: false });
  req.on('error', () => {
    // Expected: the test destroys the socket.
  });
  req.end();
  return () => req.destroy();
}
