import type { PolicyOptions, TierLimits } from '@prod/ratelimit';

/** The window of the write limits: a minute. */
export const WRITE_WINDOW_MS = 60_000;

/**
 * The rate-limit policy of `POST /v1/notes`: `notes-write`, `limit` a minute per API key, in a
 * sliding window (no burst of twice the limit across the edge of a minute).
 *
 * The key is the one @prod/security verified (the actor's `keyId`), never a header as sent:
 * writes need a valid key, so every counted request has one, and a caller cannot escape the
 * limit by sending another made-up key (it is refused with 401 before it is counted). Keys
 * behind one address (a NAT, an office) each have their own budget. A limit per address in
 * front of the service (a proxy's) is what bounds requests with no valid key.
 */
export function notesWritePolicies(limit: number): PolicyOptions[] {
  return [
    {
      name: 'notes-write',
      limit,
      window: WRITE_WINDOW_MS,
      key: 'api-key',
      algorithm: 'sliding-window',
    },
  ];
}

/**
 * The tiers of the write limits: `free` (the default: the demo key, `NOTES_API_KEY`, any key
 * issued without a tier) gets `limit`, `pro` ten times as many, `enterprise` no limit. The tier
 * is the `tier` of the request context's actor, which @prod/security's `authPart` sets from the
 * verified key.
 */
export function notesWriteTiers(limit: number): TierLimits {
  const each = (value: number) => ({ 'notes-write': value });
  return { free: each(limit), pro: each(limit * 10), enterprise: each(Number.POSITIVE_INFINITY) };
}
