import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpRequest, Route, RouteMeta } from '../index.js';
import { hasBody } from './read-body.js';

type Query = Record<string, string | readonly string[] | undefined>;

// The kit reads the Node request behind a view and records the matched part route; a static
// block hands it the private fields without making them visible to parts.
let rawOf: (view: RequestView) => IncomingMessage;
let matchOf: (view: RequestView, route: Route) => void;
let matchedOf: (view: RequestView) => Route | undefined;
let bodyOf: (view: RequestView, body: unknown) => void;
let responseOf: (view: RequestView) => ServerResponse;

const NO_META: RouteMeta = Object.freeze({});

/**
 * The neutral view of one request, subclassed by each adapter for what only its framework
 * knows (route template, params, ip, a body its own parser read). One instance per request
 * is passed to every hook and handler and dies with the request: a part may keep
 * per-request state on it under a symbol it owns (see `RequestSlot`). Headers and query are
 * built on first read.
 */
export abstract class RequestView implements HttpRequest {
  readonly method: string;
  readonly path: string;
  readonly #raw: IncomingMessage;
  readonly #response: ServerResponse;
  readonly #search: string;
  #headers: Record<string, string | undefined> | undefined;
  #query: Query | undefined;
  #controller: AbortController | undefined;
  #matched: Route | undefined;
  #body: unknown;

  static {
    rawOf = (view) => view.#raw;
    matchOf = (view, route) => {
      view.#matched = route;
    };
    matchedOf = (view) => view.#matched;
    bodyOf = (view, body) => {
      view.#body = body;
    };
    responseOf = (view) => view.#response;
  }

  /** `url` is the request target as received (before any router rewrote it). */
  constructor(raw: IncomingMessage, response: ServerResponse, url: string) {
    this.#raw = raw;
    this.#response = response;
    this.method = (raw.method ?? 'GET').toUpperCase();
    const queryStart = url.indexOf('?');
    this.path = queryStart === -1 ? url : url.slice(0, queryStart);
    this.#search = queryStart === -1 ? '' : url.slice(queryStart + 1);
  }

  abstract get route(): string | undefined;
  abstract get params(): Readonly<Record<string, string>>;
  abstract get ip(): string | undefined;

  /** The part route that matched, once the kit knows it. */
  protected get matchedRoute(): Route | undefined {
    return this.#matched;
  }

  get meta(): RouteMeta {
    return this.#matched?.meta ?? NO_META;
  }

  /** The body the kit read for a part route (undefined before, and without one). */
  get body(): unknown {
    return this.#body;
  }

  get headers(): Readonly<Record<string, string | undefined>> {
    if (this.#headers === undefined) {
      const headers: Record<string, string | undefined> = Object.create(null);
      const raw = this.#raw.headers;
      for (const name in raw) {
        const value = raw[name];
        headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
      }
      this.#headers = headers;
    }
    return this.#headers;
  }

  get query(): Readonly<Query> {
    if (this.#query === undefined) {
      const query: Record<string, string | string[]> = Object.create(null);
      for (const [key, value] of new URLSearchParams(this.#search)) {
        const previous = query[key];
        if (previous === undefined) query[key] = value;
        else if (typeof previous === 'string') query[key] = [previous, value];
        else previous.push(value);
      }
      this.#query = query;
    }
    return this.#query;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      const controller = new AbortController();
      this.#controller = controller;
      const response = this.#response;
      const abortIfUnfinished = (): void => {
        if (!response.writableFinished) controller.abort(clientGone());
      };
      if (response.closed) abortIfUnfinished();
      else response.once('close', abortIfUnfinished);
    }
    return this.#controller.signal;
  }

  /**
   * The body a parser of the application already read (Express's `express.json()` mounted
   * before the adapter, Koa's bodyparser): the kit uses it instead of the spent stream.
   * Default: none.
   */
  frameworkBody(): unknown {
    return undefined;
  }
}

/** The Node request behind a view: its headers as Node parsed them (names in lower case). */
export function rawRequestOf(view: RequestView): IncomingMessage {
  return rawOf(view);
}

/** The Node response of the request behind a view. */
export function rawResponseOf(view: RequestView): ServerResponse {
  return responseOf(view);
}

/** Records the part route that matched `view`, whose metadata every hook then reads. */
export function setMatchedRoute(view: RequestView, route: Route): void {
  matchOf(view, route);
}

/** The part route recorded for `view`, or undefined while none matched. */
export function matchedRouteOf(view: RequestView): Route | undefined {
  return matchedOf(view);
}

/** Keeps the parsed body of a part route, for the handler and later hooks. */
export function setBody(view: RequestView, body: unknown): void {
  bodyOf(view, body);
}

/** Whether the request behind `view` carries a body. */
export function viewHasBody(view: RequestView): boolean {
  return hasBody(rawOf(view).headers);
}

function clientGone(): DOMException {
  return new DOMException('The client closed the connection', 'AbortError');
}
