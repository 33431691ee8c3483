// The CORS part against the Fetch standard's protocol: the preflight matrix (origin x method x
// headers x credentials), the headers of actual responses, and Vary wherever the answer
// depends on the origin. Over HTTP on the three frameworks in http.test.ts.
import type { HttpRequest, HttpResponse, Part } from '@prod/core';
import { corsPart } from '@prod/security';
import { fakeRequest } from '@prod/testing';
import { describe, expect, it } from 'vitest';

const policy = (credentials: boolean) =>
  corsPart({
    origins: [
      'https://app.test',
      'https://*.preview.test',
      /^https:\/\/[a-z]+\.regex\.test$/,
      (origin) => origin === 'https://by-function.test',
    ],
    credentials,
    methods: ['GET', 'POST', 'PUT', 'DELETE'],
    allowedHeaders: ['content-type', 'authorization', 'x-api-key'],
  });

function preflight(
  part: Part,
  origin: string,
  method: string,
  headers?: string,
): HttpResponse | undefined {
  const request = fakeRequest({
    method: 'OPTIONS',
    path: '/v1/notes',
    headers: {
      origin,
      'access-control-request-method': method,
      ...(headers === undefined ? {} : { 'access-control-request-headers': headers }),
    },
  });
  return part.onRequest?.(request) as HttpResponse | undefined;
}

function actual(
  part: Part,
  headers: HttpRequest['headers'],
  response: HttpResponse = { status: 200 },
) {
  const request = fakeRequest({ method: 'GET', path: '/v1/notes', headers });
  return part.onSend?.(request, response, { native: false }) ?? response;
}

const ORIGINS: [string, boolean][] = [
  ['https://app.test', true],
  ['https://a.preview.test', true],
  ['https://a.b.preview.test', true],
  ['https://abc.regex.test', true],
  ['https://by-function.test', true],
  ['https://preview.test', false],
  ['https://a.preview.test.evil.test', false],
  ['https://evilapp.test', false],
  ['https://app.test.evil.test', false],
  ['http://app.test', false],
  ['https://app.test:8443', false],
  ['https://ABC.regex.test', false],
  ['https://app.test/', false],
  ['null', false],
  ['not an origin', false],
];

const METHODS: [string, boolean][] = [
  ['PUT', true],
  ['DELETE', true],
  ['POST', true],
  ['GET', true],
  ['PATCH', false],
  ['put', false],
  ['PROPFIND', false],
  ['TRACE', false],
  ['BAD METHOD', false],
];

const HEADERS: [string | undefined, boolean][] = [
  [undefined, true],
  ['content-type', true],
  ['Content-Type, X-API-Key', true],
  ['authorization,content-type', true],
  ['content-type, x-custom', false],
  ['x-forwarded-for', false],
  [' , content-type ,', true],
];

describe('corsPart: the preflight matrix', () => {
  for (const credentials of [false, true]) {
    const part = policy(credentials);
    describe(`credentials ${credentials}`, () => {
      it.each(ORIGINS)('origin %s allowed: %s', (origin, allowed) => {
        const response = preflight(part, origin, 'PUT', 'content-type');
        expect(response?.headers?.vary).toBe(
          'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
        );
        if (allowed) {
          expect(response?.status).toBe(204);
          expect(response?.headers?.['access-control-allow-origin']).toBe(origin);
          expect(response?.headers?.['access-control-allow-credentials']).toBe(
            credentials ? 'true' : undefined,
          );
        } else {
          expect(response?.status).toBe(403);
          expect(response?.headers?.['access-control-allow-origin']).toBeUndefined();
          expect(response?.body).toMatchObject({
            code: 'SECURITY_CORS_REJECTED',
            details: { reason: 'origin' },
          });
        }
      });

      it.each(METHODS)('method %s allowed: %s', (method, allowed) => {
        const response = preflight(part, 'https://app.test', method);
        if (allowed) {
          expect(response?.status).toBe(204);
          expect(response?.headers?.['access-control-allow-methods']).toBe(
            'GET, POST, PUT, DELETE',
          );
          expect(response?.headers?.['access-control-max-age']).toBe('600');
        } else {
          expect(response?.status).toBe(403);
          expect(response?.body).toMatchObject({
            details: { reason: 'method', allowed: ['GET', 'POST', 'PUT', 'DELETE'] },
          });
        }
      });

      it.each(HEADERS)('request headers %s allowed: %s', (headers, allowed) => {
        const response = preflight(part, 'https://app.test', 'PUT', headers);
        if (allowed) {
          expect(response?.status).toBe(204);
          const echoed = headers
            ?.split(',')
            .map((h) => h.trim().toLowerCase())
            .filter(Boolean)
            .join(', ');
          expect(response?.headers?.['access-control-allow-headers']).toBe(echoed || undefined);
        } else {
          expect(response?.status).toBe(403);
          expect(response?.body).toMatchObject({ details: { reason: 'headers' } });
          expect((response?.body as { detail?: string } | undefined)?.detail).toMatch(
            /x-custom|x-forwarded-for/,
          );
        }
      });
    });
  }

  it('answers "*" without credentials with a constant answer that does not vary on Origin', () => {
    const part = corsPart({ origins: '*', allowedHeaders: '*' });
    const response = preflight(part, 'https://anyone.test', 'PUT', 'x-anything, authorization');
    expect(response?.status).toBe(403);
    expect(response?.body).toMatchObject({ details: { denied: ['authorization'] } });
    const ok = preflight(part, 'https://anyone.test', 'PUT', 'x-anything');
    expect(ok?.headers?.['access-control-allow-origin']).toBe('*');
    expect(ok?.headers?.['access-control-allow-headers']).toBe('x-anything');
    const sent = actual(part, { origin: 'https://anyone.test' });
    expect(sent.headers?.['access-control-allow-origin']).toBe('*');
    expect(sent.headers?.vary).toBeUndefined();
    expect(actual(part, {}).headers?.vary).toBeUndefined();
  });

  it('leaves OPTIONS requests that are not preflights to the routes', () => {
    const part = policy(false);
    const plain = fakeRequest({ method: 'OPTIONS', headers: { origin: 'https://app.test' } });
    expect(part.onRequest?.(plain)).toBeUndefined();
    const noOrigin = fakeRequest({
      method: 'OPTIONS',
      headers: { 'access-control-request-method': 'PUT' },
    });
    expect(part.onRequest?.(noOrigin)).toBeUndefined();
  });

  it('refuses a preflight asking for too many headers', () => {
    const many = Array.from({ length: 100 }, (_, i) => `x-h${i}`).join(',');
    const response = preflight(
      corsPart({ origins: '*', allowedHeaders: '*' }),
      'https://a.test',
      'PUT',
      many,
    );
    expect(response?.status).toBe(403);
  });

  it('uses maxAge in seconds', () => {
    const part = corsPart({ origins: ['https://app.test'], maxAge: 7_200_000 });
    expect(preflight(part, 'https://app.test', 'PUT')?.headers?.['access-control-max-age']).toBe(
      '7200',
    );
  });
});

describe('corsPart: actual responses', () => {
  it('adds Allow-Origin, Expose-Headers (and Credentials) for an allowed origin, with Vary', () => {
    const part = policy(true);
    const sent = actual(
      part,
      { origin: 'https://a.preview.test' },
      { status: 404, headers: { vary: 'Accept-Encoding' } },
    );
    expect(sent.status).toBe(404);
    expect(sent.headers).toMatchObject({
      'access-control-allow-origin': 'https://a.preview.test',
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'ratelimit, ratelimit-policy, retry-after, x-request-id',
      vary: 'Accept-Encoding, Origin',
    });
  });

  it('adds only Vary: Origin for a disallowed origin or no origin', () => {
    const part = policy(false);
    for (const headers of [{ origin: 'https://evil.test' }, {}]) {
      const sent = actual(part, headers);
      expect(sent.headers?.vary).toBe('Origin');
      expect(sent.headers?.['access-control-allow-origin']).toBeUndefined();
    }
  });

  it('merges Vary once, keeps Vary: *, and leaves its own preflight answers alone', () => {
    const part = policy(false);
    expect(actual(part, {}, { status: 200, headers: { Vary: 'origin' } }).headers?.vary).toBe(
      'origin',
    );
    expect(actual(part, {}, { status: 200, headers: { vary: '*' } }).headers?.vary).toBe('*');
    const request = fakeRequest({
      method: 'OPTIONS',
      headers: { origin: 'https://app.test', 'access-control-request-method': 'PUT' },
    });
    expect(part.onSend?.(request, { status: 204 }, { native: false })).toBeUndefined();
  });

  it('exposes the configured headers', () => {
    const part = corsPart({ origins: ['https://app.test'], exposedHeaders: ['X-Total-Count'] });
    expect(
      actual(part, { origin: 'https://app.test' }).headers?.['access-control-expose-headers'],
    ).toBe('x-total-count');
  });
});

describe('corsPart: options', () => {
  it('refuses origins a browser never sends, unsafe patterns and wildcards with credentials', () => {
    const bad: unknown[] = [
      {},
      { origins: [] },
      { origins: 'https://app.test' },
      { origins: ['https://app.test/'] },
      { origins: ['https://App.test'] },
      { origins: ['app.test'] },
      { origins: ['https://app.test/path'] },
      { origins: [/app\.test/] },
      { origins: [/^https:\/\/app\.test/] },
      { origins: [/^https:\/\/app\.test$/g] },
      { origins: [42] },
      { origins: '*', credentials: true },
      { origins: ['https://app.test'], credentials: true, allowedHeaders: '*' },
      { origins: ['https://app.test'], methods: ['GET POST'] },
      { origins: ['https://app.test'], allowedHeaders: ['bad header'] },
      { origins: ['https://app.test'], maxAge: -1 },
    ];
    for (const options of bad) {
      expect(() => corsPart(options as never), String(JSON.stringify(options))).toThrow(
        expect.objectContaining({ code: 'SECURITY_INVALID_OPTIONS' }),
      );
    }
    expect(() =>
      corsPart({ origins: ['null', 'http://localhost:5173', 'https://[::1]:8080'] }),
    ).not.toThrow();
  });

  it('a function rule sees only well-formed origins', () => {
    const seen: string[] = [];
    const part = corsPart({
      origins: [
        (origin) => {
          seen.push(origin);
          return true;
        },
      ],
    });
    actual(part, { origin: 'https://fine.test' });
    actual(part, { origin: 'javascript:alert(1)' });
    actual(part, { origin: 'https://x.test\r\nset-cookie: a=b' });
    expect(seen).toEqual(['https://fine.test']);
  });
});
