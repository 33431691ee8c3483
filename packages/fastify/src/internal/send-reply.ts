import { Readable } from 'node:stream';
import type { EncodedResponse } from '@prod/core/adapter';
import type { FastifyReply } from 'fastify';

/**
 * Sends an encoded response through Fastify's reply: status, headers, then the payload
 * (already serialized, so Fastify sends it as is; a stream is piped untouched).
 */
export function sendReply(reply: FastifyReply, encoded: EncodedResponse): FastifyReply {
  if (reply.sent || reply.raw.destroyed) {
    if (encoded.payload instanceof Readable) encoded.payload.destroy();
    return reply;
  }
  reply.code(encoded.status);
  for (const [name, value] of Object.entries(encoded.headers)) reply.header(name, value);
  // A Buffer, not a string: Fastify would append a charset to the part's content-type.
  const payload =
    typeof encoded.payload === 'string' ? Buffer.from(encoded.payload) : encoded.payload;
  return reply.send(payload);
}
