import { defineRouteMeta, type HttpRequest, type RouteMeta, type RouteMetaKey } from '@prod/core';
import { check, MAX_TAGS } from './internal/options.js';

/** Server-side caching of a GET route's responses, through a {@link Cache}. */
export interface ServerCachePolicy {
  /** How long a response is kept, in milliseconds. */
  readonly ttl: number;
  /** Tags of a stored response, from its request (`(r) => [\`note:${r.params.id}\`]`). */
  readonly tags?: (request: HttpRequest) => readonly string[];
  /**
   * Requests that carry `Authorization`: `bypass` (the default) neither reads nor stores the
   * cache for them; `per-credential` keys the cache by the credential as well (each caller
   * sees only what was answered to the same credential); `shared` serves one stored response
   * to every authorized caller (the route's answer does not depend on who asks).
   */
  readonly authorization?: 'bypass' | 'per-credential' | 'shared';
  /**
   * Store a response that sets a cookie all the same; the cookie itself is never stored (it
   * belongs to the one response that set it). Default false: such a response is not stored.
   */
  readonly allowSetCookie?: boolean;
}

/**
 * How a route's responses are cached: `Cache-Control` for clients and shared caches (ages in
 * seconds, as in the header), `Vary`, the ETag, and optional server-side caching.
 */
export interface HttpCachePolicy {
  /** `max-age`, in seconds. */
  readonly maxAge?: number;
  /** `s-maxage` (shared caches), in seconds. */
  readonly sMaxAge?: number;
  /** `private`: only the client's own cache may keep it. */
  readonly private?: boolean;
  /** `public`: shared caches may keep it, even for requests with `Authorization`. */
  readonly public?: boolean;
  /** `stale-while-revalidate`, in seconds. */
  readonly staleWhileRevalidate?: number;
  /** `stale-if-error`, in seconds. */
  readonly staleIfError?: number;
  /** `no-cache`: a cache must revalidate (If-None-Match -> 304) before each use. */
  readonly noCache?: boolean;
  /** `no-store`: nothing may keep it (the other directives are left out). */
  readonly noStore?: boolean;
  readonly mustRevalidate?: boolean;
  readonly immutable?: boolean;
  /** Request headers the response depends on: added to `Vary`, and to the server cache key. */
  readonly vary?: readonly string[];
  /** A strong ETag from the body, and 304 for a matching If-None-Match. Default true. */
  readonly etag?: boolean;
  /** Keep responses in a server-side cache too (`httpCachePart({ cache })`). */
  readonly serverCache?: ServerCachePolicy;
}

/** What the part reads: the policy, checked, with its header made once. */
export interface CompiledPolicy {
  readonly policy: HttpCachePolicy;
  readonly cacheControl: string | undefined;
  readonly vary: readonly string[];
}

const compiled = new WeakMap<HttpCachePolicy, CompiledPolicy>();

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const MAX_AGE = 2_147_483_647;

const seconds = (name: string, value: unknown): number | undefined =>
  value === undefined ? undefined : check.integer(name, value, 0, { min: 0, max: MAX_AGE });

function compile(policy: HttpCachePolicy): CompiledPolicy {
  const given = check.object<HttpCachePolicy>('policy', policy);
  const maxAge = seconds('maxAge', given.maxAge);
  const sMaxAge = seconds('sMaxAge', given.sMaxAge);
  const swr = seconds('staleWhileRevalidate', given.staleWhileRevalidate);
  const sie = seconds('staleIfError', given.staleIfError);
  const flags = {
    private: check.boolean('private', given.private, false),
    public: check.boolean('public', given.public, false),
    noCache: check.boolean('noCache', given.noCache, false),
    noStore: check.boolean('noStore', given.noStore, false),
    mustRevalidate: check.boolean('mustRevalidate', given.mustRevalidate, false),
    immutable: check.boolean('immutable', given.immutable, false),
  };
  check.boolean('etag', given.etag, true);
  if (flags.private && flags.public) check.fail('public', 'not set together with private', true);
  const vary: string[] = [];
  if (given.vary !== undefined) {
    if (!Array.isArray(given.vary) || given.vary.length > 32)
      check.fail('vary', 'an array of header names', given.vary);
    for (const name of given.vary as unknown[]) {
      if (typeof name !== 'string' || !TOKEN.test(name)) check.fail('vary', 'header names', name);
      const lower = (name as string).toLowerCase();
      if (!vary.includes(lower)) vary.push(lower);
    }
  }
  const server = given.serverCache;
  if (server !== undefined) {
    const s = check.object<ServerCachePolicy>('serverCache', server);
    if (s.ttl === undefined)
      check.fail('serverCache.ttl', 'a number of milliseconds >= 1', undefined);
    check.duration('serverCache.ttl', s.ttl, 0, { min: 1, allowInfinity: true });
    check.fn('serverCache.tags', s.tags);
    check.oneOf(
      'serverCache.authorization',
      s.authorization,
      ['bypass', 'per-credential', 'shared'],
      'bypass',
    );
    check.boolean('serverCache.allowSetCookie', s.allowSetCookie, false);
    if (flags.noStore) check.fail('serverCache', 'not set on a noStore route', server);
    if (flags.private && s.authorization !== 'per-credential') {
      check.fail(
        'serverCache.authorization',
        '"per-credential" on a private route',
        s.authorization,
      );
    }
  }
  let cacheControl: string | undefined;
  if (flags.noStore) cacheControl = 'no-store';
  else {
    const parts: string[] = [];
    if (flags.private) parts.push('private');
    if (flags.public) parts.push('public');
    if (flags.noCache) parts.push('no-cache');
    if (maxAge !== undefined) parts.push(`max-age=${maxAge}`);
    if (sMaxAge !== undefined) parts.push(`s-maxage=${sMaxAge}`);
    if (swr !== undefined) parts.push(`stale-while-revalidate=${swr}`);
    if (sie !== undefined) parts.push(`stale-if-error=${sie}`);
    if (flags.mustRevalidate) parts.push('must-revalidate');
    if (flags.immutable) parts.push('immutable');
    cacheControl = parts.length === 0 ? undefined : parts.join(', ');
  }
  return Object.freeze({ policy: given, cacheControl, vary: Object.freeze(vary) });
}

const key = defineRouteMeta<HttpCachePolicy>('@prod/cache/http');

/** The compiled form of a route's policy (checked when the route was declared). */
export function compiledPolicy(request: {
  readonly meta?: RouteMeta | undefined;
}): CompiledPolicy | undefined {
  const policy = key.read(request);
  if (policy === undefined) return undefined;
  let found = compiled.get(policy);
  if (found === undefined) {
    // A policy put in `meta` without going through httpCacheMeta() (a copy of the key).
    found = compile(policy);
    compiled.set(policy, found);
  }
  return found;
}

/** The tags cap of server-cached responses. */
export const MAX_RESPONSE_TAGS = MAX_TAGS;

/**
 * The route metadata key of HTTP caching (`'@prod/cache/http'`): `httpCacheMeta(policy)` is a
 * route's `meta` entry, checked when the route is declared (a bad policy throws
 * `CACHE_INVALID_OPTIONS` at startup); `httpCacheMeta.read(request)` reads it back in any hook.
 *
 * @example
 * const route: Route = {
 *   method: 'GET',
 *   path: '/v1/notes/:id',
 *   meta: httpCacheMeta({
 *     private: true,
 *     maxAge: 0,
 *     noCache: true, // revalidate with If-None-Match: 304 while unchanged
 *     vary: ['accept-language'],
 *   }),
 *   handler: (request) => json(200, { id: request.params.id }),
 * };
 */
export const httpCacheMeta: RouteMetaKey<HttpCachePolicy> = makeKey();

function makeKey(): RouteMetaKey<HttpCachePolicy> {
  const build = (policy: HttpCachePolicy): RouteMeta => {
    const ready = compile(policy);
    const frozen = Object.freeze({ ...ready.policy });
    compiled.set(frozen, { ...ready, policy: frozen });
    return key(frozen);
  };
  // A function's own `name` is read-only to assignment, not to definition.
  Object.defineProperty(build, 'name', { value: key.name });
  return Object.freeze(
    Object.assign(build, { symbol: key.symbol, read: key.read }),
  ) as RouteMetaKey<HttpCachePolicy>;
}
