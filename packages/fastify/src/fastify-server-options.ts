import type { Socket } from 'node:net';
import { CoreErrors, toHttpResponse } from '@prod/core';
import type { FastifyReply, FastifyServerOptions } from 'fastify';
import { type FastifyKit, KIT } from './internal/kit-key.js';

// Node's own answers to a request its HTTP parser refused (what Express and Koa send): a bare
// status line, no body to echo anything back.
const PARSER_ANSWERS: Readonly<Record<string, string>> = {
  HPE_HEADER_OVERFLOW: 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 'HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\n\r\n',
  ERR_HTTP_REQUEST_TIMEOUT: 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n',
};
const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n';

/**
 * Options to pass to `Fastify()` so that the errors Fastify raises before any plugin runs
 * answer like the rest: an invalid percent-encoding in the path (FST_ERR_BAD_URL) becomes a
 * BAD_REQUEST problem and a path parameter over `maxParamLength` (FST_ERR_MAX_PARAM_LENGTH) a
 * NOT_FOUND problem, both with the request id and through the parts' `onError` and `onSend`,
 * never echoing the URL; requests the HTTP parser refuses (oversized headers, bad framing)
 * get Node's bare status line, as on Express and Koa.
 *
 * Fastify reads these options only at construction, so a plugin cannot set them: spread them
 * into your own options.
 *
 * @example
 * import Fastify from 'fastify';
 * declare const notesPart: Part;
 * const app = Fastify({ ...fastifyServerOptions(), logger: false });
 * await app.register(prodFastify, { parts: [notesPart] });
 */
export function fastifyServerOptions(): Pick<
  FastifyServerOptions,
  'frameworkErrors' | 'clientErrorHandler'
> {
  return {
    frameworkErrors(error, request, reply) {
      const kit = (request.server as unknown as { [KIT]?: FastifyKit })[KIT];
      if (kit !== undefined) {
        void kit.exchange(reply as FastifyReply).fail(error);
        return;
      }
      // The plugin is not registered: the plain problem, still without the URL.
      const problem = toHttpResponse(
        error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? CoreErrors.NOT_FOUND()
          : CoreErrors.BAD_REQUEST(),
      );
      void (reply as FastifyReply)
        .code(problem.status)
        .headers(problem.headers as Record<string, string>)
        .send(JSON.stringify(problem.body));
    },
    clientErrorHandler(error: Error & { code?: string }, socket: Socket) {
      if (error.code === 'ECONNRESET' || socket.destroyed) return;
      if (socket.writable && socket.bytesWritten === 0) {
        socket.write(PARSER_ANSWERS[error.code ?? ''] ?? BAD_REQUEST);
      }
      socket.destroy(error);
    },
  };
}
