import type { HttpRequest, HttpResponse } from '@prod/core';
import { fetchMetadataPart } from '@prod/security';
import { fakeRequest } from '@prod/testing';
import { describe, expect, it } from 'vitest';

const status = (part: ReturnType<typeof fetchMetadataPart>, request: Partial<HttpRequest>) =>
  (part.onRequest?.(fakeRequest(request)) as HttpResponse | undefined)?.status ?? 'passed';

describe('fetchMetadataPart', () => {
  const part = fetchMetadataPart();
  const host = { host: 'api.test' };

  it.each([
    ['POST', 'cross-site', 403],
    ['PUT', 'cross-site', 403],
    ['DELETE', 'same-site', 403],
    ['PATCH', 'same-origin', 'passed'],
    ['POST', 'none', 'passed'],
    ['GET', 'cross-site', 'passed'],
    ['HEAD', 'cross-site', 'passed'],
    ['OPTIONS', 'cross-site', 'passed'],
  ] as const)('%s with Sec-Fetch-Site: %s -> %s', (method, site, expected) => {
    expect(status(part, { method, headers: { ...host, 'sec-fetch-site': site } })).toBe(expected);
  });

  it('falls back to Origin against Host for browsers without fetch metadata', () => {
    expect(
      status(part, { method: 'POST', headers: { ...host, origin: 'https://evil.test' } }),
    ).toBe(403);
    expect(status(part, { method: 'POST', headers: { ...host, origin: 'https://api.test' } })).toBe(
      'passed',
    );
    expect(
      status(part, {
        method: 'POST',
        headers: { host: 'api.test:8443', origin: 'https://api.test:8443' },
      }),
    ).toBe('passed');
    expect(status(part, { method: 'POST', headers: { ...host, origin: 'null' } })).toBe(403);
    expect(status(part, { method: 'POST', headers: { ...host, origin: 'garbage' } })).toBe(403);
    // No Sec-Fetch-Site and no Origin: curl, a server, an old browser: no victim's cookies.
    expect(status(part, { method: 'POST', headers: host })).toBe('passed');
  });

  it('answers a problem a client can read', () => {
    const response = part.onRequest?.(
      fakeRequest({ method: 'POST', headers: { ...host, 'sec-fetch-site': 'cross-site' } }),
    ) as HttpResponse;
    expect(response.headers?.['content-type']).toBe('application/problem+json');
    expect(response.body).toMatchObject({
      code: 'SECURITY_CROSS_SITE_REQUEST',
      detail: 'A cross-site request may not POST here',
    });
  });

  it('trusts listed origins, same-site on request, and only where it applies', () => {
    const trusting = fetchMetadataPart({
      trustedOrigins: ['https://admin.test'],
      allowSameSite: true,
    });
    expect(
      status(trusting, {
        method: 'POST',
        headers: { ...host, 'sec-fetch-site': 'cross-site', origin: 'https://admin.test' },
      }),
    ).toBe('passed');
    expect(
      status(trusting, { method: 'POST', headers: { ...host, 'sec-fetch-site': 'same-site' } }),
    ).toBe('passed');
    expect(
      status(trusting, { method: 'POST', headers: { ...host, 'sec-fetch-site': 'cross-site' } }),
    ).toBe(403);
    const cookiesOnly = fetchMetadataPart({
      applies: (request) => request.headers.cookie !== undefined,
    });
    expect(
      status(cookiesOnly, { method: 'POST', headers: { ...host, 'sec-fetch-site': 'cross-site' } }),
    ).toBe('passed');
    expect(
      status(cookiesOnly, {
        method: 'POST',
        headers: { ...host, 'sec-fetch-site': 'cross-site', cookie: 'sid=1' },
      }),
    ).toBe(403);
  });

  it('checks its options', () => {
    for (const options of [
      { trustedOrigins: ['admin.test'] },
      { trustedOrigins: 'x' },
      { applies: 1 },
      { allowSameSite: 'yes' },
    ]) {
      expect(() => fetchMetadataPart(options as never)).toThrow(
        expect.objectContaining({ code: 'SECURITY_INVALID_OPTIONS' }),
      );
    }
  });
});
