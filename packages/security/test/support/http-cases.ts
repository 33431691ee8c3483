// The security parts over real HTTP, the same cases on every framework: security headers on
// every answer (part routes, errors, 404, 405, the application's own routes, refusals), CORS
// preflights answered before the 405, and authentication setting the actor handlers read.
import { CoreErrors, currentContext, definePart, json, type Part } from '@prod/core';
import { authPart, corsPart, createApiKeys, routeAuth, securityHeadersPart } from '@prod/security';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The application's own framework routes every boot registers. */
export const NATIVE = { read: '/native', fail: '/native-fail' } as const;

export interface BootedServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Mounts `parts` on the framework and registers, as the framework's own routes, `GET /native`
 * answering `{ "native": true }`, `POST /native` answering 201, and `GET /native-fail`
 * throwing a 409 CONFLICT error.
 */
export type Boot = (parts: Part[]) => Promise<BootedServer>;

const ORIGIN = 'https://app.test';
const BASELINE: Record<string, string> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

export function describeSecurityOverHttp(framework: string, boot: Boot): void {
  describe(`security parts on ${framework}`, () => {
    const apiKeys = createApiKeys({ secret: 'a-server-secret-of-at-least-32-bytes!!' });
    let server: BootedServer;
    let writer: string;
    let reader: string;

    beforeAll(async () => {
      const write = await apiKeys.issue({ owner: 'writer', scopes: ['notes:write'], tier: 'pro' });
      const read = await apiKeys.issue({ owner: 'reader', scopes: ['notes:read'] });
      if (!write.ok || !read.ok) throw new Error('issue failed');
      writer = write.value.token;
      reader = read.value.token;
      const notes = definePart({
        name: 'notes',
        routes: [
          { method: 'GET', path: '/v1/notes', handler: () => json(200, []) },
          {
            method: 'POST',
            path: '/v1/notes',
            meta: routeAuth({ scopes: ['notes:write'] }),
            // The handler sees who is acting, as audit and rate limits do.
            handler: () => json(201, { by: currentContext()?.actor }),
          },
          {
            method: 'GET',
            path: '/v1/boom',
            handler: () => {
              throw CoreErrors.CONFLICT({ message: 'boom' });
            },
          },
        ],
      });
      server = await boot([
        securityHeadersPart(),
        corsPart({ origins: [ORIGIN], credentials: true }),
        authPart({
          apiKeys,
          requirement: (request) =>
            request.method === 'POST' ? { scopes: ['notes:write'] } : undefined,
        }),
        notes,
      ]);
    });
    afterAll(() => server.close());

    const get = (path: string, init: RequestInit = {}) => fetch(`${server.url}${path}`, init);

    const expectBaseline = (response: Response, what: string): void => {
      for (const [name, value] of Object.entries(BASELINE)) {
        expect(response.headers.get(name), `${what}: ${name}`).toBe(value);
      }
      expect(response.headers.get('x-powered-by'), `${what}: x-powered-by`).toBeNull();
    };

    it('puts the security headers on every answer: routes, errors, 404, 405, native routes, refusals', async () => {
      const answers: [string, Promise<Response>, number][] = [
        ['part route', get('/v1/notes'), 200],
        ['thrown error', get('/v1/boom'), 409],
        ['unknown path', get('/nowhere'), 404],
        ['unknown method', get('/v1/notes', { method: 'PATCH' }), 405],
        ['native route', get(NATIVE.read), 200],
        ['native error', get(NATIVE.fail), 409],
        ['refused by auth', get('/v1/notes', { method: 'POST' }), 401],
      ];
      for (const [what, pending, status] of answers) {
        const response = await pending;
        await response.arrayBuffer();
        expect(response.status, what).toBe(status);
        expectBaseline(response, what);
      }
    });

    it('answers preflights before the 405, on part paths, native paths and unknown paths', async () => {
      for (const path of ['/v1/notes', NATIVE.read, '/nowhere']) {
        const response = await get(path, {
          method: 'OPTIONS',
          headers: {
            origin: ORIGIN,
            'access-control-request-method': 'PUT',
            'access-control-request-headers': 'content-type, x-api-key',
          },
        });
        await response.arrayBuffer();
        expect(response.status, path).toBe(204);
        expect(response.headers.get('access-control-allow-origin')).toBe(ORIGIN);
        expect(response.headers.get('access-control-allow-credentials')).toBe('true');
        expect(response.headers.get('access-control-allow-methods')).toBe(
          'GET, HEAD, POST, PUT, PATCH, DELETE',
        );
        expect(response.headers.get('access-control-allow-headers')).toBe(
          'content-type, x-api-key',
        );
        expect(response.headers.get('access-control-max-age')).toBe('600');
        expect(response.headers.get('vary')).toContain('Origin');
        expectBaseline(response, `preflight ${path}`);
      }
    });

    it('refuses a disallowed preflight with a 403 problem', async () => {
      const response = await get('/v1/notes', {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.test', 'access-control-request-method': 'POST' },
      });
      expect(response.status).toBe(403);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      expect(await response.json()).toMatchObject({
        code: 'SECURITY_CORS_REJECTED',
        details: { reason: 'origin' },
      });
    });

    it('adds CORS headers for an allowed origin to every answer, Vary: Origin to all', async () => {
      for (const [path, init] of [
        ['/v1/notes', {}],
        ['/nowhere', {}],
        ['/v1/notes', { method: 'POST' }],
        [NATIVE.read, {}],
      ] as const) {
        const response = await get(path, { ...init, headers: { origin: ORIGIN } });
        await response.arrayBuffer();
        expect(response.headers.get('access-control-allow-origin'), path).toBe(ORIGIN);
        expect(response.headers.get('access-control-expose-headers')).toBe(
          'ratelimit, ratelimit-policy, retry-after, x-request-id',
        );
        expect(response.headers.get('vary')).toContain('Origin');
      }
      const other = await get('/v1/notes', { headers: { origin: 'https://evil.test' } });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      expect(other.headers.get('vary')).toContain('Origin');
    });

    it('authenticates: 401 with a challenge, 403 naming the scope, the actor in the handler', async () => {
      const missing = await get('/v1/notes', { method: 'POST' });
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="api"');
      expect(await missing.json()).toMatchObject({ code: 'SECURITY_UNAUTHENTICATED' });

      const bad = await get('/v1/notes', {
        method: 'POST',
        headers: {
          authorization: `Bearer ${writer.slice(0, -2)}${writer.endsWith('xx') ? 'yy' : 'xx'}`,
        },
      });
      expect(bad.status).toBe(401);
      expect(bad.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
      await bad.arrayBuffer();

      const weak = await get('/v1/notes', { method: 'POST', headers: { 'x-api-key': reader } });
      expect(weak.status).toBe(403);
      expect(weak.headers.get('www-authenticate')).toBe(
        'Bearer realm="api", error="insufficient_scope", scope="notes:write"',
      );
      expect(await weak.json()).toMatchObject({ details: { missing: ['notes:write'] } });

      for (const headers of [{ 'x-api-key': writer }, { authorization: `Bearer ${writer}` }]) {
        const created = await get('/v1/notes', { method: 'POST', headers });
        expect(created.status).toBe(201);
        expect(await created.json()).toMatchObject({
          by: {
            id: 'writer',
            type: 'api-key',
            scopes: ['notes:write'],
            tier: 'pro',
            via: 'api-key',
          },
        });
      }
      const open = await get('/v1/notes');
      expect(open.status).toBe(200);
      await open.arrayBuffer();
    });

    it("applies requirement() to the application's own routes", async () => {
      const refused = await get(NATIVE.read, { method: 'POST' });
      expect(refused.status).toBe(401);
      await refused.arrayBuffer();
      const allowed = await get(NATIVE.read, { method: 'POST', headers: { 'x-api-key': writer } });
      expect(allowed.status).toBe(201);
      await allowed.arrayBuffer();
    });
  });
}
