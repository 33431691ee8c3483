import { Readable } from 'node:stream';
import type { EncodedResponse, HeaderWriter } from '@prod/core/adapter';
import type { Context } from 'koa';

const EMPTY = Buffer.alloc(0);

/**
 * Puts an encoded response on the Koa context (status, headers, body), for Koa to send
 * when the middleware chain unwinds: upstream middleware still sees and may change it.
 */
export function writeContext(ctx: Context, encoded: EncodedResponse): void {
  const { payload } = encoded;
  if (ctx.headerSent || !ctx.writable) {
    if (payload instanceof Readable) payload.destroy();
    return;
  }
  ctx.status = encoded.status;
  const headers = encoded.headers;
  for (const name in headers) {
    const value = headers[name] as string | readonly string[];
    ctx.set(name, typeof value === 'string' ? value : [...value]);
  }
  if (payload === undefined) {
    // Koa turns a null body into a 204; an empty buffer keeps the status as given.
    ctx.body = EMPTY;
    if (encoded.headers['content-type'] === undefined) ctx.remove('Content-Type');
  } else {
    ctx.body = payload;
  }
}

/** Header changes from `onSend` on a native route's response. */
export const CONTEXT_HEADERS: HeaderWriter<Context> = {
  set: (ctx, name, value) => {
    ctx.set(name, typeof value === 'string' ? value : [...value]);
  },
  remove: (ctx, name) => {
    ctx.remove(name);
  },
};
