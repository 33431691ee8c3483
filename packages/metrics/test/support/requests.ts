import type { HttpRequest } from '@prod/core';

/** A neutral request view, as an adapter would build it. */
export function fakeRequest(overrides: Partial<HttpRequest> = {}): HttpRequest {
  return {
    method: 'GET',
    path: '/',
    route: '/',
    headers: {},
    ip: '127.0.0.1',
    query: {},
    params: {},
    body: undefined,
    signal: undefined,
    meta: {},
    ...overrides,
  };
}
