/**
 * A cached API-key check per request: the auth part's `onRequest` for `X-API-Key` (length and
 * prefix, HMAC-SHA-256 under the server secret, the cache keyed by it, revocation and expiry
 * against the clock, the actor set in the context; the checksum and the constant-time
 * comparison were done when the key entered the cache), against two hand-written checks:
 * what a passport-http-bearer verify callback over an in-process cache would run (the HMAC, a
 * Map lookup, `timingSafeEqual`), and the least any cached check can do (the HMAC as hex, a
 * Map lookup). Run: `pnpm bench:micro security/bench/api-key`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { runWithContext } from '@prod/core';
import { authPart, createApiKeys } from '@prod/security';
import { fakeRequest } from '@prod/testing';
import { keep, runMicro } from '../../../config/bench-micro.js';

const secret = 'a-server-secret-of-at-least-32-bytes!!';
const apiKeys = createApiKeys({ secret, cacheTtl: 3_600_000 });
const issued = await apiKeys.issue({ owner: 'svc', scopes: ['notes:write'], tier: 'pro' });
if (!issued.ok) throw issued.error;
const token = issued.value.token;
const part = authPart({ apiKeys });
const request = fakeRequest({ headers: { 'x-api-key': token } });

// The hand-written baseline: keyed hash, cache lookup, constant-time compare.
const key = Buffer.from(secret);
const hash = createHmac('sha256', key).update(token).digest();
const cache = new Map([[hash.toString('hex'), { hash, owner: 'svc', scopes: ['notes:write'] }]]);
const handWritten = (presented: string): unknown => {
  const digest = createHmac('sha256', key).update(presented).digest();
  const found = cache.get(digest.toString('hex'));
  return found !== undefined && timingSafeEqual(found.hash, digest) ? found : undefined;
};

// The leanest: the HMAC encoded by Node (no Buffer), the lookup; a hit is the comparison.
const byHex = new Map([[hash.toString('hex'), { owner: 'svc', scopes: ['notes:write'] }]]);
const leanest = (presented: string): unknown =>
  byHex.get(createHmac('sha256', key).update(presented).digest('hex'));

const context = { requestId: 'bench' };
// Warm the cache, and check that the part answers synchronously (no promise) once it is.
await runWithContext(context, () => part.onRequest?.(request));
const answer = runWithContext(context, () => part.onRequest?.(request));
if (answer !== undefined) throw new Error('the cached check did not pass synchronously');
if (handWritten(token) === undefined || leanest(token) === undefined) {
  throw new Error('a baseline refused the key');
}

const PART = '@prod/security authPart onRequest (cached key)';
const VERIFY = '@prod/security apiKeys.verify (cached key)';
const HAND = 'hand-written HMAC + Map + timingSafeEqual';
const LEAN = 'hand-written HMAC as hex + Map';

await runMicro({
  file: import.meta.url,
  title: '@prod/security: a cached API-key check per request',
  groups: [
    {
      name: 'X-API-Key, cached lookup',
      around: (run) => runWithContext(context, run),
      contenders: {
        [PART]: () => keep(part.onRequest?.(request)),
        [VERIFY]: async () => keep(await apiKeys.verify(token)),
        [HAND]: () => keep(handWritten(token)),
        [LEAN]: () => keep(leanest(token)),
      },
      ratios: [
        { ours: PART, peer: HAND },
        { ours: VERIFY, peer: HAND },
        { ours: PART, peer: LEAN },
        { ours: VERIFY, peer: LEAN },
      ],
    },
  ],
});
