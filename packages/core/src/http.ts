/**
 * The methods OpenTelemetry's HTTP conventions record as themselves (RFC 9110 + PATCH);
 * metrics and spans record any other as `_OTHER`, so a client cannot invent label values.
 */
export const KNOWN_HTTP_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
]);

/** HTTP methods a route can answer. */
export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

/** The methods a route can answer, in the order an `Allow` header lists them. */
export const ROUTE_METHODS: readonly HttpMethod[] = Object.freeze([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
]);

/**
 * Typed metadata a route carries for cross-cutting parts (its rate-limit policy, the scopes
 * it needs, its OpenAPI operation), keyed by symbols that the owning packages define with
 * {@link defineRouteMeta}, so two packages cannot collide.
 */
export type RouteMeta = { readonly [key: symbol]: unknown };

/**
 * A read-only, framework-neutral view of one request, built by an adapter.
 *
 * The same object is passed to every hook and handler of one request, and it dies with the
 * request. Keep per-request state in `currentContext().extensions` under a symbol you own
 * (every hook runs inside the request's context), or on this object under a symbol you own
 * when a hook may be called outside a context. Avoid a `WeakMap<HttpRequest, T>`: V8's young
 * generation collector cannot free an entry whose key died young, so each request's entry is
 * promoted and waits for a full mark-compact, which costs more than the rest of the request.
 */
export interface HttpRequest {
  /** Upper-case method. */
  readonly method: string;
  /** The path without the query string. */
  readonly path: string;
  /** The matched route template (`/v1/notes/:id`), once routing has happened. */
  readonly route: string | undefined;
  /** Header names in lower case; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly ip: string | undefined;
  readonly query: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly params: Readonly<Record<string, string>>;
  /** The parsed body (JSON object, text, bytes) or undefined. */
  readonly body: unknown;
  /** Aborts when the client goes away. */
  readonly signal: AbortSignal | undefined;
  /**
   * The metadata of the part route that matched, for every hook of the request (`onRequest`
   * included); empty for a request no part route matched. Read it through a key:
   * `rateLimitMeta.read(request)`.
   */
  readonly meta: RouteMeta;
}

/**
 * What a handler or hook answers. A plain object or array body is sent as JSON; a string as
 * text; a Uint8Array as bytes; an async iterable (a Node Readable) is streamed untouched.
 */
export interface HttpResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  readonly body?: unknown;
}

/** Turns a request into a response. */
export type RouteHandler = (request: HttpRequest) => HttpResponse | Promise<HttpResponse>;

/** One route a part serves. `path` uses `:param` segments. */
export interface Route {
  readonly method: HttpMethod;
  readonly path: string;
  readonly handler: RouteHandler;
  /**
   * What cross-cutting parts should know about this route, built from the keys of the
   * packages that read it: `meta: { ...rateLimitMeta({ points: 10 }), ...scopesMeta(['notes:write']) }`.
   */
  readonly meta?: RouteMeta;
}

/** What `onResponse` learns about a finished request. */
export interface ResponseInfo {
  readonly status: number;
  readonly durationMs: number;
  /** Set when the request ended with an error (already turned into the response). */
  readonly error?: unknown;
}

/** What `onRequest` returns: a response to answer early, or nothing to go on. */
export type EarlyResponse = HttpResponse | undefined;

/** What `onSend` learns about the response it decorates. */
export interface SendInfo {
  /**
   * True for a response of a route the application registered on the framework itself:
   * only its status and headers are known (`body` is undefined), and only the headers an
   * `onSend` returns are applied.
   */
  readonly native: boolean;
}

/**
 * Decorates a response on its way out: returns the response to send instead (new or
 * changed headers, another body), or undefined to leave it as it is.
 */
export type SendHook = (
  request: HttpRequest,
  response: HttpResponse,
  info: SendInfo,
) => HttpResponse | undefined;

/**
 * A unit of HTTP behaviour a feature package exposes, mounted by any adapter.
 *
 * Hook order, for every request, the same on every framework:
 * 1. each part's `onRequest`, in mount order; the first to return a response answers early
 *    and skips the later ones and the handler;
 * 2. the handler of the matched part route;
 * 3. on a throw (from an `onRequest` or the handler), each `onError` in mount order until
 *    one returns a response (else the adapter's problem+json);
 * 4. each `onSend`, in reverse mount order (the first-mounted part has the last word), on
 *    every response the adapter answers: route answers, early answers, error answers, 404
 *    and 405, and, headers only, the responses of the application's own framework routes;
 * 5. after the response is sent (or the connection closed), each `onResponse`, in reverse
 *    mount order.
 *
 * Every hook and the handler run inside the request's context (`currentContext()`), and
 * every hook sees the matched part route's metadata as `request.meta`.
 *
 * Hooks and handlers may answer synchronously or with a promise (except `onSend`, which is
 * synchronous): adapters await only what is a promise, and every promise made inside a
 * request costs (AsyncLocalStorage tracks each one), so a hook with nothing to wait for
 * should return its value directly, not be `async`.
 */
export interface Part {
  /** Short unique name, used in logs and errors. */
  readonly name: string;
  readonly routes?: readonly Route[];
  /** Runs before the handler; returning a response answers the request early. */
  readonly onRequest?: (request: HttpRequest) => EarlyResponse | Promise<EarlyResponse>;
  /** Runs after the response is sent (or the connection closed). Must not throw. */
  readonly onResponse?: (request: HttpRequest, info: ResponseInfo) => void;
  /** Turns an error into a response; return undefined to leave it to the next part. */
  readonly onError?: (error: unknown, request: HttpRequest) => HttpResponse | undefined;
  /**
   * Decorates every response of the request on its way out (see the order above). Must be
   * cheap and synchronous: it runs on every response. When it throws (or returns a promise,
   * or a response that cannot be sent), the adapter reports it through `onHookError` and
   * sends the response as it was before this hook.
   */
  readonly onSend?: SendHook;
}

/** A key of route metadata: builds a route's `meta` entry and reads it back, typed. */
export interface RouteMetaKey<TValue> {
  /** A `meta` fragment holding `value` under this key: spread it into a route's `meta`. */
  (value: TValue): RouteMeta;
  /** The namespaced name the key was defined with. */
  readonly name: string;
  readonly symbol: symbol;
  /** The value under this key in a request's (or a route's) metadata. */
  read(source: { readonly meta?: RouteMeta | undefined }): TValue | undefined;
}

const META_NAME = /^(?:@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*\/[\w.:-]+$/i;

/**
 * Defines a key of route metadata owned by your package. The name must be namespaced by the
 * package (`@prod/ratelimit/policy`, `my-app/scopes`): the key is `Symbol.for(name)`, so the
 * ESM and CJS builds of one package agree on it, and two packages cannot collide.
 *
 * @example
 * const scopesMeta = defineRouteMeta<readonly string[]>('my-app/scopes');
 * const route: Route = {
 *   method: 'POST',
 *   path: '/notes',
 *   meta: scopesMeta(['notes:write']),
 *   handler: () => json(201, {}),
 * };
 * const part = definePart({
 *   name: 'scopes',
 *   routes: [route],
 *   onRequest: (request) =>
 *     scopesMeta.read(request)?.includes('notes:write') === false ? json(403, {}) : undefined,
 * });
 */
export function defineRouteMeta<TValue>(name: string): RouteMetaKey<TValue> {
  if (typeof name !== 'string' || !META_NAME.test(name)) {
    throw new TypeError(
      `defineRouteMeta: "${String(name)}" is not a namespaced name such as "@scope/package/key"`,
    );
  }
  const symbol = Symbol.for(name);
  const key = (value: TValue): RouteMeta => ({ [symbol]: value });
  // A function's own `name` is read-only to assignment, not to definition.
  Object.defineProperty(key, 'name', { value: name });
  return Object.freeze(
    Object.assign(key, {
      symbol,
      read: (source: { readonly meta?: RouteMeta | undefined }): TValue | undefined =>
        source?.meta?.[symbol] as TValue | undefined,
    }),
  ) as RouteMetaKey<TValue>;
}

/** Declares a part with its types checked. */
export function definePart(part: Part): Part {
  return part;
}

/** A JSON response. */
export function json(
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string | readonly string[]>> = {},
): HttpResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body,
  };
}
