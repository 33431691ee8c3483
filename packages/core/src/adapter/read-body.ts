import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { type BodyProfile, recordBodyProfile } from '../body-profile.js';
import { CoreErrors, type ProdError } from '../index.js';
import { inspectBody, plainJsonText } from './inspect-body.js';

/** `application/json` and `application/*+json`, with or without parameters. */
export const JSON_MEDIA_TYPE: RegExp = /^application\/(?:[\w.!#$%&'*^`|~-]+\+)?json\s*(?:;|$)/i;

const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)"?/i;
const DECODERS: Readonly<Record<string, () => NodeJS.ReadWriteStream>> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};
const ACCEPTED_ENCODINGS = ['identity', 'gzip', 'deflate', 'br'];

/** Whether the request carries a body: chunked, or a content-length above zero. */
export function hasBody(
  headers: Readonly<Record<string, string | readonly string[] | undefined>>,
): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = headers['content-length'];
  return length !== undefined && length !== '0' && length !== '';
}

/**
 * Reads, decodes and parses the JSON body of a part route, the same way on every framework:
 *
 * - the media type must be `application/json` or `application/*+json` in UTF-8, else
 *   UNSUPPORTED_MEDIA_TYPE (415);
 * - `Content-Encoding` gzip, deflate and br are decoded, identity passes, anything else is
 *   UNSUPPORTED_MEDIA_TYPE (415), and a body that fails to decode is MALFORMED_ENCODING (400);
 * - a declared `Content-Length` over `limit` is PAYLOAD_TOO_LARGE (413) before a byte is read,
 *   and reading stops the moment the received or the decoded bytes cross it (gzip bombs);
 * - text that is not UTF-8 or not JSON is MALFORMED_JSON (400), then {@link inspectBody}
 *   refuses prototype keys (FORBIDDEN_KEY) and unstorable text (INVALID_TEXT);
 * - a client that goes away mid-body is ABORTED.
 *
 * On a refusal, the rest of the upload is discarded, not left unread, so that the answer can
 * reach the client (the adapter then closes the connection after a bounded linger).
 * Resolves undefined for an empty body; the body's profile is recorded on `raw`.
 */
export async function readJsonBody(raw: IncomingMessage, limit: number): Promise<unknown> {
  const headers = raw.headers;
  const refused = checkHeaders(headers, limit);
  if (refused !== undefined) {
    raw.resume();
    throw refused;
  }
  const bytes = await collect(raw, headers['content-encoding'], limit);
  const profile = parseJson(bytes);
  if (profile === undefined) return undefined;
  recordBodyProfile(raw, profile);
  return profile.body;
}

function checkHeaders(headers: IncomingMessage['headers'], limit: number): ProdError | undefined {
  const type = headers['content-type'];
  if (type === undefined || !JSON_MEDIA_TYPE.test(type)) {
    return CoreErrors.UNSUPPORTED_MEDIA_TYPE({
      message: 'Send the body as application/json',
      details: { accepted: ['application/json', 'application/*+json'] },
    });
  }
  const charset = CHARSET.exec(type)?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    return CoreErrors.UNSUPPORTED_MEDIA_TYPE({
      message: 'Send JSON in UTF-8',
      details: { accepted: ['utf-8'] },
    });
  }
  const encoding = normalizedEncoding(headers['content-encoding']);
  if (encoding !== 'identity' && DECODERS[encoding] === undefined) {
    return CoreErrors.UNSUPPORTED_MEDIA_TYPE({
      message: 'This content encoding is not supported',
      details: { encoding: encoding.slice(0, 32), accepted: ACCEPTED_ENCODINGS },
    });
  }
  const declared = Number(headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return tooLarge(limit);
  return undefined;
}

function normalizedEncoding(header: string | undefined): string {
  return header === undefined ? 'identity' : header.trim().toLowerCase() || 'identity';
}

function tooLarge(limit: number): ProdError {
  return CoreErrors.PAYLOAD_TOO_LARGE({
    message: `The body is larger than ${limit} bytes`,
    details: { limit },
  });
}

/** The body's bytes, decoded, bounded by `limit` both before and after decoding. */
function collect(
  raw: IncomingMessage,
  encoding: string | undefined,
  limit: number,
): Promise<Buffer> {
  const coding = normalizedEncoding(encoding);
  const decoder = coding === 'identity' ? undefined : DECODERS[coding]?.();
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let decoded = 0;
    let settled = false;
    const finish = (error: ProdError | undefined, body?: Buffer): void => {
      if (settled) return;
      settled = true;
      raw.removeListener('data', onData);
      raw.removeListener('end', onEnd);
      raw.removeListener('aborted', onAborted);
      raw.removeListener('error', onRawError);
      raw.removeListener('close', onClose);
      if (decoder !== undefined) {
        decoder.removeListener('data', onDecoded);
        decoder.removeListener('end', onDecodedEnd);
        decoder.removeListener('error', onDecodeError);
        (decoder as unknown as Readable).destroy();
      }
      if (error === undefined) {
        resolve(body ?? Buffer.alloc(0));
        return;
      }
      // Discard what is still coming, so the refusal can be read before the connection closes.
      if (!raw.readableEnded) raw.resume();
      reject(error);
    };
    const keep = (chunk: Buffer): void => {
      decoded += chunk.length;
      if (decoded > limit) finish(tooLarge(limit));
      else chunks.push(chunk);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > limit) finish(tooLarge(limit));
      else if (decoder === undefined) keep(chunk);
      else decoder.write(chunk);
    };
    const onEnd = (): void => {
      if (decoder === undefined) finish(undefined, Buffer.concat(chunks));
      else decoder.end();
    };
    const onDecoded = (chunk: Buffer): void => keep(chunk);
    const onDecodedEnd = (): void => finish(undefined, Buffer.concat(chunks));
    const onDecodeError = (cause: unknown): void =>
      finish(
        CoreErrors.MALFORMED_ENCODING({
          message: `The body is not valid ${coding}`,
          details: { encoding: coding },
          cause,
        }),
      );
    const onAborted = (): void =>
      finish(CoreErrors.ABORTED({ message: 'The client closed the connection mid-body' }));
    const onRawError = (cause: unknown): void =>
      finish(CoreErrors.ABORTED({ message: 'The body could not be read', cause }));
    const onClose = (): void => {
      if (!raw.complete) onAborted();
    };
    raw.on('data', onData);
    raw.on('end', onEnd);
    raw.on('aborted', onAborted);
    raw.on('error', onRawError);
    raw.on('close', onClose);
    if (decoder !== undefined) {
      decoder.on('data', onDecoded);
      decoder.on('end', onDecodedEnd);
      decoder.on('error', onDecodeError);
    }
  });
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses the decoded bytes as JSON and inspects the result: its profile (the parsed value in
 * `body`), or undefined for an empty body.
 */
export function parseJson(bytes: Buffer): BodyProfile | undefined {
  if (bytes.length === 0) return undefined;
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch (cause) {
    throw CoreErrors.MALFORMED_JSON({ message: 'The body is not valid UTF-8', cause });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw CoreErrors.MALFORMED_JSON({ message: 'The body is not valid JSON', cause });
  }
  return inspectBody(value, plainJsonText(text, bytes.length));
}
