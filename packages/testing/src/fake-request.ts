import { type HttpRequest, isProdError, recordBodyProfile } from '@prod/core';
import { inspectBody } from '@prod/core/adapter';

const NO_META = Object.freeze({});

/**
 * A plain `HttpRequest` for unit tests of a part's hooks and handlers, without a server:
 * `GET /` with no headers, query, params or body, unless `overrides` says otherwise.
 *
 * A JSON-like body is checked as the adapters check a parsed body, and its profile recorded
 * (see `bodyProfileOf` in @prod/core), so a handler sees the request as an adapter hands it
 * over. A body the adapters would refuse (a `__proto__` key, a NUL character) is kept as it
 * is, without a profile, for tests of what a handler does with it.
 *
 * @example
 * declare const notesPart: Part;
 * const response = notesPart.routes?.[0]?.handler(fakeRequest({ path: '/notes/1', params: { id: '1' } }));
 */
export function fakeRequest(overrides: Partial<HttpRequest> = {}): HttpRequest {
  const request: HttpRequest = {
    method: 'GET',
    path: '/',
    route: undefined,
    headers: {},
    ip: '127.0.0.1',
    query: {},
    params: {},
    body: undefined,
    signal: undefined,
    meta: NO_META,
    ...overrides,
  };
  if (isJsonLike(request.body)) {
    try {
      recordBodyProfile(request, inspectBody(request.body));
    } catch (error) {
      if (!isProdError(error)) throw error;
    }
  }
  return request;
}

// What JSON.parse can give: a plain object or array, or a scalar.
function isJsonLike(body: unknown): boolean {
  if (body === null) return true;
  if (typeof body !== 'object') {
    return typeof body === 'string' || typeof body === 'number' || typeof body === 'boolean';
  }
  if (Array.isArray(body)) return true;
  const proto: unknown = Object.getPrototypeOf(body);
  return proto === Object.prototype || proto === null;
}
