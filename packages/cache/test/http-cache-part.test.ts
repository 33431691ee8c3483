import { createCache, httpCacheMeta, httpCachePart } from '@prod/cache';
import type { HttpRequest, HttpResponse, Part } from '@prod/core';
import { fakeRequest } from '@prod/testing';
import { describe, expect, it } from 'vitest';

const PART = { native: false } as const;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function send(part: Part, request: HttpRequest, response: HttpResponse): HttpResponse {
  return part.onSend?.(request, response, PART) ?? response;
}

const noteRequest = (overrides: Partial<HttpRequest> = {}): HttpRequest =>
  fakeRequest({
    path: '/v1/notes/1',
    route: '/v1/notes/:id',
    params: { id: '1' },
    meta: httpCacheMeta({ private: true, maxAge: 0, noCache: true, vary: ['Accept-Language'] }),
    ...overrides,
  });

describe('httpCacheMeta', () => {
  it('is the route metadata key @prod/cache/http', () => {
    expect(httpCacheMeta.name).toBe('@prod/cache/http');
    expect(httpCacheMeta.symbol).toBe(Symbol.for('@prod/cache/http'));
    const meta = httpCacheMeta({ maxAge: 60 });
    expect(httpCacheMeta.read({ meta })).toEqual({ maxAge: 60 });
  });

  it.each([
    ['a negative max-age', { maxAge: -1 }],
    ['a fractional max-age', { maxAge: 1.5 }],
    ['private and public', { private: true, public: true }],
    ['a bad Vary name', { vary: ['accept language'] }],
    ['serverCache without ttl', { serverCache: {} }],
    ['serverCache on a no-store route', { noStore: true, serverCache: { ttl: 1000 } }],
    ['a shared serverCache on a private route', { private: true, serverCache: { ttl: 1000 } }],
    ['an unknown authorization mode', { serverCache: { ttl: 1000, authorization: 'sometimes' } }],
  ])('refuses %s at declaration, with CACHE_INVALID_OPTIONS', (_, policy) => {
    expect(() => httpCacheMeta(policy as never)).toThrow(
      expect.objectContaining({ code: 'CACHE_INVALID_OPTIONS' }),
    );
  });
});

describe('httpCachePart onSend', () => {
  const part = httpCachePart();

  it('adds a strong ETag from the body, Cache-Control from the route, and keeps Vary right', () => {
    const response = send(part, noteRequest(), {
      status: 200,
      headers: { Vary: 'Origin' },
      body: { id: '1', title: 'Hello' },
    });
    expect(response.headers?.etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(response.headers?.['cache-control']).toBe('private, no-cache, max-age=0');
    expect(response.headers?.vary).toBe('origin, accept-language');
    // The body is now the very bytes the ETag was computed from.
    expect(response.body).toBe('{"id":"1","title":"Hello"}');
    expect(response.headers?.['content-type']).toBe('application/json; charset=utf-8');
  });

  it('gives the same body the same ETag, and another body another one', () => {
    const a = send(part, noteRequest(), { status: 200, body: { id: '1' } }).headers?.etag;
    const b = send(part, noteRequest(), { status: 200, body: { id: '1' } }).headers?.etag;
    const c = send(part, noteRequest(), { status: 200, body: { id: '2' } }).headers?.etag;
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    const text = send(part, fakeRequest(), { status: 200, body: 'plain text' });
    const bytes = send(part, fakeRequest(), { status: 200, body: Buffer.from('plain text') });
    expect(text.headers?.etag).toBe(bytes.headers?.etag);
    expect(text.body).toBe('plain text');
  });

  it('answers 304 with no body to a matching If-None-Match (weak comparison, lists, *)', () => {
    const first = send(part, noteRequest(), { status: 200, body: { id: '1' } });
    const etag = first.headers?.etag as string;
    for (const header of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const second = send(part, noteRequest({ headers: { 'if-none-match': header } }), {
        status: 200,
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: { id: '1' },
      });
      expect(second.status).toBe(304);
      expect(second.body).toBeUndefined();
      expect(second.headers?.etag).toBe(etag);
      expect(second.headers?.['cache-control']).toBe('private, no-cache, max-age=0');
      expect(second.headers?.['content-type']).toBeUndefined();
    }
    const changed = send(part, noteRequest({ headers: { 'if-none-match': etag } }), {
      status: 200,
      body: { id: 'x' },
    });
    expect(changed.status).toBe(200);
  });

  it('keeps a handler ETag and Cache-Control, and uses them for the 304', () => {
    const request = noteRequest({ headers: { 'if-none-match': '"v7"' } });
    const response = send(part, request, {
      status: 200,
      headers: { ETag: '"v7"', 'Cache-Control': 'max-age=5' },
      body: 'x',
    });
    expect(response.status).toBe(304);
    expect(response.headers?.['cache-control']).toBe('max-age=5');
  });

  it('leaves non-GET methods, other statuses and streams without an ETag', () => {
    expect(
      send(part, noteRequest({ method: 'POST' }), { status: 200, body: 'x' }).headers?.etag,
    ).toBeUndefined();
    expect(send(part, noteRequest(), { status: 201, body: 'x' }).headers?.etag).toBeUndefined();
    async function* stream(): AsyncGenerator<string> {
      yield 'a';
    }
    const streamed = send(part, noteRequest(), { status: 200, body: stream() });
    expect(streamed.headers?.etag).toBeUndefined();
    expect(streamed.headers?.['content-type']).toBeUndefined();
  });

  it('marks error answers of a cached route no-store, and leaves routes without a policy alone', () => {
    expect(
      send(part, noteRequest(), { status: 404, body: { code: 'NOT_FOUND' } }).headers?.[
        'cache-control'
      ],
    ).toBe('no-store');
    const plain = send(part, fakeRequest(), { status: 200, body: { a: 1 } });
    expect(plain.headers?.['cache-control']).toBeUndefined();
    expect(plain.headers?.etag).toBeDefined();
    expect(
      httpCachePart({ etag: false }).onSend?.(fakeRequest(), { status: 200, body: 'x' }, PART),
    ).toBeUndefined();
  });

  it('sets headers only on native framework responses (their body is not ours to hash)', () => {
    const response = part.onSend?.(noteRequest(), { status: 200, headers: {} }, { native: true });
    expect(response?.headers?.etag).toBeUndefined();
    expect(response?.headers?.['cache-control']).toBe('private, no-cache, max-age=0');
  });

  it('skips ETags for bodies over maxEtagBytes', () => {
    const small = httpCachePart({ maxEtagBytes: 10 });
    expect(
      send(small, fakeRequest(), { status: 200, body: 'x'.repeat(11) }).headers?.etag,
    ).toBeUndefined();
    expect(
      send(small, fakeRequest(), { status: 200, body: 'x'.repeat(10) }).headers?.etag,
    ).toBeDefined();
  });

  it('refuses bad options with CACHE_INVALID_OPTIONS', () => {
    for (const options of [
      { cache: {} },
      { maxEtagBytes: -1 },
      { cacheStatus: 'has space' },
      { etag: 'yes' },
    ]) {
      expect(() => httpCachePart(options as never)).toThrow(
        expect.objectContaining({ code: 'CACHE_INVALID_OPTIONS' }),
      );
    }
  });
});

describe('httpCachePart server-side cache', () => {
  const meta = httpCacheMeta({
    maxAge: 30,
    vary: ['accept-language'],
    serverCache: { ttl: 60_000, tags: (request) => [`note:${request.params.id}`] },
  });
  const request = (headers: Record<string, string> = {}): HttpRequest =>
    fakeRequest({
      path: '/v1/notes/1',
      route: '/v1/notes/:id',
      params: { id: '1' },
      headers,
      meta,
    });

  /** A request through onRequest, the handler (counted) and onSend, as an adapter runs it. */
  async function exchange(
    part: Part,
    req: HttpRequest,
    handler: () => HttpResponse,
  ): Promise<HttpResponse> {
    const early = await part.onRequest?.(req);
    const response = early ?? handler();
    return part.onSend?.(req, response, PART) ?? response;
  }

  it('stores a 200 and answers the next request from the cache, with Age and Cache-Status', async () => {
    const cache = createCache({ namespace: 'http' });
    const part = httpCachePart({ cache });
    let calls = 0;
    const handler = (): HttpResponse => {
      calls += 1;
      return { status: 200, body: { id: '1', n: calls } };
    };
    const first = await exchange(part, request(), handler);
    expect(first.headers?.['cache-status']).toBe('prod-cache; fwd=miss; stored');
    await sleep(5);
    const second = await exchange(part, request(), handler);
    expect(calls).toBe(1);
    expect(second.headers?.['cache-status']).toBe('prod-cache; hit');
    expect(second.headers?.age).toBe('0');
    expect(second.body).toBe(first.body);
    expect(second.headers?.etag).toBe(first.headers?.etag);
    // A different Vary value is another entry.
    await exchange(part, request({ 'accept-language': 'fr' }), handler);
    expect(calls).toBe(2);
    // Invalidated by its tag.
    await cache.invalidateTags(['note:1']);
    await exchange(part, request(), handler);
    expect(calls).toBe(3);
  });

  it('answers 304 from the cache too', async () => {
    const cache = createCache();
    const part = httpCachePart({ cache });
    const first = await exchange(part, request(), () => ({ status: 200, body: 'hello' }));
    await sleep(5);
    const again = await exchange(
      part,
      request({ 'if-none-match': first.headers?.etag as string }),
      () => {
        throw new Error('the handler must not run');
      },
    );
    expect(again.status).toBe(304);
  });

  it('never stores a response that sets a cookie, or one marked private by its handler', async () => {
    const cache = createCache();
    const part = httpCachePart({ cache });
    let calls = 0;
    for (const headers of [
      { 'set-cookie': 'session=abc' },
      { 'cache-control': 'private, max-age=5' },
    ]) {
      calls = 0;
      const handler = (): HttpResponse => {
        calls += 1;
        return { status: 200, headers, body: 'x' };
      };
      const first = await exchange(part, request(), handler);
      expect(first.headers?.['cache-status']).toBe('prod-cache; fwd=miss');
      await exchange(part, request(), handler);
      expect(calls).toBe(2);
    }
    const allowed = httpCacheMeta({ serverCache: { ttl: 60_000, allowSetCookie: true } });
    const req = (): HttpRequest => fakeRequest({ route: '/c', meta: allowed });
    const cookie = (): HttpResponse => ({
      status: 200,
      headers: { 'set-cookie': 'a=b' },
      body: 'x',
    });
    await exchange(part, req(), cookie);
    await sleep(5);
    const replayed = await exchange(part, req(), cookie);
    expect(replayed.headers?.['cache-status']).toBe('prod-cache; hit');
    expect(replayed.headers?.['set-cookie']).toBeUndefined();
  });

  it('bypasses the cache for requests with Authorization, unless the route says otherwise', async () => {
    const cache = createCache();
    const part = httpCachePart({ cache });
    let calls = 0;
    const handler = (): HttpResponse => {
      calls += 1;
      return { status: 200, body: `for call ${calls}` };
    };
    const authorized = request({ authorization: 'Bearer a' });
    expect((await exchange(part, authorized, handler)).headers?.['cache-status']).toBe(
      'prod-cache; fwd=bypass',
    );
    await exchange(part, authorized, handler);
    expect(calls).toBe(2);
    // Per credential: each credential has its own entries, and Vary says so.
    const perCredential = httpCacheMeta({
      private: true,
      serverCache: { ttl: 60_000, authorization: 'per-credential' },
    });
    const as = (token: string): HttpRequest =>
      fakeRequest({
        route: '/me',
        headers: { authorization: `Bearer ${token}` },
        meta: perCredential,
      });
    calls = 0;
    const a1 = await exchange(part, as('a'), handler);
    await sleep(5);
    const a2 = await exchange(part, as('a'), handler);
    const b1 = await exchange(part, as('b'), handler);
    expect(calls).toBe(2);
    expect(a2.body).toBe(a1.body);
    expect(b1.body).not.toBe(a1.body);
    expect(a1.headers?.vary).toBe('authorization');
  });

  it('does not store HEAD answers, errors or streams', async () => {
    const cache = createCache();
    const part = httpCachePart({ cache });
    await exchange(part, request(), () => ({ status: 500, body: 'boom' }));
    await exchange(part, { ...request(), method: 'HEAD' }, () => ({ status: 200, body: 'x' }));
    expect(cache.stats().l1.size).toBe(0);
  });
});
