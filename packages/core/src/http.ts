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

/**
 * A unit of HTTP behaviour a feature package exposes, mounted by any adapter.
 *
 * Hook order, for every request: each part's `onRequest` in mount order (the first to
 * return a response answers early and skips the handler); the handler; on a throw (from
 * an `onRequest` hook or the handler), each `onError` in mount order until one returns a response (else the adapter's default
 * problem+json); finally each `onResponse` in reverse mount order. Every hook and the handler
 * run inside the request's context (`currentContext()`).
 *
 * Hooks and handlers may answer synchronously or with a promise: adapters await only what is a
 * promise, and every promise made inside a request costs (AsyncLocalStorage tracks each one),
 * so a hook with nothing to wait for should return its value directly, not be `async`.
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
