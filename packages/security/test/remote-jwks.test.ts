// The remote JWKS against real local HTTP servers: the cache, the cooldown under a flood of
// unknown kids, key rotation, and every way the endpoint can fail (down, hanging, lying).
import { createJwtVerifier, remoteJwks } from '@prod/security';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type JwksServer, jwksServer } from './support/jwks-server.js';
import { AUDIENCE, ecKey, ISSUER, sign, type TestKey } from './support/tokens.js';

let k1: TestKey;
let k2: TestKey;
beforeAll(async () => {
  k1 = await ecKey('k1');
  k2 = await ecKey('k2');
});

const servers: JwksServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function setup(
  options: {
    cooldown?: number;
    timeout?: number;
    cacheMaxAge?: number;
    staleIfError?: number;
  } = {},
) {
  const server = await jwksServer([k1.jwk]);
  servers.push(server);
  const clock = { now: 1_000_000_000_000 };
  const jwks = remoteJwks({ url: server.url, now: () => clock.now, ...options });
  const jwt = createJwtVerifier({ jwks, issuer: ISSUER, audience: AUDIENCE });
  return { server, clock, jwks, jwt };
}

const codeOf = (result: { ok: boolean; error?: { code: string } }) =>
  result.ok ? 'ok' : result.error?.code;

describe('remoteJwks', () => {
  it('fetches once and verifies from the cache until cacheMaxAge', async () => {
    const { server, clock, jwt } = await setup({ cacheMaxAge: 60_000 });
    const token = await sign(k1);
    const results = await Promise.all(Array.from({ length: 25 }, () => jwt.verify(token)));
    expect(results.every((result) => result.ok)).toBe(true);
    expect(server.hits).toBe(1);
    clock.now += 59_999;
    expect((await jwt.verify(token)).ok).toBe(true);
    expect(server.hits).toBe(1);
    clock.now += 1;
    expect((await jwt.verify(token)).ok).toBe(true);
    expect(server.hits).toBe(2);
  });

  it('fetches at most once per cooldown under a flood of unknown kids', async () => {
    const { server, clock, jwt, jwks } = await setup({ cooldown: 30_000 });
    expect((await jwt.verify(await sign(k1))).ok).toBe(true);
    expect(server.hits).toBe(1);
    const stranger = await ecKey('unused');
    const forged = await Promise.all(
      Array.from({ length: 40 }, (_, i) => sign(stranger, { kid: `random-${i}-${Math.random()}` })),
    );
    // Within the cooldown after the first fetch: refused at once, no fetch at all.
    const flood = await Promise.all(forged.map((token) => jwt.verify(token)));
    expect(flood.every((result) => codeOf(result) === 'SECURITY_INVALID_TOKEN')).toBe(true);
    for (const token of forged.slice(0, 10))
      expect(codeOf(await jwt.verify(token))).toBe('SECURITY_INVALID_TOKEN');
    expect(server.hits).toBe(1);
    // Past the cooldown: the whole concurrent flood shares one fetch, and the next one waits again.
    clock.now += 30_000;
    const second = await Promise.all(forged.map((token) => jwt.verify(token)));
    expect(second.every((result) => codeOf(result) === 'SECURITY_INVALID_TOKEN')).toBe(true);
    for (const token of forged) await jwt.verify(token);
    expect(server.hits).toBe(2);
    expect(jwks.status().fetches).toBe(2);
  });

  it('picks up a rotated key on the first token that uses it, once the cooldown allows', async () => {
    const { server, clock, jwt } = await setup({ cooldown: 10_000 });
    expect((await jwt.verify(await sign(k1))).ok).toBe(true);
    server.keys = [k1.jwk, k2.jwk];
    const rotated = await sign(k2);
    expect(codeOf(await jwt.verify(rotated))).toBe('SECURITY_INVALID_TOKEN');
    clock.now += 10_000;
    expect((await jwt.verify(rotated)).ok).toBe(true);
    expect(server.hits).toBe(2);
  });

  it('answers 503 SECURITY_JWKS_UNAVAILABLE when the endpoint is down, and backs off', async () => {
    const { server, clock, jwt, jwks } = await setup({ cooldown: 30_000 });
    await server.down();
    const token = await sign(k1);
    const failed = await jwt.verify(token);
    expect(codeOf(failed)).toBe('SECURITY_JWKS_UNAVAILABLE');
    expect(!failed.ok && [failed.error.status, failed.error.retryable]).toEqual([503, true]);
    expect(!failed.ok && failed.error.retryAfterMs).toBeGreaterThanOrEqual(1000);
    // A burst while backing off makes no new attempt.
    const burst = await Promise.all(Array.from({ length: 20 }, () => jwt.verify(token)));
    expect(burst.every((result) => codeOf(result) === 'SECURITY_JWKS_UNAVAILABLE')).toBe(true);
    expect(jwks.status().fetches).toBe(1);
    // Backoff doubles: 1 s, then 2 s.
    clock.now += 1000;
    await jwt.verify(token);
    expect(jwks.status().fetches).toBe(2);
    clock.now += 1000;
    await jwt.verify(token);
    expect(jwks.status().fetches).toBe(2);
    clock.now += 1000;
    await jwt.verify(token);
    expect(jwks.status().fetches).toBe(3);
    expect(jwks.status().lastError?.code).toBe('SECURITY_JWKS_UNAVAILABLE');
  });

  it('answers 503 within the timeout when the endpoint hangs, with one fetch for all waiting', async () => {
    const { server, jwt, jwks } = await setup({ timeout: 200 });
    server.mode = 'hang';
    const token = await sign(k1);
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: 10 }, () => jwt.verify(token)));
    const elapsed = performance.now() - started;
    expect(results.every((result) => codeOf(result) === 'SECURITY_JWKS_UNAVAILABLE')).toBe(true);
    expect(!results[0]?.ok && results[0]?.error.message).toMatch(/did not answer within 200 ms/);
    expect(elapsed).toBeGreaterThanOrEqual(150);
    expect(elapsed).toBeLessThan(3000);
    expect(jwks.status().fetches).toBe(1);
    expect(server.hits).toBe(1);
  });

  it('answers 503 when the body never ends, an error status, garbage, not a set, a huge body or a redirect', async () => {
    for (const mode of [
      'slow-body',
      'error',
      'garbage',
      'not-a-set',
      'huge',
      'redirect',
    ] as const) {
      const { server, jwt } = await setup({ timeout: 200 });
      server.mode = mode;
      const result = await jwt.verify(await sign(k1));
      expect(codeOf(result), mode).toBe('SECURITY_JWKS_UNAVAILABLE');
    }
  });

  it('keeps using stale keys for staleIfError while the endpoint fails, then answers 503', async () => {
    const { server, clock, jwt } = await setup({ cacheMaxAge: 60_000, staleIfError: 120_000 });
    const token = await sign(k1);
    expect((await jwt.verify(token)).ok).toBe(true);
    server.mode = 'error';
    clock.now += 60_000;
    expect((await jwt.verify(token)).ok).toBe(true);
    clock.now += 119_999;
    expect((await jwt.verify(token)).ok).toBe(true);
    clock.now += 1;
    expect(codeOf(await jwt.verify(token))).toBe('SECURITY_JWKS_UNAVAILABLE');
    server.mode = 'ok';
    clock.now += 60_000;
    expect((await jwt.verify(token)).ok).toBe(true);
  });

  it('ignores private and symmetric keys a broken endpoint publishes', async () => {
    const { server, jwt, jwks } = await setup();
    server.keys = [
      { kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA', kid: 'oct' },
      { ...k1.jwk, d: 'not-really-private' },
      { ...k2.jwk, use: 'enc' },
    ];
    expect((await jwks.refresh()).ok).toBe(true);
    expect(jwks.status().keys).toBe(0);
    expect(codeOf(await jwt.verify(await sign(k1)))).toBe('SECURITY_INVALID_TOKEN');
  });

  it('refresh() warms the cache at start and reports failures as a Result', async () => {
    const { server, jwks } = await setup();
    expect(await jwks.refresh()).toEqual({ ok: true, value: undefined });
    expect(jwks.status()).toMatchObject({ fetches: 1, keys: 1, lastError: undefined });
    await server.down();
    const failed = await jwks.refresh();
    expect(!failed.ok && failed.error.code).toBe('SECURITY_JWKS_UNAVAILABLE');
  });
});
