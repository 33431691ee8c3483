import { createSecretKey, webcrypto } from 'node:crypto';
import { createJwtVerifier } from '@prod/security';
import { exportJWK, type JWK, SignJWT } from 'jose';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import {
  AUDIENCE,
  ecKey,
  hmacToken,
  ISSUER,
  rsaKey,
  sign,
  standardClaims,
  swapPayload,
  type TestKey,
  tamperSignature,
  unsignedToken,
} from './support/tokens.js';

let ec: TestKey;
let rsa: TestKey;
beforeAll(async () => {
  ec = await ecKey('ec-1');
  rsa = await rsaKey();
});

const withoutAlg = ({ alg: _alg, ...jwk }: JWK): JWK => jwk;
const base = { issuer: ISSUER, audience: AUDIENCE } as const;
const codeOf = (result: { ok: boolean; error?: { code: string; message: string } }) =>
  result.ok ? 'ok' : result.error?.code;

describe('createJwtVerifier: hostile tokens', () => {
  it('verifies a good token into an actor with scopes and tier', async () => {
    const jwt = createJwtVerifier({ ...base, keys: { keys: [ec.jwk] }, tierClaim: 'plan' });
    const token = await sign(ec, { claims: { plan: 'pro' } });
    const verified = await jwt.verify(token);
    expect(verified.ok).toBe(true);
    if (!verified.ok) return;
    expect(verified.value.actor).toMatchObject({
      id: 'user-7',
      type: 'user',
      scopes: ['notes:read', 'notes:write'],
      tier: 'pro',
      via: 'jwt',
      issuer: ISSUER,
    });
    expect(verified.value.actor.claims?.sub).toBe('user-7');
    expect(verified.value.header.kid).toBe('ec-1');
  });

  it('refuses alg none, with or without an algorithm list', async () => {
    for (const jwt of [
      createJwtVerifier({ ...base, keys: ec.publicKey }),
      createJwtVerifier({ ...base, keys: ec.publicKey, algorithms: ['ES256'] }),
    ]) {
      const result = await jwt.verify(unsignedToken());
      expect(codeOf(result)).toBe('SECURITY_INVALID_TOKEN');
    }
  });

  it('refuses HS256 signed with the RSA public key (key confusion), as PEM or JWK bytes', async () => {
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const der = rsa.publicKey.export({ type: 'spki', format: 'der' });
    for (const jwt of [
      createJwtVerifier({ ...base, keys: rsa.publicKey }),
      createJwtVerifier({ ...base, keys: { keys: [rsa.jwk] } }),
      createJwtVerifier({
        ...base,
        keys: { keys: [withoutAlg(rsa.jwk)] },
        algorithms: ['RS256'],
      }),
    ]) {
      for (const secret of [pem, der]) {
        const result = await jwt.verify(hmacToken(secret, standardClaims(), 'rsa-1'));
        expect(codeOf(result)).toBe('SECURITY_INVALID_TOKEN');
        expect(!result.ok && result.error.message).toMatch(/algorithm|key/);
      }
    }
    // And the real thing still passes.
    expect(
      (await createJwtVerifier({ ...base, keys: rsa.publicKey }).verify(await sign(rsa))).ok,
    ).toBe(true);
  });

  it('refuses expired tokens, with the clock tolerance', async () => {
    const jwt = createJwtVerifier({ ...base, keys: ec.publicKey, clockTolerance: 30_000 });
    const expired = await jwt.verify(await sign(ec, { expiresIn: -60 }));
    expect(codeOf(expired)).toBe('SECURITY_TOKEN_EXPIRED');
    expect(!expired.ok && expired.error.status).toBe(401);
    expect((await jwt.verify(await sign(ec, { expiresIn: -10 }))).ok).toBe(true);
    const strict = createJwtVerifier({ ...base, keys: ec.publicKey, clockTolerance: 0 });
    expect(codeOf(await strict.verify(await sign(ec, { expiresIn: -10 })))).toBe(
      'SECURITY_TOKEN_EXPIRED',
    );
  });

  it('refuses tokens not valid yet (nbf), with the clock tolerance', async () => {
    const jwt = createJwtVerifier({ ...base, keys: ec.publicKey });
    const early = await jwt.verify(await sign(ec, { notBefore: 120 }));
    expect(codeOf(early)).toBe('SECURITY_INVALID_TOKEN');
    expect(!early.ok && early.error.message).toBe('The token is not valid yet');
    expect((await jwt.verify(await sign(ec, { notBefore: 10 }))).ok).toBe(true);
  });

  it('refuses the wrong audience or issuer, and tokens without them', async () => {
    const jwt = createJwtVerifier({ ...base, keys: ec.publicKey });
    const cases: [Parameters<typeof sign>[1], string][] = [
      [{ audience: 'https://other-api.test' }, 'The token has the wrong audience'],
      [{ audience: null }, 'The token lacks a required claim'],
      [{ issuer: 'https://evil.test/' }, 'The token has the wrong issuer'],
      [{ issuer: null }, 'The token lacks a required claim'],
    ];
    for (const [options, message] of cases) {
      const result = await jwt.verify(await sign(ec, options));
      expect(codeOf(result)).toBe('SECURITY_INVALID_TOKEN');
      expect(!result.ok && result.error.message).toBe(message);
    }
    expect((await jwt.verify(await sign(ec, { audience: ['https://x.test', AUDIENCE] }))).ok).toBe(
      true,
    );
    const several = createJwtVerifier({
      keys: ec.publicKey,
      issuer: ['https://a.test/', ISSUER],
      audience: AUDIENCE,
    });
    expect((await several.verify(await sign(ec))).ok).toBe(true);
  });

  it('refuses a tampered signature and a swapped payload', async () => {
    const jwt = createJwtVerifier({ ...base, keys: { keys: [ec.jwk] } });
    const token = await sign(ec);
    expect(codeOf(await jwt.verify(tamperSignature(token)))).toBe('SECURITY_INVALID_TOKEN');
    const admin = swapPayload(token, standardClaims({ sub: 'admin', scope: 'everything' }));
    const result = await jwt.verify(admin);
    expect(!result.ok && result.error.message).toBe('The token signature does not verify');
  });

  it('refuses a 1 MB token by its size, before decoding anything', async () => {
    const jwt = createJwtVerifier({ ...base, keys: ec.publicKey });
    const huge = `eyJhbGciOiJFUzI1NiJ9.${'A'.repeat(1024 * 1024)}.sig`;
    const started = performance.now();
    const result = await jwt.verify(huge);
    expect(codeOf(result)).toBe('SECURITY_INVALID_TOKEN');
    expect(!result.ok && result.error.message).toBe('The token is larger than 8192 bytes');
    expect(performance.now() - started).toBeLessThan(1000);
    const roomy = createJwtVerifier({ ...base, keys: ec.publicKey, maxTokenBytes: 16_384 });
    const big = await sign(ec, { claims: { pad: 'x'.repeat(10_000) } });
    expect((await roomy.verify(big)).ok).toBe(true);
    expect(codeOf(await jwt.verify(big))).toBe('SECURITY_INVALID_TOKEN');
  });

  it('refuses tokens with no subject, no expiry, an unknown kid, or garbage', async () => {
    const jwt = createJwtVerifier({ ...base, keys: { keys: [ec.jwk] } });
    expect(codeOf(await jwt.verify(await sign(ec, { subject: null })))).toBe(
      'SECURITY_INVALID_TOKEN',
    );
    expect(codeOf(await jwt.verify(await sign(ec, { expiresIn: null })))).toBe(
      'SECURITY_INVALID_TOKEN',
    );
    const stranger = await ecKey('ec-unknown');
    const unknown = await jwt.verify(await sign(stranger));
    expect(!unknown.ok && unknown.error.message).toBe('No known key matches the token');
    for (const junk of [
      '',
      'a.b.c',
      'not a token',
      'eyJ.eyJ.',
      '\u00e9.\u00e9.\u00e9',
      42,
      null,
      undefined,
      {},
    ]) {
      expect(codeOf(await jwt.verify(junk))).toBe('SECURITY_INVALID_TOKEN');
    }
    const noExpRequired = createJwtVerifier({
      ...base,
      keys: { keys: [ec.jwk] },
      requiredClaims: [],
    });
    expect((await noExpRequired.verify(await sign(ec, { expiresIn: null }))).ok).toBe(true);
  });

  it('checks typ and maxAge when asked', async () => {
    const jwt = createJwtVerifier({ ...base, keys: ec.publicKey, typ: 'at+jwt', maxAge: 60_000 });
    expect((await jwt.verify(await sign(ec, { typ: 'at+jwt' }))).ok).toBe(true);
    expect(codeOf(await jwt.verify(await sign(ec)))).toBe('SECURITY_INVALID_TOKEN');
    const old = await new SignJWT({ sub: 'u', iss: ISSUER, aud: AUDIENCE })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' })
      .setIssuedAt(Math.floor(Date.now() / 1000) - 600)
      .setExpirationTime('1h')
      .sign(ec.privateKey);
    // Older than maxAge counts as expired (jose's JWTExpired on `iat`).
    expect(codeOf(await jwt.verify(old))).toBe('SECURITY_TOKEN_EXPIRED');
  });

  it('reads scopes from scope, or scp as a list; drops what is not a scope token', async () => {
    const jwt = createJwtVerifier({ ...base, keys: ec.publicKey });
    const scp = await jwt.verify(
      await sign(ec, { claims: { scope: undefined, scp: ['a', 'b c', 'd"'] } }),
    );
    expect(scp.ok && scp.value.actor.scopes).toEqual(['a']);
    const none = await jwt.verify(await sign(ec, { claims: { scope: undefined } }));
    expect(none.ok && none.value.actor.scopes).toEqual([]);
  });

  it('maps claims with toActor; undefined refuses the token', async () => {
    const jwt = createJwtVerifier({
      ...base,
      keys: ec.publicKey,
      toActor: (claims) =>
        claims.client_id === undefined
          ? undefined
          : { id: String(claims.client_id), type: 'service', scopes: ['x'] },
    });
    const service = await jwt.verify(await sign(ec, { claims: { client_id: 'billing' } }));
    expect(service.ok && service.value.actor).toMatchObject({
      id: 'billing',
      type: 'service',
      scopes: ['x'],
    });
    expect(codeOf(await jwt.verify(await sign(ec)))).toBe('SECURITY_INVALID_TOKEN');
  });

  it('verifies HS256 with a shared secret, and nothing else with it', async () => {
    const secret = 'a-shared-secret-of-at-least-32-bytes!!';
    const jwt = createJwtVerifier({ ...base, secret });
    const token = hmacToken(secret, standardClaims());
    expect((await jwt.verify(token)).ok).toBe(true);
    expect(codeOf(await jwt.verify(await sign(ec)))).toBe('SECURITY_INVALID_TOKEN');
    expect(
      codeOf(
        await jwt.verify(hmacToken('another-secret-of-at-least-32-bytes!!', standardClaims())),
      ),
    ).toBe('SECURITY_INVALID_TOKEN');
  });
});

describe('createJwtVerifier: a shared secret imported once', () => {
  const secret = 'a-shared-secret-of-at-least-64-bytes-for-hs512-and-then-some-more!!';
  const hs = (alg: 'HS256' | 'HS384' | 'HS512', key = secret) =>
    new SignJWT(standardClaims()).setProtectedHeader({ alg }).sign(new TextEncoder().encode(key));

  it('verifies right after construction, and never imports the secret per token', async () => {
    const jwt = createJwtVerifier({ ...base, secret });
    // The first calls may start before an asynchronous import has finished.
    const first = await Promise.all([jwt.verify(await hs('HS256')), jwt.verify(await hs('HS256'))]);
    expect(first.map(codeOf)).toEqual(['ok', 'ok']);
    const token = await hs('HS256');
    const importKey = vi.spyOn(webcrypto.subtle, 'importKey');
    try {
      for (let i = 0; i < 3; i++) expect(codeOf(await jwt.verify(token))).toBe('ok');
      expect(importKey).not.toHaveBeenCalled();
    } finally {
      importKey.mockRestore();
    }
  });

  it('keeps one key per allowed algorithm, and refuses the others', async () => {
    const both = createJwtVerifier({ ...base, secret, algorithms: ['HS256', 'HS512'] });
    expect(codeOf(await both.verify(await hs('HS256')))).toBe('ok');
    expect(codeOf(await both.verify(await hs('HS512')))).toBe('ok');
    expect(codeOf(await both.verify(await hs('HS384')))).toBe('SECURITY_INVALID_TOKEN');
    const only512 = createJwtVerifier({ ...base, secret, algorithms: ['HS512'] });
    const refused = await only512.verify(await hs('HS256'));
    expect(refused.ok ? undefined : refused.error.message).toBe(
      'The token algorithm is not accepted',
    );
    expect(codeOf(await only512.verify(await hs('HS512')))).toBe('ok');
    expect(codeOf(await both.verify(await hs('HS512', `${secret}-not-it`)))).toBe(
      'SECURITY_INVALID_TOKEN',
    );
    // An asymmetric token stays refused with a secret, whatever the key type.
    expect(codeOf(await both.verify(await sign(ec)))).toBe('SECURITY_INVALID_TOKEN');
  });

  it('copies the secret bytes: changing them afterwards changes nothing', async () => {
    const bytes = new TextEncoder().encode(secret);
    const jwt = createJwtVerifier({ ...base, secret: bytes });
    bytes.fill(0);
    expect(codeOf(await jwt.verify(await hs('HS256')))).toBe('ok');
  });
});

describe('createJwtVerifier: options', () => {
  it('refuses unsafe or incomplete configurations at construction', async () => {
    const privateJwk = await exportJWK(ec.privateKey);
    const bad: unknown[] = [
      { keys: ec.publicKey },
      { ...base },
      { ...base, issuer: '' },
      { ...base, audience: [] },
      { ...base, keys: ec.publicKey, secret: 'x'.repeat(40) },
      { ...base, keys: ec.publicKey, algorithms: ['none'] },
      { ...base, keys: ec.publicKey, algorithms: ['NONE'] },
      { ...base, keys: ec.publicKey, algorithms: ['HS256'] },
      { ...base, keys: ec.publicKey, algorithms: [] },
      { ...base, secret: 'x'.repeat(40), algorithms: ['RS256'] },
      { ...base, secret: 'short' },
      { ...base, secret: 'x'.repeat(40), algorithms: ['HS512'] },
      { ...base, keys: ec.privateKey },
      { ...base, keys: createSecretKey(Buffer.alloc(32)) },
      { ...base, keys: privateJwk },
      { ...base, keys: { keys: [{ kty: 'oct', k: 'AAAA' }] } },
      { ...base, keys: 'a pem string' },
      { ...base, jwks: 'http://idp.example.com/jwks.json' },
      { ...base, jwks: 'not a url' },
      { ...base, jwks: 'https://user:pass@idp.example.com/jwks.json' },
      { ...base, keys: ec.publicKey, maxTokenBytes: 10 },
      { ...base, keys: ec.publicKey, requiredClaims: 'exp' },
      { ...base, keys: ec.publicKey, toActor: 'sub' },
    ];
    for (const options of bad) {
      expect(
        () => createJwtVerifier(options as never),
        String(Object.keys(options as object)),
      ).toThrow(expect.objectContaining({ code: 'SECURITY_INVALID_OPTIONS' }));
    }
    expect(() =>
      createJwtVerifier({ ...base, jwks: 'http://127.0.0.1:9/jwks.json' }),
    ).not.toThrow();
    expect(() =>
      createJwtVerifier({ ...base, secret: 'x'.repeat(64), algorithms: ['HS512'] }),
    ).not.toThrow();
  });
});
