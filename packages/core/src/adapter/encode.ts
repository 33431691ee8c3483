import { validateHeaderName, validateHeaderValue } from 'node:http';
import { Readable } from 'node:stream';
import type { HttpResponse } from '../index.js';

/** A neutral response made ready for the wire: lower-case headers and one payload. */
export interface EncodedResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  /** undefined (no body), text or JSON already serialized, bytes, or a stream. */
  readonly payload: string | Buffer | Readable | undefined;
}

const JSON_TYPE = 'application/json; charset=utf-8';

// Most responses repeat the same header values (content-type, cache-control): remember the
// last valid value of each name, so a repeat skips Node's validation regexps. Bounded: an
// application that sends ever new header names stops caching past the limit.
const lastValid = new Map<string, string>();
const MAX_CACHED_NAMES = 256;

function validateHeader(name: string, value: string): void {
  if (lastValid.get(name) === value) return;
  validateHeaderName(name);
  validateHeaderValue(name, value);
  if (lastValid.size < MAX_CACHED_NAMES || lastValid.has(name)) lastValid.set(name, value);
}
const TEXT_TYPE = 'text/plain; charset=utf-8';
const BYTES_TYPE = 'application/octet-stream';

/**
 * Checks what an `onSend` returned before the next hook sees it: an integer status from 200
 * to 599 and headers Node would send (no CR/LF, valid names). Throws a TypeError otherwise.
 * The body is checked when the response is encoded.
 */
export function assertSendable(response: HttpResponse): void {
  const status = response.status;
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    throw new TypeError(`a response has an invalid status: ${String(status)}`);
  }
  const headers = response.headers;
  if (headers === undefined || headers === null) return;
  for (const rawName of Object.keys(headers)) {
    const value = headers[rawName] as string | readonly string[];
    const name = rawName.toLowerCase();
    if (typeof value === 'string') validateHeader(name, value);
    else {
      validateHeaderName(name);
      for (const one of value) validateHeaderValue(name, one);
    }
  }
}

/**
 * Turns a neutral response into status, headers and payload, the same way on every
 * framework. Throws a TypeError for anything that cannot be sent (no valid status, a header
 * with CR/LF, a body JSON cannot encode), before a byte is written, so the caller can answer
 * with an error instead.
 */
export function encodeResponse(response: HttpResponse): EncodedResponse {
  if (typeof response !== 'object' || response === null) {
    throw new TypeError('a handler or hook returned something that is not a response');
  }
  const status = response.status;
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    throw new TypeError(`a response has an invalid status: ${String(status)}`);
  }
  const headers: Record<string, string | readonly string[]> = Object.create(null);
  const source = response.headers;
  if (source !== undefined && source !== null) {
    for (const rawName of Object.keys(source)) {
      const value = source[rawName] as string | readonly string[];
      const name = rawName.toLowerCase();
      if (typeof value === 'string') {
        validateHeader(name, value);
        headers[name] = value;
      } else {
        validateHeaderName(name);
        const values = [...value];
        for (const one of values) validateHeaderValue(name, one);
        headers[name] = values;
      }
    }
  }
  const body = response.body;
  let payload: string | Buffer | Readable | undefined;
  let defaultType: string | undefined;
  if (body === undefined) {
    payload = undefined;
  } else if (typeof body === 'string') {
    payload = body;
    defaultType = TEXT_TYPE;
  } else if (body instanceof Uint8Array) {
    payload = Buffer.isBuffer(body)
      ? body
      : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    defaultType = BYTES_TYPE;
  } else if (body instanceof Readable) {
    payload = body;
    defaultType = BYTES_TYPE;
  } else if (isAsyncIterable(body)) {
    payload = Readable.from(body, { objectMode: false });
    defaultType = BYTES_TYPE;
  } else {
    const json: unknown = JSON.stringify(body);
    if (typeof json !== 'string') throw new TypeError('a response body cannot be encoded as JSON');
    payload = json;
    defaultType = JSON_TYPE;
  }
  if (defaultType !== undefined && headers['content-type'] === undefined) {
    headers['content-type'] = defaultType;
  }
  return { status, headers, payload };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  );
}
