import type { HttpRequest } from '@prod/core';

const NO_META = Object.freeze({});

/**
 * A plain `HttpRequest` for unit tests of a part's hooks and handlers, without a server:
 * `GET /` with no headers, query, params or body, unless `overrides` says otherwise.
 *
 * @example
 * declare const notesPart: Part;
 * const response = notesPart.routes?.[0]?.handler(fakeRequest({ path: '/notes/1', params: { id: '1' } }));
 */
export function fakeRequest(overrides: Partial<HttpRequest> = {}): HttpRequest {
  return {
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
}
