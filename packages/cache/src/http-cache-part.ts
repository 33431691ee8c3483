import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  definePart,
  type HttpRequest,
  type HttpResponse,
  type Part,
  RequestSlot,
  type SendInfo,
} from '@prod/core';
import { type CompiledPolicy, compiledPolicy } from './http-cache-meta.js';
import { check, checkTags } from './internal/options.js';
import { stableKey } from './internal/stable-key.js';
import type { Cache } from './types.js';

/** Options of {@link httpCachePart}. */
export interface HttpCachePartOptions {
  /**
   * Where server-side cached responses live (routes whose policy has `serverCache`). Without
   * it, `serverCache` policies only set headers.
   */
  readonly cache?: Cache;
  /**
   * ETags on every GET and HEAD `200` with a body the part can see (part routes), also on
   * routes without a policy. `false`: only where a route's policy asks. Default true.
   */
  readonly etag?: boolean;
  /** Bodies larger than this (bytes) get no ETag (hashing them costs more than it saves). Default 1 MiB. */
  readonly maxEtagBytes?: number;
  /**
   * The cache name of the `Cache-Status` header (RFC 9211) on server-cached routes: `hit`,
   * `fwd=miss; stored`, `fwd=bypass`. `false` for no header. Default `'prod-cache'`.
   */
  readonly cacheStatus?: string | false;
}

/** What onRequest decided for a server-cached route, for onSend. */
interface Decision {
  readonly key: string | undefined;
  readonly hit: boolean;
  readonly bypass: boolean;
}

/** A stored response. */
interface Stored {
  readonly s: number;
  readonly h: Readonly<Record<string, string | readonly string[]>>;
  readonly b: unknown;
  /** When it was stored (epoch ms), for `Age`. */
  readonly t: number;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers never stored with a response: they belong to one exchange. */
const NOT_STORED = new Set([
  'set-cookie',
  'x-request-id',
  'date',
  'age',
  'cache-status',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'traceparent',
  'server-timing',
]);
/** Headers a 304 leaves out: they describe a body it does not have. */
const NOT_IN_304 = new Set([
  'content-type',
  'content-length',
  'content-encoding',
  'content-range',
  'transfer-encoding',
]);

/** The headers of a response with lower-case names (a copy the part may change). */
function lowerHeaders(response: HttpResponse): Record<string, string | readonly string[]> {
  const out: Record<string, string | readonly string[]> = {};
  for (const [name, value] of Object.entries(response.headers ?? {}))
    out[name.toLowerCase()] = value;
  return out;
}

const single = (value: string | readonly string[] | undefined): string | undefined =>
  value === undefined ? undefined : typeof value === 'string' ? value : value.join(', ');

const byName = (a: readonly [string, unknown], b: readonly [string, unknown]): number =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;

/** Merges Vary values: case-insensitive tokens, `*` wins. */
function mergeVary(current: string | undefined, extra: readonly string[]): string | undefined {
  const tokens: string[] = [];
  for (const token of [...(current ?? '').split(','), ...extra]) {
    const name = token.trim().toLowerCase();
    if (name === '') continue;
    if (name === '*') return '*';
    if (!tokens.includes(name)) tokens.push(name);
  }
  return tokens.length === 0 ? undefined : tokens.join(', ');
}

/** Whether If-None-Match matches `etag` (weak comparison, RFC 9110 13.1.2). */
function noneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  const opaque = etag.startsWith('W/') ? etag.slice(2) : etag;
  for (const candidate of header.split(',')) {
    const tag = candidate.trim();
    if ((tag.startsWith('W/') ? tag.slice(2) : tag) === opaque) return true;
  }
  return false;
}

/**
 * The body as the bytes the adapter will send, and the response that sends exactly those
 * (a JSON body becomes its text, with its content type), or undefined for a body the part
 * cannot see whole (a stream).
 */
function bodyBytes(
  response: HttpResponse,
  headers: Record<string, string | readonly string[]>,
): Buffer | undefined {
  const body = response.body;
  if (body === undefined) return undefined;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array)
    return Buffer.isBuffer(body)
      ? body
      : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (
    body instanceof Readable ||
    (typeof body === 'object' && body !== null && Symbol.asyncIterator in body)
  )
    return undefined;
  const text = JSON.stringify(body) as string | undefined;
  if (typeof text !== 'string') return undefined;
  headers['content-type'] ??= JSON_TYPE;
  return Buffer.from(text, 'utf8');
}

/**
 * HTTP caching as a neutral part, for @prod/express, @prod/fastify and @prod/koa.
 *
 * Details:
 * - **ETag**: a strong ETag computed from the body of every GET/HEAD `200` (unless the
 *   handler set one), and `304 Not Modified` with no body when `If-None-Match` matches.
 * - **Cache-Control** per route from its `httpCacheMeta(...)` policy (`private`, `max-age`,
 *   `stale-while-revalidate`...); the handler's own header wins; error answers of such a
 *   route get `no-store`.
 * - **Vary**: the policy's headers merged into the response's, case-insensitively, `*` kept.
 * - **Server-side caching** of GET routes whose policy has `serverCache`, in `cache`, keyed by
 *   route, params, query and the `vary` headers: a hit is answered in `onRequest` (the
 *   handler does not run), with `Age` and `Cache-Status`. Never stored: a response that sets
 *   a cookie (unless `allowSetCookie`), or the answer to a request with `Authorization`
 *   (unless `authorization` says so), or one marked `private`/`no-store` by its handler.
 *   Invalidate with `cache.invalidateTags(...)` and the policy's `tags`.
 *
 * Gotchas: mount it after the parts that authenticate or limit requests (their `onRequest`
 * must run before a cached answer is given) and before your route parts. Native framework
 * routes (their bodies are the framework's) get Cache-Control and Vary but no ETag.
 *
 * @returns the `Part`. Throws `CACHE_INVALID_OPTIONS` for a bad option.
 * @example
 * declare const notes: Part;
 * const cache = createCache({ namespace: 'http' });
 * const parts = [httpCachePart({ cache }), notes]; // mountExpress(app, { parts })
 */
export function httpCachePart(options: HttpCachePartOptions = {}): Part {
  const given = check.object<HttpCachePartOptions>('options', options);
  const cache = given.cache;
  if (
    cache !== undefined &&
    (typeof cache !== 'object' || cache === null || typeof cache.getOrSet !== 'function')
  ) {
    check.fail('cache', 'a Cache from createCache()', cache);
  }
  const etagAll = check.boolean('etag', given.etag, true);
  const maxEtagBytes = check.integer('maxEtagBytes', given.maxEtagBytes, 1_048_576, { min: 0 });
  const statusName =
    given.cacheStatus === false
      ? undefined
      : check.string('cacheStatus', given.cacheStatus, 'prod-cache', { nonEmpty: true });
  if (statusName !== undefined && !TOKEN.test(statusName))
    check.fail('cacheStatus', 'a token (letters, digits, -)', statusName);
  const decisions = new RequestSlot<Decision>('@prod/cache/http decision');

  const status = (headers: Record<string, string | readonly string[]>, value: string): void => {
    if (statusName !== undefined) headers['cache-status'] = `${statusName}; ${value}`;
  };

  const keyOf = (request: HttpRequest, compiled: CompiledPolicy): string | undefined => {
    const server = compiled.policy.serverCache;
    if (server === undefined) return undefined;
    const varied = compiled.vary.map((name) => request.headers[name] ?? null);
    const authorization = request.headers.authorization;
    const credential =
      authorization !== undefined && server.authorization === 'per-credential'
        ? createHash('sha256').update(authorization).digest('base64url')
        : null;
    // Entries, not the objects: frameworks hand out params and query in objects of their own
    // classes; only the names and values count.
    const params = Object.entries(request.params).sort(byName);
    const query = Object.entries(request.query)
      .filter((entry) => entry[1] !== undefined)
      .sort(byName);
    try {
      return `http:${stableKey([request.route ?? request.path, params, query, varied, credential])}`;
    } catch {
      return undefined;
    }
  };

  const lookup = async (request: HttpRequest, key: string): Promise<HttpResponse | undefined> => {
    const stored = (await cache?.get<Stored>(key)) as Stored | undefined;
    if (
      stored === undefined ||
      typeof stored !== 'object' ||
      stored === null ||
      typeof stored.s !== 'number'
    ) {
      decisions.set(request, { key, hit: false, bypass: false });
      return undefined;
    }
    decisions.set(request, { key, hit: true, bypass: false });
    const headers: Record<string, string | readonly string[]> = { ...stored.h };
    headers.age = String(Math.max(0, Math.floor((Date.now() - stored.t) / 1000)));
    status(headers, 'hit');
    return { status: stored.s, headers, body: stored.b };
  };

  const store = (
    request: HttpRequest,
    response: HttpResponse,
    headers: Record<string, string | readonly string[]>,
    compiled: CompiledPolicy,
    key: string,
  ): boolean => {
    const server = compiled.policy.serverCache;
    if (
      cache === undefined ||
      server === undefined ||
      request.method !== 'GET' ||
      response.status !== 200
    )
      return false;
    if (headers['set-cookie'] !== undefined && server.allowSetCookie !== true) return false;
    const control = (single(headers['cache-control']) ?? '').toLowerCase();
    if (
      /(?:^|[\s,])(?:no-store|private)(?:$|[\s,=])/.test(control) &&
      server.authorization !== 'per-credential'
    )
      return false;
    if (mergeVary(single(headers.vary), []) === '*') return false;
    const body = response.body;
    if (
      body instanceof Readable ||
      (typeof body === 'object' && body !== null && Symbol.asyncIterator in body)
    )
      return false;
    let tags: readonly string[] | undefined;
    try {
      tags = server.tags === undefined ? undefined : checkTags('tags', server.tags(request), 1024);
    } catch {
      return false;
    }
    const kept: Record<string, string | readonly string[]> = {};
    for (const [name, value] of Object.entries(headers))
      if (!NOT_STORED.has(name)) kept[name] = value;
    const record: Stored = { s: response.status, h: kept, b: body, t: Date.now() };
    void cache.set(key, record, {
      ttl: server.ttl,
      jitter: 0,
      ...(tags === undefined ? {} : { tags }),
    });
    return true;
  };

  return definePart({
    name: 'http-cache',
    onRequest(request) {
      if (cache === undefined || (request.method !== 'GET' && request.method !== 'HEAD'))
        return undefined;
      const compiled = compiledPolicy(request);
      const server = compiled?.policy.serverCache;
      if (compiled === undefined || server === undefined) return undefined;
      const authorized = request.headers.authorization !== undefined;
      if (authorized && (server.authorization ?? 'bypass') === 'bypass') {
        decisions.set(request, { key: undefined, hit: false, bypass: true });
        return undefined;
      }
      const key = keyOf(request, compiled);
      if (key === undefined) return undefined;
      return lookup(request, key);
    },
    onSend(request: HttpRequest, response: HttpResponse, info: SendInfo): HttpResponse | undefined {
      const compiled = compiledPolicy(request);
      const decision = decisions.take(request);
      if (compiled === undefined && !etagAll) return undefined;
      const headers = lowerHeaders(response);
      let body = response.body;
      let changed = false;
      if (compiled !== undefined) {
        const ok = response.status >= 200 && response.status < 300;
        if (headers['cache-control'] === undefined) {
          const value = ok
            ? compiled.cacheControl
            : response.status >= 400
              ? 'no-store'
              : undefined;
          if (value !== undefined) {
            headers['cache-control'] = value;
            changed = true;
          }
        }
        const extra =
          compiled.policy.serverCache?.authorization === 'per-credential'
            ? [...compiled.vary, 'authorization']
            : compiled.vary;
        if (extra.length > 0) {
          const vary = mergeVary(single(headers.vary), extra);
          if (vary !== undefined && vary !== headers.vary) {
            headers.vary = vary;
            changed = true;
          }
        }
      }
      if (info.native) return changed ? { ...response, headers } : undefined;
      const wantsEtag = compiled === undefined ? etagAll : compiled.policy.etag !== false;
      const cacheable =
        (request.method === 'GET' || request.method === 'HEAD') && response.status === 200;
      let etag = single(headers.etag);
      if (wantsEtag && cacheable && etag === undefined) {
        const before = headers['content-type'];
        const bytes = bodyBytes(response, headers);
        if (bytes !== undefined && bytes.byteLength <= maxEtagBytes) {
          etag = `"${createHash('sha1').update(bytes).digest('base64url')}"`;
          headers.etag = etag;
          if (typeof body !== 'string' && !(body instanceof Uint8Array))
            body = bytes.toString('utf8');
          changed = true;
        } else if (headers['content-type'] !== before) {
          // Not hashed after all: leave the content type to the adapter.
          if (before === undefined) delete headers['content-type'];
          else headers['content-type'] = before;
        }
      }
      if (
        compiled?.policy.serverCache !== undefined &&
        cache !== undefined &&
        decision !== undefined
      ) {
        if (decision.bypass) status(headers, 'fwd=bypass');
        else if (!decision.hit && decision.key !== undefined) {
          const stored = store(request, { ...response, body }, headers, compiled, decision.key);
          status(headers, stored ? 'fwd=miss; stored' : 'fwd=miss');
        }
        changed = true;
      }
      if (cacheable && etag !== undefined && noneMatch(request.headers['if-none-match'], etag)) {
        const notModified: Record<string, string | readonly string[]> = {};
        for (const [name, value] of Object.entries(headers))
          if (!NOT_IN_304.has(name)) notModified[name] = value;
        return { status: 304, headers: notModified, body: undefined };
      }
      return changed ? { ...response, headers, body } : undefined;
    },
  });
}
