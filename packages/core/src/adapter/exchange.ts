import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { type BodyProfile, recordBodyProfile, recordedBodyProfile } from '../body-profile.js';
import {
  CoreErrors,
  currentContext,
  type HttpResponse,
  isThenable,
  type LingerBounds,
  lingerAfterLastAnswer,
  type MaybePromise,
  type RequestContext,
  type ResponseInfo,
  type Route,
  requestIdFrom,
  runWithContext,
  type SendInfo,
  toHttpResponse,
} from '../index.js';
import { type EncodedResponse, encodeResponse } from './encode.js';
import { toProdError } from './framework-error.js';
import {
  type PartHooks,
  routeResponse,
  runOnError,
  runOnRequest,
  runOnResponse,
  runOnSend,
} from './hooks.js';
import { inspectBody } from './inspect-body.js';
import { hasBody, readJsonBody } from './read-body.js';
import {
  matchedRouteOf,
  type RequestView,
  rawRequestOf,
  rawResponseOf,
  setBody,
  setMatchedRoute,
} from './request-view.js';

/** Sets and removes headers of a framework's response (for `onSend` on native routes). */
export interface HeaderWriter<TTarget> {
  set(target: TTarget, name: string, value: string | readonly string[]): void;
  remove(target: TTarget, name: string): void;
}

/** What every exchange of one adapter shares. */
export interface ExchangeHost<TTarget> {
  readonly hooks: PartHooks;
  readonly bodyLimit: number;
  readonly write: (target: TTarget, response: EncodedResponse) => void | Promise<void>;
  readonly headers: HeaderWriter<TTarget>;
}

// A client still uploading a body we refused may send many megabytes more before it reads
// the answer: discard generously, for a bounded time.
const REFUSED_UPLOAD_LINGER: LingerBounds = Object.freeze({ ms: 2000, bytes: 16 * 1024 * 1024 });

// Up to this much declared body is read and discarded after an early answer (as Node does for
// any unread body on a kept-alive connection) rather than closing the connection.
const KEEP_ALIVE_DISCARD_BYTES = 64 * 1024;

function smallDeclaredBody(headers: IncomingHttpHeaders): boolean {
  if (headers['transfer-encoding'] !== undefined) return false;
  const declared = Number(headers['content-length']);
  return Number.isFinite(declared) && declared <= KEEP_ALIVE_DISCARD_BYTES;
}

const PART_RESPONSE: SendInfo = Object.freeze({ native: false });
const NATIVE_RESPONSE: SendInfo = Object.freeze({ native: true });

// The context's `route` is an own, enumerable accessor (a spread or Object.assign copy of the
// context keeps the value), defined with the same two functions on every context so that V8
// shares one hidden class among them; per-request closures would give each context its own
// and make it a slow dictionary object.
const VIEW = Symbol('@prod/core/adapter view');
const ROUTE = Symbol('@prod/core/adapter route');

interface AdapterContext extends RequestContext {
  readonly [VIEW]: RequestView;
  [ROUTE]: string | undefined;
}

const ROUTE_ACCESSOR: PropertyDescriptor = {
  enumerable: true,
  configurable: true,
  // The route template is known only after routing: read it when asked, unless a part set it.
  get(this: AdapterContext): string | undefined {
    return this[ROUTE] ?? this[VIEW].route;
  },
  set(this: AdapterContext, value: string | undefined): void {
    this[ROUTE] = value;
  },
};

function newContext(requestId: string, view: RequestView): RequestContext {
  const context = {
    requestId,
    extensions: new Map<symbol, unknown>(),
    [VIEW]: view,
    [ROUTE]: undefined,
  };
  Object.defineProperty(context, 'route', ROUTE_ACCESSOR);
  return context;
}

enum Phase {
  /** No `onRequest` hook has run. */
  New = 0,
  /** The `onRequest` hooks ran (or are running) and answered nothing. */
  Hooked = 1,
  /** A response was handed to the framework. */
  Answered = 2,
}

/**
 * One request on its way through the parts: the one driver every adapter feeds. The adapter
 * says what the framework found (a part route, a known path with another method, nothing,
 * an error) and the exchange does the rest, the same way on every framework: request id and
 * context, `onRequest` (once), the body, the handler, `onError`, `onSend`, encoding, the
 * write through the adapter's writer, and `onResponse` when the response is done.
 *
 * Every method enters the request's context, never throws, and returns a promise only when
 * something asynchronous happened (a hook, a handler, a body or a stream).
 */
export class Exchange<TTarget> {
  readonly view: RequestView;
  readonly context: RequestContext;
  readonly requestId: string;
  readonly #host: ExchangeHost<TTarget>;
  readonly #target: TTarget;
  readonly #startedAt = performance.now();
  #phase: Phase = Phase.New;
  #failure: { readonly error: unknown } | undefined;
  #extraHeaders: Readonly<Record<string, string>> | undefined;
  #done = false;

  constructor(host: ExchangeHost<TTarget>, target: TTarget, view: RequestView) {
    this.#host = host;
    this.#target = target;
    this.view = view;
    this.requestId = requestIdFrom(rawRequestOf(view).headers['x-request-id']);
    this.context = newContext(this.requestId, view);
    const response = rawResponseOf(view);
    if (host.hooks.onResponse.length > 0) {
      // `on`, not `once`: once wraps every listener; the second event finds the request done.
      const finish = finisher(this, response);
      response.on('finish', finish);
      response.on('close', finish);
    }
  }

  /** Whether a response of this exchange was handed to the framework. */
  get answered(): boolean {
    return this.#phase === Phase.Answered;
  }

  /** Runs `fn` in the request's context (entered only when it is not current already). */
  run<TResult>(fn: () => TResult): TResult {
    return currentContext() === this.context ? fn() : runWithContext(this.context, fn);
  }

  /** Records the part route that matched, so every hook sees its template and metadata. */
  match(route: Route): void {
    setMatchedRoute(this.view, route);
  }

  /**
   * For a request no part route serves: runs the `onRequest` hooks (once) and, unless one
   * answered early (the answer is sent), calls `next` in the request's context and returns
   * what it returns.
   */
  pass<TResult>(next: () => TResult): MaybePromise<TResult | undefined> {
    // The application's own route answers through the framework: it carries the id from
    // here. An answer of the kit carries it in its own headers (`#write`), so that Node
    // writes those in one pass rather than merging them into headers set one by one.
    if (matchedRouteOf(this.view) === undefined) {
      rawResponseOf(this.view).setHeader('x-request-id', this.requestId);
    }
    return this.run(() => {
      let early: MaybePromise<HttpResponse | undefined>;
      try {
        early = this.#onRequest();
      } catch (error) {
        return this.#then(this.#sendError(error), undefined);
      }
      if (!isThenable(early)) {
        if (early === undefined) return next();
        return this.#then(this.#send(early), undefined);
      }
      return early.then(
        (answer) => (answer === undefined ? next() : this.#then(this.#send(answer), undefined)),
        (error: unknown) => this.#then(this.#sendError(error), undefined),
      );
    });
  }

  /**
   * Serves a part route: `onRequest` (once), its JSON body (read by the kit, or `body` when
   * the framework's parser already ran the kit's reader), the handler, then the answer.
   */
  serve(route: Route, body?: () => unknown): MaybePromise<void> {
    return this.run(() => {
      if (!decodable(this.view.path)) {
        // Some routers pass an undecodable parameter on raw, others refuse it: refuse it here.
        return this.#sendError(
          CoreErrors.BAD_REQUEST({ message: 'The path is not valid percent-encoding' }),
        );
      }
      this.match(route);
      return this.#respond(() => this.#callRoute(route, body));
    });
  }

  /** Answers 404 NOT_FOUND (after `onRequest`, once). */
  notFound(): MaybePromise<void> {
    return this.run(() =>
      this.#respond(() => {
        throw CoreErrors.NOT_FOUND({ message: 'No route matches this path' });
      }),
    );
  }

  /** Answers 405 METHOD_NOT_ALLOWED with `Allow` (after `onRequest`, once). */
  methodNotAllowed(allow: string): MaybePromise<void> {
    return this.run(() => {
      this.#extraHeaders = { allow };
      return this.#respond(() => {
        throw CoreErrors.METHOD_NOT_ALLOWED({
          message: `This path answers ${allow}`,
          details: { allow: allow.split(', ') },
        });
      });
    });
  }

  /** Answers an error the framework or the application raised: `onError`, then problem+json. */
  fail(error: unknown): MaybePromise<void> {
    return this.run(() => this.#sendError(error));
  }

  /**
   * Runs `onSend` (headers only) for a response the application's own framework route is
   * about to send, and applies the header changes through the adapter's writer.
   */
  decorate(status: number, headers: Readonly<Record<string, unknown>>): void {
    const hooks = this.#host.hooks;
    if (hooks.onSend.length === 0 || this.#phase === Phase.Answered) return;
    this.run(() => {
      const before = nativeHeaders(headers);
      const sent = runOnSend(hooks, this.view, { status, headers: before }, NATIVE_RESPONSE);
      if (sent.changedBy === undefined) return;
      let after: Readonly<Record<string, string | readonly string[]>>;
      try {
        after = encodeResponse({ status, headers: sent.response.headers ?? {} }).headers;
      } catch (error) {
        hooks.report(error, sent.changedBy);
        return;
      }
      const writer = this.#host.headers;
      for (const name in before) if (after[name] === undefined) writer.remove(this.#target, name);
      for (const name in after) {
        const value = after[name] as string | readonly string[];
        if (before[name] !== value) writer.set(this.#target, name, value);
      }
    });
  }

  /** Runs each `onResponse` once, inside the request's context. */
  finish(response: ServerResponse): void {
    if (this.#done) return;
    this.#done = true;
    const status = response.writableFinished ? response.statusCode : 499;
    const durationMs = performance.now() - this.#startedAt;
    const failure = this.#failure;
    const info: ResponseInfo =
      failure === undefined ? { status, durationMs } : { status, durationMs, error: failure.error };
    this.run(() => runOnResponse(this.#host.hooks, this.view, info));
  }

  #onRequest(): MaybePromise<HttpResponse | undefined> {
    if (this.#phase !== Phase.New) return undefined;
    this.#phase = Phase.Hooked;
    return runOnRequest(this.#host.hooks, this.view);
  }

  /** `onRequest` (once), then `produce`'s answer, or the error's. */
  #respond(produce: () => unknown): MaybePromise<void> {
    let early: MaybePromise<HttpResponse | undefined>;
    try {
      early = this.#onRequest();
    } catch (error) {
      return this.#sendError(error);
    }
    if (!isThenable(early)) return early === undefined ? this.#produce(produce) : this.#send(early);
    return early.then(
      (answer) => (answer === undefined ? this.#produce(produce) : this.#send(answer)),
      (error: unknown) => this.#sendError(error),
    );
  }

  #produce(produce: () => unknown): MaybePromise<void> {
    let returned: unknown;
    try {
      returned = produce();
    } catch (error) {
      return this.#sendError(error);
    }
    if (!isThenable(returned)) return this.#send(returned);
    return returned.then(
      (answer) => this.#send(answer),
      (error: unknown) => this.#sendError(error),
    ) as Promise<void>;
  }

  #callRoute(route: Route, body: (() => unknown) | undefined): unknown {
    const raw = rawRequestOf(this.view);
    if (!hasBody(raw.headers)) return route.handler(this.view);
    if (raw.readableDidRead || raw.readableEnded) {
      // A parser ran first: the kit's own reader inside the framework's parser (`body`), or
      // a parser of the application's, whose result is held to the same rules.
      if (body !== undefined) {
        const parsed = body();
        this.#setBody(parsed, recordedBodyProfile(raw));
      } else {
        const parsed = this.view.frameworkBody();
        this.#setBody(parsed, inspectBody(parsed));
      }
      return route.handler(this.view);
    }
    // Nothing read the body yet (Express, Koa, or Fastify skipping its parser for a GET).
    return readJsonBody(raw, this.#host.bodyLimit).then((parsed) => {
      this.#setBody(parsed, recordedBodyProfile(raw));
      return route.handler(this.view);
    });
  }

  /** Hands the parsed body to the view, with its profile when it describes that very body. */
  #setBody(parsed: unknown, profile: BodyProfile | undefined): void {
    setBody(this.view, parsed);
    if (profile !== undefined && profile.body === parsed) recordBodyProfile(this.view, profile);
  }

  /** Sends a handler's or hook's answer; an unsendable one becomes the error answer. */
  #send(returned: unknown): MaybePromise<void> {
    let encoded: EncodedResponse;
    try {
      encoded = this.#finalize(routeResponse(returned), PART_RESPONSE);
    } catch (error) {
      return this.#sendError(error);
    }
    return this.#write(encoded);
  }

  #sendError(error: unknown): MaybePromise<void> {
    const mapped = toProdError(error);
    this.#failure = { error: mapped };
    let response =
      runOnError(this.#host.hooks, mapped, this.view) ?? toHttpResponse(mapped, this.view);
    const extra = this.#extraHeaders;
    if (extra !== undefined) response = { ...response, headers: { ...response.headers, ...extra } };
    let encoded: EncodedResponse;
    try {
      encoded = this.#finalize(response, PART_RESPONSE);
    } catch {
      // A part's onError answered something unsendable: the plain problem, untouched by parts.
      encoded = encodeResponse(toHttpResponse(mapped, this.view));
    }
    return this.#write(encoded);
  }

  /** `onSend`, then encoding; a response an `onSend` spoiled falls back to the one before. */
  #finalize(response: HttpResponse, info: SendInfo): EncodedResponse {
    const hooks = this.#host.hooks;
    if (hooks.onSend.length === 0) return encodeResponse(response);
    const sent = this.run(() => runOnSend(hooks, this.view, response, info));
    if (sent.changedBy === undefined) return encodeResponse(response);
    try {
      return encodeResponse(sent.response);
    } catch (error) {
      hooks.report(error, sent.changedBy);
      return encodeResponse(response);
    }
  }

  #write(encoded: EncodedResponse): MaybePromise<void> {
    if (this.#phase === Phase.Answered) {
      const payload = encoded.payload;
      if (payload !== undefined && typeof payload !== 'string' && !Buffer.isBuffer(payload)) {
        payload.destroy();
      }
      return undefined;
    }
    this.#phase = Phase.Answered;
    const headers = encoded.headers as Record<string, string | readonly string[]>;
    if (headers['x-request-id'] === undefined) headers['x-request-id'] = this.requestId;
    const raw = rawRequestOf(this.view);
    if (!raw.complete && hasBody(raw.headers) && !smallDeclaredBody(raw.headers)) {
      // A large or unbounded upload is still coming: say so, and let the client read the
      // answer before we close. A small declared one Node reads and discards after the answer,
      // keeping the connection (a refused POST must not cost the client its connection).
      headers.connection = 'close';
      lingerAfterLastAnswer(raw.socket, REFUSED_UPLOAD_LINGER);
    }
    return this.#host.write(this.#target, encoded);
  }

  #then<TResult>(written: MaybePromise<void>, value: TResult): MaybePromise<TResult> {
    return isThenable(written) ? written.then(() => value) : value;
  }
}

// Returned, not assigned to a name: tools that keep function names (tsx, esbuild keepNames)
// would otherwise redefine the closure's name on every request.
function finisher<TTarget>(exchange: Exchange<TTarget>, response: ServerResponse): () => void {
  return () => exchange.finish(response);
}

function decodable(path: string): boolean {
  if (!path.includes('%')) return true;
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

/** A framework's header record as the neutral shape (lower-case names, string values). */
function nativeHeaders(
  headers: Readonly<Record<string, unknown>>,
): Record<string, string | readonly string[]> {
  const result: Record<string, string | readonly string[]> = Object.create(null);
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    result[name.toLowerCase()] = Array.isArray(value) ? value.map(String) : String(value);
  }
  return result;
}
