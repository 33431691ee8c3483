import { brotliCompressSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { ConformanceContext } from '../types.js';
import { pour, type RawAnswer, rawExchange } from './raw-socket.js';
import { nextId, problemOf, useSharedServer } from './shared-server.js';

const PROBLEM = /^application\/problem\+json/;
const MB = 1024 * 1024;

function head(lines: readonly string[]): string {
  return `${lines.join('\r\n')}\r\n\r\n`;
}

function expectProblem(answer: RawAnswer, status: number, code: string, requestId?: string): void {
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toMatch(PROBLEM);
  const body = JSON.parse(answer.body) as Record<string, unknown>;
  expect(body).toMatchObject({ status, code });
  if (requestId !== undefined) expect(body.requestId).toBe(requestId);
  else expect(typeof body.requestId).toBe('string');
}

/**
 * Hostile and broken clients, probed with raw sockets: bodies over the limit (declared,
 * chunked, at full speed, stopping half-way), content encodings (bad, unknown, bombs), text a
 * store cannot hold, methods no route serves, URLs that do not decode or are absurdly long,
 * and requests the HTTP parser refuses. Every answer with a body is problem+json with the
 * request id and never echoes the input; nothing a client sent is reset before it can read
 * the answer.
 */
export function describeEdgeCases(context: ConformanceContext): void {
  describe('hostile clients at the edge', () => {
    const shared = useSharedServer(context);
    const post = (body: string | Uint8Array, headers: Record<string, string>): Promise<Response> =>
      fetch(`${shared.url}/items`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', ...headers },
      });

    describe('bodies over the limit', () => {
      it('answers a declared Content-Length over the limit at once, while the client withholds the rest', async () => {
        const id = nextId('declared');
        const answer = await rawExchange(shared.url, async (socket) => {
          socket.write(
            head([
              'POST /items HTTP/1.1',
              'Host: conformance',
              'Content-Type: application/json',
              `Content-Length: ${10 * MB}`,
              `X-Request-Id: ${id}`,
            ]),
          );
          await pour(socket, 256 * 1024, false);
        });
        expectProblem(answer, 413, 'PAYLOAD_TOO_LARGE', id);
        expect(answer.headers.connection).toBe('close');
      });

      it('stops reading a chunked body the moment it crosses the limit, and answers at once', async () => {
        const id = nextId('chunked');
        const answer = await rawExchange(shared.url, async (socket) => {
          socket.write(
            head([
              'POST /items HTTP/1.1',
              'Host: conformance',
              'Content-Type: application/json',
              'Transfer-Encoding: chunked',
              `X-Request-Id: ${id}`,
            ]),
          );
          await pour(socket, 1.5 * MB, true);
        });
        expectProblem(answer, 413, 'PAYLOAD_TOO_LARGE', id);
        expect(answer.headers.connection).toBe('close');
      });

      it.each([
        ['chunked', true],
        ['with a declared length', false],
      ])(
        'lets a client uploading 10 MB at full speed (%s) read the 413, every time',
        async (_label, chunked) => {
          for (let attempt = 0; attempt < 5; attempt += 1) {
            const answer = await rawExchange(
              shared.url,
              async (socket) => {
                socket.write(
                  head([
                    'POST /items HTTP/1.1',
                    'Host: conformance',
                    'Content-Type: application/json',
                    chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${10 * MB}`,
                  ]),
                );
                await pour(socket, 10 * MB, chunked);
                if (chunked) socket.write('0\r\n\r\n');
              },
              { untilClose: true },
            );
            expect(answer.status, `attempt ${attempt}`).toBe(413);
            expect(JSON.parse(answer.body)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
          }
        },
      );
    });

    describe('a small body refused before it was read', () => {
      it('keeps the connection: the next request on it is answered too', async () => {
        const id = nextId('keep');
        const answer = await rawExchange(
          shared.url,
          `POST /items HTTP/1.1\r\nHost: conformance\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nX-Request-Id: ${id}\r\n\r\nhello` +
            `GET /items/1 HTTP/1.1\r\nHost: conformance\r\n\r\n`,
          { untilClose: true, timeoutMs: 1500 },
        );
        // The 415 first, without Connection: close, then the GET's answer on the same socket.
        expect(answer.status).toBe(415);
        expect(answer.headers.connection).not.toBe('close');
        expect(answer.raw.match(/HTTP\/1\.1 \d{3}/g)).toEqual(['HTTP/1.1 415', 'HTTP/1.1 200']);
        expect(answer.reset).toBe(false);
      });
    });

    describe('content encodings', () => {
      it('decodes gzip and br bodies', async () => {
        const gzip = await post(gzipSync(JSON.stringify({ title: 'zipped' })), {
          'content-encoding': 'gzip',
        });
        expect(gzip.status).toBe(201);
        expect(await gzip.json()).toEqual({ received: { title: 'zipped' } });
        const br = await post(brotliCompressSync(JSON.stringify([1, 2])), {
          'content-encoding': 'br',
        });
        expect(await br.json()).toEqual({ received: [1, 2] });
      });

      it('answers a body that fails to decode with 400 MALFORMED_ENCODING', async () => {
        const response = await post('{"title":"not gzip"}', { 'content-encoding': 'gzip' });
        expect(response.status).toBe(400);
        expect(await problemOf(response)).toMatchObject({ code: 'MALFORMED_ENCODING' });
      });

      it('answers an unsupported encoding with 415, before reading the body', async () => {
        const response = await post('{"a":1}', { 'content-encoding': 'x-bogus' });
        expect(response.status).toBe(415);
        expect(await problemOf(response)).toMatchObject({
          code: 'UNSUPPORTED_MEDIA_TYPE',
          details: { encoding: 'x-bogus' },
        });
      });

      it('holds a decoded body to the same limit (a gzip bomb is 413)', async () => {
        const bomb = gzipSync(JSON.stringify({ blob: '0'.repeat(8 * MB) }));
        expect(bomb.length).toBeLessThan(64 * 1024);
        const response = await post(bomb, { 'content-encoding': 'gzip' });
        expect(response.status).toBe(413);
        expect(await problemOf(response)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
      });
    });

    describe('text a store cannot hold', () => {
      it.each([
        ['a NUL character in a value', '{"title":"a\\u0000b"}', '/title', 'NUL character'],
        [
          'an unpaired surrogate in a list',
          '{"tags":["ok","\\ud800"]}',
          '/tags/1',
          'unpaired surrogate',
        ],
        ['a NUL character in a key', '{"a\\u0000":1}', '/a\u0000', 'NUL character'],
      ])(
        'answers %s with 400 INVALID_TEXT and the field path',
        async (_label, body, path, reason) => {
          const response = await post(body, {});
          expect(response.status).toBe(400);
          expect(await problemOf(response)).toMatchObject({
            code: 'INVALID_TEXT',
            details: { path, reason },
          });
        },
      );
    });

    describe('methods no route serves', () => {
      it.each(['PROPFIND', 'TRACE', 'PURGE'])(
        'answers %s on a known path with 405 and Allow',
        async (method) => {
          const id = nextId('method');
          const answer = await rawExchange(
            shared.url,
            head([`${method} /items/1 HTTP/1.1`, 'Host: conformance', `X-Request-Id: ${id}`]),
          );
          expectProblem(answer, 405, 'METHOD_NOT_ALLOWED', id);
          expect(answer.headers.allow?.split(/,\s*/).sort()).toEqual(['GET', 'HEAD', 'PUT']);
        },
      );

      it('answers an unknown method on an unknown path with 404', async () => {
        const answer = await rawExchange(
          shared.url,
          head(['PROPFIND /nowhere HTTP/1.1', 'Host: conformance']),
        );
        expectProblem(answer, 404, 'NOT_FOUND');
      });
    });

    describe('URLs', () => {
      it('answers an invalid percent-encoding in a part route path with 400, not echoing it', async () => {
        const id = nextId('bad-url');
        const answer = await rawExchange(
          shared.url,
          head(['GET /items/%E0%A4%A HTTP/1.1', 'Host: conformance', `X-Request-Id: ${id}`]),
        );
        expectProblem(answer, 400, 'BAD_REQUEST', id);
        expect(answer.body).not.toContain('%E0');
      });

      it('never echoes an absurdly long path parameter', async () => {
        const answer = await rawExchange(
          shared.url,
          head([`GET /quiet/${'x'.repeat(10_000)} HTTP/1.1`, 'Host: conformance']),
        );
        // Routed (204), or refused as no route when the framework caps parameters (Fastify: 404).
        expect([204, 404]).toContain(answer.status);
        if (answer.status === 404) expectProblem(answer, 404, 'NOT_FOUND');
        expect(answer.body.length).toBeLessThan(1000);
      });
    });

    describe('requests the HTTP parser refuses', () => {
      it.each([
        [
          'oversized headers',
          head(['GET /items/1 HTTP/1.1', 'Host: conformance', `X-Big: ${'a'.repeat(20_000)}`]),
          431,
        ],
        [
          'a malformed Content-Length',
          head(['POST /items HTTP/1.1', 'Host: conformance', 'Content-Length: abc']),
          400,
        ],
        ['an invalid method token', head(['G@T /items/1 HTTP/1.1', 'Host: conformance']), 400],
      ])(
        'answers %s with a bare status line or a problem, never an echo',
        async (_label, request, status) => {
          const answer = await rawExchange(shared.url, request, { untilClose: true });
          expect(answer.status).toBe(status);
          if (answer.body !== '') expect(answer.headers['content-type']).toMatch(PROBLEM);
          expect(answer.body).not.toContain('aaaa');
        },
      );
    });
  });
}
