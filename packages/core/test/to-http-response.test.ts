import {
  CoreErrors,
  type HttpRequest,
  PROBLEM_CONTENT_TYPE,
  ProdError,
  runWithContext,
  toHttpResponse,
} from '@prod/core';
import { describe, expect, it } from 'vitest';

function request(overrides: Partial<HttpRequest> = {}): HttpRequest {
  return {
    method: 'GET',
    path: '/notes/1',
    route: '/notes/:id',
    headers: {},
    ip: '127.0.0.1',
    query: {},
    params: { id: '1' },
    body: undefined,
    signal: undefined,
    meta: {},
    ...overrides,
  };
}

describe('toHttpResponse', () => {
  it('turns an unknown error into a bare 500 INTERNAL, leaking nothing', () => {
    const secret = new Error('password=hunter2 at db.internal:5432');
    const response = toHttpResponse(secret);
    expect(response.status).toBe(500);
    expect(response.headers).toEqual({
      'content-type': PROBLEM_CONTENT_TYPE,
      'cache-control': 'no-store',
    });
    expect(response.body).toEqual({
      type: 'urn:prod:problem:INTERNAL',
      title: 'Internal Server Error',
      status: 500,
      code: 'INTERNAL',
    });
    expect(JSON.stringify(response.body)).not.toMatch(/hunter2|db\.internal|stack/);
  });

  it('keeps a client error: status, code, detail and details', () => {
    const response = toHttpResponse(
      CoreErrors.NOT_FOUND({ message: 'No note 1', details: { id: '1' } }),
    );
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({
      code: 'NOT_FOUND',
      detail: 'No note 1',
      details: { id: '1' },
    });
  });

  it('sets Retry-After in whole seconds from retryAfterMs', () => {
    const response = toHttpResponse(CoreErrors.UNAVAILABLE({ retryAfterMs: 1_500 }));
    expect(response.status).toBe(503);
    expect(response.headers?.['retry-after']).toBe('2');
    expect(response.body).toMatchObject({ code: 'UNAVAILABLE', retryAfter: 2 });
  });

  it('reads requestId and traceId from the request context', () => {
    const response = runWithContext({ requestId: 'req-7', traceId: 'trace-9' }, () =>
      toHttpResponse(CoreErrors.BAD_REQUEST()),
    );
    expect(response.body).toMatchObject({
      requestId: 'req-7',
      traceId: 'trace-9',
      instance: 'urn:request:req-7',
    });
  });

  it('falls back to a safe x-request-id header, ignoring an unsafe one', () => {
    const safe = toHttpResponse(new Error('x'), request({ headers: { 'x-request-id': 'abc-1' } }));
    expect(safe.body).toMatchObject({ requestId: 'abc-1' });
    const unsafe = toHttpResponse(
      new Error('x'),
      request({ headers: { 'x-request-id': '<script>alert(1)</script>' } }),
    );
    expect(unsafe.body).not.toHaveProperty('requestId');
  });

  it('answers a 500 without detail for a ProdError whose status is not an error status', () => {
    for (const status of [200, 302, 99, 600, Number.NaN]) {
      const response = toHttpResponse(new ProdError({ code: 'WEIRD', status, message: 'odd' }));
      expect(response.status).toBe(500);
      expect(response.body).toMatchObject({ status: 500 });
      expect(response.body).not.toHaveProperty('detail');
    }
    // An error-like object from another copy of core, with a broken status, is still a 500.
    const foreign = Object.assign(new ProdError({ code: 'X' }), { status: 200 });
    expect(toHttpResponse(foreign)).toMatchObject({ status: 500, body: { code: 'INTERNAL' } });
  });

  it('maps thrown non-errors and network errors', () => {
    expect(toHttpResponse('a string').status).toBe(500);
    expect(toHttpResponse(undefined).status).toBe(500);
    expect(toHttpResponse(null).status).toBe(500);
    const refused = toHttpResponse(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }));
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ code: 'UNAVAILABLE' });
    expect(refused.body).not.toHaveProperty('details');
  });
});
