/**
 * Bearer JWT verification: jose's `jwtVerify` called directly (the same key, algorithm list,
 * issuer and audience) against our verifier and against the whole auth part's `onRequest`
 * (header parsing, the verifier, the actor set in the request context). ES256 with a local
 * public key, and HS256 with a shared secret, where the signature is cheap and any overhead
 * shows (jose given the secret as bytes, as its README does; then jose imports it as a
 * CryptoKey on every call, which our verifier does once at construction). An extra HS256 row
 * gives jose the CryptoKey imported once too, as a user who knows to do it would: the same
 * work as ours. Run: `pnpm bench:micro security/bench/jwt`.
 */
import { generateKeyPairSync } from 'node:crypto';
import { runWithContext } from '@prod/core';
import { authPart, createJwtVerifier } from '@prod/security';
import { fakeRequest } from '@prod/testing';
import { jwtVerify, SignJWT } from 'jose';
import { keep, runMicro } from '../../../config/bench-micro.js';

const issuer = 'https://idp.bench/';
const audience = 'https://api.bench';
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const secret = new TextEncoder().encode('a-shared-secret-of-at-least-32-bytes!!');

// The parameters jose itself imports an HS256 secret with.
const hsKey = await crypto.subtle.importKey(
  'raw',
  secret,
  { name: 'HMAC', hash: 'SHA-256' },
  false,
  ['verify'],
);

const claims = { scope: 'notes:read notes:write' };
const es256 = await new SignJWT(claims)
  .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
  .setIssuer(issuer)
  .setAudience(audience)
  .setSubject('user-7')
  .setIssuedAt()
  .setExpirationTime('10h')
  .sign(privateKey);
const hs256 = await new SignJWT(claims)
  .setProtectedHeader({ alg: 'HS256' })
  .setIssuer(issuer)
  .setAudience(audience)
  .setSubject('user-7')
  .setIssuedAt()
  .setExpirationTime('10h')
  .sign(secret);

const joseOptions = (algorithms: string[]) => ({
  algorithms,
  issuer,
  audience,
  clockTolerance: 30,
  requiredClaims: ['sub', 'exp'],
});
const esOptions = joseOptions(['ES256']);
const hsOptions = joseOptions(['HS256']);
const esVerifier = createJwtVerifier({ keys: publicKey, issuer, audience, algorithms: ['ES256'] });
const hsVerifier = createJwtVerifier({ secret, issuer, audience });
const esPart = authPart({ jwt: esVerifier });
const hsPart = authPart({ jwt: hsVerifier });
const esRequest = fakeRequest({ headers: { authorization: `Bearer ${es256}` } });
const hsRequest = fakeRequest({ headers: { authorization: `Bearer ${hs256}` } });

// A sanity check before measuring: every contender accepts its token.
for (const [name, outcome] of [
  ['es verifier', await esVerifier.verify(es256)],
  ['hs verifier', await hsVerifier.verify(hs256)],
] as const) {
  if (!outcome.ok) throw new Error(`${name}: ${outcome.error.message}`);
}
await jwtVerify(hs256, hsKey, hsOptions);
for (const [name, part, request] of [
  ['es part', esPart, esRequest],
  ['hs part', hsPart, hsRequest],
] as const) {
  const answer = await runWithContext({ requestId: 'check' }, () => part.onRequest?.(request));
  if (answer !== undefined) throw new Error(`${name} refused the token`);
}

const JOSE = 'jose.jwtVerify';
const JOSE_KEY = 'jose.jwtVerify, CryptoKey imported once';
const VERIFIER = '@prod/security createJwtVerifier().verify';
const PART = '@prod/security authPart onRequest';
const context = { requestId: 'bench' };
// A verification costs 10 to 150 µs: the default 250 ms of warm-up is a couple of thousand
// calls, short of the steady state of a server that verifies tokens all day (after 250 ms the
// part read 8 % behind jose, after 2 s at parity, both of them faster).
const WARMUP = 2000;
const inContext = (run: () => Promise<void>): Promise<void> => runWithContext(context, run);

await runMicro({
  file: import.meta.url,
  title: '@prod/security: bearer JWT verification vs jose.jwtVerify',
  groups: [
    {
      name: 'ES256, local public key',
      around: inContext,
      warmup: WARMUP,
      contenders: {
        [JOSE]: async () => keep(await jwtVerify(es256, publicKey, esOptions)),
        [VERIFIER]: async () => keep(await esVerifier.verify(es256)),
        [PART]: async () => keep(await esPart.onRequest?.(esRequest)),
      },
      ratios: [
        { ours: VERIFIER, peer: JOSE },
        { ours: PART, peer: JOSE },
      ],
    },
    {
      name: 'HS256, shared secret',
      around: inContext,
      warmup: WARMUP,
      contenders: {
        [JOSE]: async () => keep(await jwtVerify(hs256, secret, hsOptions)),
        [JOSE_KEY]: async () => keep(await jwtVerify(hs256, hsKey, hsOptions)),
        [VERIFIER]: async () => keep(await hsVerifier.verify(hs256)),
        [PART]: async () => keep(await hsPart.onRequest?.(hsRequest)),
      },
      ratios: [
        { ours: VERIFIER, peer: JOSE },
        { ours: PART, peer: JOSE },
        { ours: VERIFIER, peer: JOSE_KEY },
        { ours: PART, peer: JOSE_KEY },
      ],
    },
  ],
});
