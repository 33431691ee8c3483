import { createServer } from 'node:http';
import type { HttpRequest, HttpResponse, Part } from '@prod/core';
import { cspHash, cspNonce, routeSecurityHeaders, securityHeadersPart } from '@prod/security';
import { fakeRequest, listen } from '@prod/testing';
import helmet from 'helmet';
import { describe, expect, it } from 'vitest';

const send = (
  part: Part,
  response: HttpResponse = { status: 200 },
  request: HttpRequest = fakeRequest(),
  native = false,
) => part.onSend?.(request, response, { native }) ?? response;

/** The headers helmet 8 sends with its defaults, read off a real response. */
async function helmetDefaults(): Promise<Record<string, string>> {
  const middleware = helmet();
  const server = createServer((request, response) => {
    response.setHeader('x-powered-by', 'Node');
    middleware(request, response, () => response.end('ok'));
  });
  const booted = await listen(server);
  const answer = await fetch(booted.url);
  await booted.close();
  const skip = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']);
  return Object.fromEntries([...answer.headers].filter(([name]) => !skip.has(name)));
}

describe('securityHeadersPart', () => {
  it("sends helmet's headers, tuned for an API (strict CSP, DENY), and drops X-Powered-By", async () => {
    const reference = await helmetDefaults();
    const ours =
      send(securityHeadersPart(), { status: 200, headers: { 'x-powered-by': 'Express' } })
        .headers ?? {};
    expect(Object.keys(ours).sort()).toEqual(Object.keys(reference).sort());
    expect('x-powered-by' in reference).toBe(false);
    for (const [name, value] of Object.entries(reference)) {
      if (name === 'content-security-policy' || name === 'x-frame-options') continue;
      expect(ours[name], name).toBe(value);
    }
    expect(ours['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(ours['x-frame-options']).toBe('DENY');
    expect(ours['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
  });

  it("decorates errors and 404s the same way, and lets the response's own headers win", () => {
    const part = securityHeadersPart();
    const problem = send(part, {
      status: 404,
      headers: {
        'content-type': 'application/problem+json',
        'Content-Security-Policy': "default-src 'self'",
      },
      body: { code: 'NOT_FOUND' },
    });
    expect(problem.status).toBe(404);
    expect(problem.body).toEqual({ code: 'NOT_FOUND' });
    expect(problem.headers?.['content-security-policy']).toBe("default-src 'self'");
    expect(problem.headers?.['x-content-type-options']).toBe('nosniff');
    expect(problem.headers?.['content-type']).toBe('application/problem+json');
  });

  it("serves the HTML profile with the request's nonce in script-src and style-src", () => {
    const part = securityHeadersPart({ profile: 'html' });
    const request = fakeRequest({ path: '/docs' });
    const nonce = cspNonce(request);
    expect(cspNonce(request)).toBe(nonce);
    expect(nonce).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    const csp = send(part, { status: 200 }, request).headers?.['content-security-policy'] as string;
    expect(csp).toContain(`script-src 'self' 'nonce-${nonce}'`);
    expect(csp).toContain(`style-src 'self' 'nonce-${nonce}'`);
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("base-uri 'none'");
    expect(csp).toContain("script-src-attr 'none'");
    // Another request has another nonce; a page that took none gets a CSP without one.
    const other = fakeRequest({ path: '/docs' });
    expect(cspNonce(other)).not.toBe(nonce);
    const plain = send(part, { status: 200 }, fakeRequest()).headers?.[
      'content-security-policy'
    ] as string;
    expect(plain).not.toContain('nonce-');
  });

  it('hashes inline scripts for a CSP that works on cached pages', () => {
    const script = "window.docs = { url: '/openapi.json' };";
    const hash = cspHash(script);
    // The example of the CSP specification (and MDN).
    expect(cspHash("alert('Hello, world.');")).toBe(
      "'sha256-qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng='",
    );
    expect(hash).toMatch(/^'sha256-[A-Za-z0-9+/]{43}='$/);
    expect(cspHash(script, 'sha384')).toMatch(/^'sha384-/);
    const part = securityHeadersPart({ profile: 'html', csp: { 'script-src': ["'self'", hash] } });
    expect(send(part).headers?.['content-security-policy']).toContain(`script-src 'self' ${hash}`);
  });

  it("applies route metadata, then overrides(), then the part's settings", () => {
    const part = securityHeadersPart({
      overrides: (request) => (request.path === '/dashboard' ? { profile: 'html' } : undefined),
    });
    const meta = routeSecurityHeaders({
      profile: 'html',
      csp: { 'img-src': ['https://img.test'], 'font-src': null },
      headers: {
        'x-frame-options': 'SAMEORIGIN',
        'permissions-policy': 'camera=()',
        'referrer-policy': null,
      },
    });
    const routed = send(part, { status: 200 }, fakeRequest({ meta })).headers ?? {};
    expect(routed['content-security-policy']).toContain('img-src https://img.test');
    expect(routed['content-security-policy']).not.toContain('font-src');
    expect(routed['x-frame-options']).toBe('SAMEORIGIN');
    expect(routed['permissions-policy']).toBe('camera=()');
    expect('referrer-policy' in routed).toBe(false);
    const dashboard =
      send(part, { status: 200 }, fakeRequest({ path: '/dashboard' })).headers ?? {};
    expect(dashboard['content-security-policy']).toContain("default-src 'self'");
    const api = send(part, { status: 200 }, fakeRequest({ path: '/v1' })).headers ?? {};
    expect(api['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
  });

  it('merges any set of response headers the same way, however many shapes it has seen', () => {
    const part = securityHeadersPart();
    const reference = send(part).headers ?? {};
    const cases: Record<string, string | readonly string[]>[] = [
      { 'content-type': 'application/json' },
      { 'content-type': 'text/plain', 'cache-control': 'no-store' },
      { 'cache-control': 'no-store', 'content-type': 'text/plain' },
      { 'x-frame-options': 'SAMEORIGIN', 'set-cookie': ['a=1', 'b=2'] },
      {},
      // Past the remembered shapes: the same answers, merged without a template.
      ...Array.from({ length: 80 }, (_, i) => ({ [`x-extra-${i}`]: String(i), vary: 'origin' })),
    ];
    for (const own of cases) {
      const sent = send(part, { status: 201, headers: own, body: 'x' });
      expect(sent.status).toBe(201);
      expect(sent.body).toBe('x');
      expect(sent.headers).toEqual({ ...reference, ...own });
    }
    // What a later hook does to one response's headers never reaches the next response.
    const first = send(part, { status: 200, headers: { 'content-type': 'text/plain' } });
    (first.headers as Record<string, string>)['x-frame-options'] = 'ALLOWALL';
    (first.headers as Record<string, string>)['content-type'] = 'text/html';
    const second = send(part, { status: 200, headers: { 'content-type': 'text/plain' } });
    expect(second.headers?.['x-frame-options']).toBe('DENY');
    expect(second.headers?.['content-type']).toBe('text/plain');
    // A record with a prototype of its own is read by its own names only.
    const inherited = Object.assign(Object.create({ 'x-inherited': 'no' }), { 'x-own': 'yes' });
    const odd = send(part, { status: 200, headers: inherited }).headers ?? {};
    expect(odd['x-own']).toBe('yes');
    expect(odd['x-frame-options']).toBe('DENY');
  });

  it('puts the nonce in the CSP whatever headers the page sets, and theirs still win', () => {
    const part = securityHeadersPart({ profile: 'html' });
    const request = fakeRequest({ path: '/docs' });
    const nonce = cspNonce(request);
    const page = send(
      part,
      { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' } },
      request,
    ).headers;
    expect(page?.['content-security-policy']).toContain(`'nonce-${nonce}'`);
    expect(page?.['content-type']).toBe('text/html; charset=utf-8');
    const own = send(
      part,
      { status: 200, headers: { 'content-security-policy': "default-src 'self'" } },
      request,
    ).headers;
    expect(own?.['content-security-policy']).toBe("default-src 'self'");
    // The next page, with the same headers, has its own nonce.
    const next = fakeRequest({ path: '/docs' });
    const nextNonce = cspNonce(next);
    const again = send(
      part,
      { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' } },
      next,
    ).headers;
    expect(again?.['content-security-policy']).toContain(`'nonce-${nextNonce}'`);
    expect(again?.['content-security-policy']).not.toContain(nonce);
  });

  it('compiles what overrides() answers by its content, fresh literal or not', () => {
    const part = securityHeadersPart({
      overrides: (request) =>
        request.path === '/frame'
          ? { headers: { 'x-frame-options': 'SAMEORIGIN' } }
          : request.path === '/html'
            ? { profile: 'html' }
            : undefined,
    });
    for (let i = 0; i < 3; i++) {
      const framed = send(part, { status: 200 }, fakeRequest({ path: '/frame' })).headers ?? {};
      expect(framed['x-frame-options']).toBe('SAMEORIGIN');
      expect(framed['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
      const html = send(part, { status: 200 }, fakeRequest({ path: '/html' })).headers ?? {};
      expect(html['content-security-policy']).toContain("default-src 'self'");
      expect(html['x-frame-options']).toBe('DENY');
    }
    const bad = securityHeadersPart({ overrides: () => ({ profile: 'xml' as never }) });
    expect(() => send(bad)).toThrow(expect.objectContaining({ code: 'SECURITY_INVALID_OPTIONS' }));
  });

  it('turns off CSP or HSTS, reports only, and preloads on request', () => {
    expect(
      'content-security-policy' in (send(securityHeadersPart({ csp: false })).headers ?? {}),
    ).toBe(false);
    expect(
      'strict-transport-security' in (send(securityHeadersPart({ hsts: false })).headers ?? {}),
    ).toBe(false);
    const report = send(securityHeadersPart({ reportOnly: true })).headers ?? {};
    expect(report['content-security-policy-report-only']).toBe(
      "default-src 'none'; frame-ancestors 'none'",
    );
    expect('content-security-policy' in report).toBe(false);
    const preload = send(
      securityHeadersPart({ hsts: { maxAge: 2 * 365 * 24 * 3600 * 1000, preload: true } }),
    );
    expect(preload.headers?.['strict-transport-security']).toBe(
      'max-age=63072000; includeSubDomains; preload',
    );
  });

  it('removes X-Powered-By from native responses', () => {
    const sent = send(
      securityHeadersPart(),
      { status: 200, headers: { 'X-Powered-By': 'Express' } },
      fakeRequest(),
      true,
    );
    expect(
      Object.keys(sent.headers ?? {}).some((name) => name.toLowerCase() === 'x-powered-by'),
    ).toBe(false);
  });

  it('checks its options and route settings at construction', () => {
    const bad: unknown[] = [
      { profile: 'xml' },
      { csp: { 'script src': ["'self'"] } },
      { csp: { 'script-src': "'self'" } },
      { csp: { 'script-src': ["'self'; img-src *"] } },
      { csp: { 'script-src': ['a b'] } },
      { headers: { 'bad name': 'x' } },
      { headers: { 'x-a': 'line\r\nbreak' } },
      { hsts: { maxAge: -1 } },
      { hsts: { preload: true, includeSubDomains: false } },
      { hsts: { preload: true, maxAge: 1000 } },
      { overrides: 'x' },
    ];
    for (const options of bad) {
      expect(() => securityHeadersPart(options as never), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'SECURITY_INVALID_OPTIONS' }),
      );
    }
    expect(() => routeSecurityHeaders({ csp: { 'script-src': ['a;b'] } })).toThrow(
      expect.objectContaining({ code: 'SECURITY_INVALID_OPTIONS' }),
    );
  });
});
