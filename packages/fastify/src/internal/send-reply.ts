import { Readable } from 'node:stream';
import type { EncodedResponse, HeaderWriter } from '@prod/core/adapter';
import type { FastifyReply } from 'fastify';

// Fastify appends `; charset=utf-8` to a JSON media type without one when the payload is a
// string; a Buffer is sent as is.
const JSON_WITHOUT_CHARSET = /^(?![^;]*;.*charset)[^;]*json/i;

/**
 * Sends an encoded response through Fastify's reply: status, headers, then the payload
 * (already serialized, so Fastify sends it as is; a stream is piped untouched).
 */
export function sendReply(reply: FastifyReply, encoded: EncodedResponse): void {
  if (reply.sent || reply.raw.destroyed) {
    if (encoded.payload instanceof Readable) encoded.payload.destroy();
    return;
  }
  reply.code(encoded.status);
  const headers = encoded.headers;
  for (const name in headers) reply.header(name, headers[name]);
  let payload = encoded.payload;
  if (typeof payload === 'string') {
    const type = headers['content-type'];
    if (typeof type !== 'string' || JSON_WITHOUT_CHARSET.test(type)) payload = Buffer.from(payload);
  }
  reply.send(payload);
}

/** Header changes from `onSend` on a native route's reply. */
export const REPLY_HEADERS: HeaderWriter<FastifyReply> = {
  set: (reply, name, value) => {
    reply.header(name, value);
  },
  remove: (reply, name) => {
    reply.removeHeader(name);
  },
};
