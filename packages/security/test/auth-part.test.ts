import {
  currentContext,
  type HttpRequest,
  type HttpResponse,
  isThenable,
  type RequestContext,
  runWithContext,
} from '@prod/core';
import {
  type ApiKeyStore,
  authPart,
  createApiKeys,
  createJwtVerifier,
  currentActor,
  type JwtVerifier,
  memoryKeyStore,
  routeAuth,
} from '@prod/security';
import { fakeRequest } from '@prod/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { AUDIENCE, ecKey, ISSUER, sign, type TestKey } from './support/tokens.js';

const SECRET = 'a-server-secret-of-at-least-32-bytes!!';
let ec: TestKey;
let writeKey: string;
let readKey: string;
let counting: { lookups: number };
const store = memoryKeyStore();
const countingStore: ApiKeyStore = {
  ...store,
  findByHash: (hashes) => {
    counting.lookups += 1;
    return store.findByHash(hashes);
  },
};
const apiKeys = createApiKeys({ secret: SECRET, store: countingStore });

beforeAll(async () => {
  counting = { lookups: 0 };
  ec = await ecKey('ec-1');
  const write = await apiKeys.issue({ owner: 'svc-writer', scopes: ['notes:write'], tier: 'pro' });
  const read = await apiKeys.issue({ owner: 'svc-reader', scopes: ['notes:read'] });
  if (!write.ok || !read.ok) throw new Error('issue failed');
  writeKey = write.value.token;
  readKey = read.value.token;
});

const jwt = () =>
  createJwtVerifier({ keys: { keys: [ec.jwk] }, issuer: ISSUER, audience: AUDIENCE });

interface Outcome {
  readonly response: HttpResponse | undefined;
  readonly context: RequestContext;
  readonly sync: boolean;
}

async function run(part: ReturnType<typeof authPart>, request: HttpRequest): Promise<Outcome> {
  const context: RequestContext = { requestId: 'req-1' };
  let sync = true;
  const response = await runWithContext(context, async () => {
    const answer = part.onRequest?.(request);
    if (isThenable(answer)) sync = false;
    return answer;
  });
  return { response, context, sync };
}

const writeMeta = routeAuth({ scopes: ['notes:write'] });
const withKey = (key: string, extra: Partial<HttpRequest> = {}): HttpRequest =>
  fakeRequest({
    method: 'POST',
    path: '/v1/notes',
    headers: { 'x-api-key': key },
    meta: writeMeta,
    ...extra,
  });

describe('authPart', () => {
  it('lets a request through with the actor set when the key has the scope', async () => {
    const part = authPart({ apiKeys });
    let seen: unknown;
    const context: RequestContext = { requestId: 'r' };
    await runWithContext(context, async () => {
      await part.onRequest?.(withKey(writeKey));
      seen = currentActor();
    });
    expect(context.actor).toMatchObject({
      id: 'svc-writer',
      type: 'api-key',
      tier: 'pro',
      via: 'api-key',
    });
    expect(seen).toBe(context.actor);
  });

  it('answers a cached key synchronously (no promise on the hot path)', async () => {
    const part = authPart({ apiKeys });
    await run(part, withKey(writeKey));
    const before = counting.lookups;
    const second = await run(part, withKey(writeKey));
    expect(second.response).toBeUndefined();
    expect(second.sync).toBe(true);
    expect(counting.lookups).toBe(before);
  });

  it('takes the key as Authorization: Bearer too, any case of the scheme', async () => {
    const part = authPart({ apiKeys });
    for (const authorization of [
      `Bearer ${writeKey}`,
      `bearer ${writeKey}`,
      `BEARER   ${writeKey}`,
    ]) {
      const { response, context } = await run(
        part,
        fakeRequest({ headers: { authorization }, meta: writeMeta }),
      );
      expect(response).toBeUndefined();
      expect(context.actor?.id).toBe('svc-writer');
    }
  });

  it('answers 401 with a bare Bearer challenge when a required credential is missing', async () => {
    const part = authPart({ apiKeys, realm: 'notes' });
    const { response, context } = await run(part, fakeRequest({ method: 'POST', meta: writeMeta }));
    expect(response?.status).toBe(401);
    expect(response?.headers?.['www-authenticate']).toBe('Bearer realm="notes"');
    expect(response?.headers?.['content-type']).toBe('application/problem+json');
    expect(response?.body).toMatchObject({ code: 'SECURITY_UNAUTHENTICATED', requestId: 'req-1' });
    expect(context.actor).toBeUndefined();
  });

  it('answers 401 invalid_token for a bad, mistyped, revoked or expired key', async () => {
    let now = Date.now();
    const clocked = createApiKeys({ secret: SECRET, now: () => now });
    const expiring = await clocked.issue({ owner: 'o', scopes: ['notes:write'], expiresIn: 1000 });
    const revoked = await clocked.issue({ owner: 'o', scopes: ['notes:write'] });
    if (!expiring.ok || !revoked.ok) throw new Error('issue failed');
    await clocked.revoke(revoked.value.key.id);
    const part = authPart({ apiKeys: clocked });
    now += 5000;
    // A typo in the last character (never the character it was: that key would be well formed).
    const mistyped = `${writeKey.slice(0, -1)}${writeKey.endsWith('x') ? 'y' : 'x'}`;
    const cases: [string, string, string][] = [
      [mistyped, 'SECURITY_INVALID_TOKEN', 'The API key is malformed'],
      ['prod_nonsense', 'SECURITY_INVALID_TOKEN', 'The API key is malformed'],
      [revoked.value.token, 'SECURITY_TOKEN_REVOKED', 'The API key was revoked'],
      [expiring.value.token, 'SECURITY_TOKEN_EXPIRED', 'The API key expired'],
    ];
    for (const [key, code, message] of cases) {
      const { response, context } = await run(part, withKey(key));
      expect(response?.status).toBe(401);
      expect(response?.body).toMatchObject({ code, detail: message });
      expect(response?.headers?.['www-authenticate']).toBe(
        `Bearer realm="api", error="invalid_token", error_description="${message}"`,
      );
      expect(context.actor).toBeUndefined();
    }
  });

  it('answers 403 insufficient_scope naming the missing scope', async () => {
    const part = authPart({ apiKeys });
    const meta = routeAuth({ scopes: ['notes:write', 'notes:read'] });
    const { response, context } = await run(part, withKey(readKey, { meta }));
    expect(response?.status).toBe(403);
    expect(response?.headers?.['www-authenticate']).toBe(
      'Bearer realm="api", error="insufficient_scope", scope="notes:write notes:read"',
    );
    expect(response?.body).toMatchObject({
      code: 'SECURITY_INSUFFICIENT_SCOPE',
      detail: 'Missing scope: notes:write',
      details: { missing: ['notes:write'], required: ['notes:write', 'notes:read'] },
    });
    // The caller is known (audit can name who was refused).
    expect(context.actor?.id).toBe('svc-reader');
  });

  it('answers 400 invalid_request for a malformed header or two credentials at once', async () => {
    const part = authPart({ apiKeys });
    for (const headers of [
      { authorization: 'Bearer ' },
      { authorization: 'Bearer two tokens' },
      { authorization: `Bearer ${writeKey}, Bearer ${readKey}` },
      { authorization: 'Bearer "quoted"' },
      { authorization: `Bearer ${writeKey}`, 'x-api-key': readKey },
    ]) {
      const { response } = await run(part, fakeRequest({ headers, meta: writeMeta }));
      expect(response?.status, JSON.stringify(headers)).toBe(400);
      expect(response?.body).toMatchObject({ code: 'SECURITY_INVALID_REQUEST' });
      expect(String(response?.headers?.['www-authenticate'])).toMatch(
        /^Bearer realm="api", error="invalid_request"/,
      );
    }
  });

  it('leaves other schemes to others: optional passes, required challenges', async () => {
    const part = authPart({ apiKeys });
    const basic = { authorization: 'Basic dXNlcjpwYXNz' };
    expect((await run(part, fakeRequest({ headers: basic }))).response).toBeUndefined();
    expect(
      (await run(part, fakeRequest({ headers: basic, meta: writeMeta }))).response?.status,
    ).toBe(401);
  });

  it('checks credentials on optional routes (a bad one is still a 401) and skips none routes', async () => {
    const part = authPart({ apiKeys });
    const optional = routeAuth({ auth: 'optional' });
    expect((await run(part, fakeRequest({ meta: optional }))).response).toBeUndefined();
    const good = await run(
      part,
      fakeRequest({ meta: optional, headers: { 'x-api-key': readKey } }),
    );
    expect(good.response).toBeUndefined();
    expect(good.context.actor?.id).toBe('svc-reader');
    const bad = await run(
      part,
      fakeRequest({ meta: optional, headers: { 'x-api-key': 'prod_bad' } }),
    );
    expect(bad.response?.status).toBe(401);
    const none = await run(
      part,
      fakeRequest({ meta: routeAuth({ auth: 'none' }), headers: { 'x-api-key': 'prod_bad' } }),
    );
    expect(none.response).toBeUndefined();
    expect(none.context.actor).toBeUndefined();
  });

  it('applies requirement() to routes that declare nothing, and defaultRequirement after it', async () => {
    const part = authPart({
      apiKeys,
      requirement: (request) =>
        request.method === 'GET' || request.method === 'HEAD'
          ? undefined
          : { scopes: ['notes:write'] },
    });
    expect((await run(part, fakeRequest({ method: 'GET' }))).response).toBeUndefined();
    expect((await run(part, fakeRequest({ method: 'DELETE' }))).response?.status).toBe(401);
    expect(
      (await run(part, fakeRequest({ method: 'DELETE', headers: { 'x-api-key': readKey } })))
        .response?.status,
    ).toBe(403);
    expect(
      (await run(part, fakeRequest({ method: 'DELETE', headers: { 'x-api-key': writeKey } })))
        .response,
    ).toBeUndefined();
    const strict = authPart({ apiKeys, defaultRequirement: { auth: 'required' } });
    expect((await run(strict, fakeRequest({ method: 'GET' }))).response?.status).toBe(401);
    // Route metadata wins over both.
    expect(
      (await run(strict, fakeRequest({ method: 'GET', meta: routeAuth({ auth: 'none' }) })))
        .response,
    ).toBeUndefined();
  });

  it('never challenges a CORS preflight', async () => {
    const part = authPart({ apiKeys, defaultRequirement: { auth: 'required' } });
    const preflight = fakeRequest({
      method: 'OPTIONS',
      headers: { origin: 'https://app.test', 'access-control-request-method': 'POST' },
    });
    expect((await run(part, preflight)).response).toBeUndefined();
  });

  it('tells API keys from JWTs in a bearer token, and verifies both', async () => {
    const part = authPart({ apiKeys, jwt: jwt() });
    const token = await sign(ec, { claims: { scope: 'notes:write' } });
    const byJwt = await run(
      part,
      fakeRequest({ headers: { authorization: `Bearer ${token}` }, meta: writeMeta }),
    );
    expect(byJwt.response).toBeUndefined();
    expect(byJwt.context.actor).toMatchObject({
      id: 'user-7',
      via: 'jwt',
      scopes: ['notes:write'],
    });
    const byKey = await run(
      part,
      fakeRequest({ headers: { authorization: `Bearer ${writeKey}` }, meta: writeMeta }),
    );
    expect(byKey.context.actor).toMatchObject({ id: 'svc-writer', via: 'api-key' });
    const expired = await run(
      part,
      fakeRequest({
        headers: { authorization: `Bearer ${await sign(ec, { expiresIn: -3600 })}` },
        meta: writeMeta,
      }),
    );
    expect(expired.response?.status).toBe(401);
    expect(expired.response?.body).toMatchObject({ code: 'SECURITY_TOKEN_EXPIRED' });
    expect(expired.response?.headers?.['www-authenticate']).toBe(
      'Bearer realm="api", error="invalid_token", error_description="The token expired"',
    );
  });

  it('refuses a megabyte bearer token by its length', async () => {
    const part = authPart({ jwt: jwt() });
    const { response } = await run(
      part,
      fakeRequest({
        headers: { authorization: `Bearer ${'A'.repeat(1024 * 1024)}` },
        meta: writeMeta,
      }),
    );
    expect(response?.status).toBe(401);
    expect(response?.body).toMatchObject({ detail: 'The token is larger than 8192 bytes' });
  });

  it('passes a JWKS outage on as 503 with Retry-After, not a 401', async () => {
    const part = authPart({
      jwt: createJwtVerifier({
        jwks: 'http://127.0.0.1:9/jwks.json',
        issuer: ISSUER,
        audience: AUDIENCE,
      }),
    });
    const token = await sign(ec);
    const { response } = await run(
      part,
      fakeRequest({ headers: { authorization: `Bearer ${token}` } }),
    );
    expect(response?.status).toBe(503);
    expect(response?.headers?.['retry-after']).toMatch(/^\d+$/);
    expect(response?.headers?.['www-authenticate']).toBeUndefined();
    expect(response?.body).toMatchObject({ code: 'SECURITY_JWKS_UNAVAILABLE' });
  });

  it('reads a custom API key header, or none', async () => {
    const custom = authPart({ apiKeys, apiKeyHeader: 'X-Notes-Key' });
    expect((await run(custom, withKey(writeKey))).response?.status).toBe(401);
    const named = fakeRequest({
      method: 'POST',
      headers: { 'x-notes-key': writeKey },
      meta: writeMeta,
    });
    expect((await run(custom, named)).response).toBeUndefined();
    const bearerOnly = authPart({ apiKeys, apiKeyHeader: false });
    expect((await run(bearerOnly, withKey(writeKey))).response?.status).toBe(401);
  });

  it('sets the actor of a JWT in one promise, and refuses an oversized one synchronously', async () => {
    const part = authPart({ jwt: jwt() });
    const token = await sign(ec);
    const good = await run(part, fakeRequest({ headers: { authorization: `Bearer ${token}` } }));
    expect(good.sync).toBe(false);
    expect(good.response).toBeUndefined();
    expect(good.context.actor).toMatchObject({ id: 'user-7', via: 'jwt', issuer: ISSUER });
    expect(Object.isFrozen(good.context.actor)).toBe(true);
    const huge = await run(
      part,
      fakeRequest({ headers: { authorization: `Bearer ${'A'.repeat(9000)}` }, meta: writeMeta }),
    );
    expect(huge.sync).toBe(true);
    expect(huge.response?.status).toBe(401);
  });

  it('takes a verifier of its own making through its verify()', async () => {
    const real = jwt();
    const calls: unknown[] = [];
    const wrapped: JwtVerifier = {
      jwks: undefined,
      verify: (token) => {
        calls.push(token);
        return real.verify(token);
      },
    };
    const part = authPart({ jwt: wrapped });
    const token = await sign(ec);
    const good = await run(part, fakeRequest({ headers: { authorization: `Bearer ${token}` } }));
    expect(good.response).toBeUndefined();
    expect(good.context.actor).toMatchObject({ id: 'user-7', via: 'jwt' });
    const bad = await run(
      part,
      fakeRequest({ headers: { authorization: `Bearer ${token}x` }, meta: writeMeta }),
    );
    expect(bad.response?.status).toBe(401);
    expect(calls).toEqual([token, `${token}x`]);
  });

  it('checks its options and route requirements at construction', () => {
    const bad: unknown[] = [
      {},
      { apiKeys: {} },
      { jwt: {} },
      { apiKeys, realm: 'has "quotes"' },
      { apiKeys, apiKeyHeader: 'bad header' },
      { apiKeys, requirement: 'writes' },
      { apiKeys, defaultRequirement: { auth: 'sometimes' } },
    ];
    for (const options of bad) {
      expect(() => authPart(options as never), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'SECURITY_INVALID_OPTIONS' }),
      );
    }
    for (const requirement of [
      { scopes: ['has space'] },
      { scopes: 'x' },
      { auth: 'optional', scopes: ['x'] },
    ]) {
      expect(() => routeAuth(requirement as never)).toThrow(
        expect.objectContaining({ code: 'SECURITY_INVALID_OPTIONS' }),
      );
    }
  });

  it('currentActor is undefined outside a request or for an actor of another shape', () => {
    expect(currentActor()).toBeUndefined();
    runWithContext({ requestId: 'r', actor: { id: 'x' } }, () => {
      expect(currentContext()?.actor?.id).toBe('x');
      expect(currentActor()).toBeUndefined();
    });
  });
});
