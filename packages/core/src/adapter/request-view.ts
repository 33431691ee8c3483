import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpRequest, Route, RouteMeta } from '../index.js';

type Query = Record<string, string | readonly string[] | undefined>;

// The kit reads the Node request behind a view (request id, body presence) without building
// the normalized header copy; a static block hands it the private field without making it
// visible to parts.
let rawOf: (view: RequestView) => IncomingMessage;
let matchOf: (view: RequestView, route: Route) => void;

const NO_META: RouteMeta = Object.freeze({});

/**
 * The neutral view of one request. One instance per request is passed to every hook and
 * handler, and dies with the request: a part may keep per-request state on it under a
 * symbol it owns. What the framework only knows after routing (route template, params,
 * parsed body) is read through getters, so a hook sees it as soon as it exists; headers and
 * query are built on first read.
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

  static {
    rawOf = (view) => view.#raw;
    matchOf = (view, route) => {
      view.#matched = route;
    };
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
  protected abstract get parsedBody(): unknown;

  get meta(): RouteMeta {
    return this.#matched?.meta ?? NO_META;
  }

  get body(): unknown {
    return hasBody(this.#raw.headers) ? this.parsedBody : undefined;
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
}

/** The Node request behind a view: its headers as Node parsed them (names in lower case). */
export function rawRequestOf(view: RequestView): IncomingMessage {
  return rawOf(view);
}

/** Records the part route that matched `view`, whose metadata every hook then reads. */
export function setMatchedRoute(view: RequestView, route: Route): void {
  matchOf(view, route);
}

/** Whether the request carries a body: chunked, or a content-length above zero. */
export function hasBody(
  headers: Readonly<Record<string, string | readonly string[] | undefined>>,
): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = headers['content-length'];
  return length !== undefined && length !== '0' && length !== '';
}

function clientGone(): DOMException {
  return new DOMException('The client closed the connection', 'AbortError');
}
