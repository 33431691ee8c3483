import type { PolicyOptions, TierLimits } from '@prod/ratelimit';

/** The window of the write limits: a minute. */
export const WRITE_WINDOW_MS = 60_000;

/** How many keys' worth of writes one client address may send: the per-address backstop. */
export const ADDRESS_FACTOR = 5;

/**
 * The rate-limit policies of `POST /v1/notes`, sliding windows of a minute (no burst of twice
 * the limit across the edge of a minute), the tightest deciding:
 *
 * - `notes-write`: `limit` a minute per API key. The key is the one @prod/security verified
 *   (the actor's `keyId`), never a header as sent: a made-up key is refused with 401 before it
 *   is counted, so nobody escapes the limit by sending new ones.
 * - `notes-write-ip`: `limit * ADDRESS_FACTOR` a minute per client address (IPv6 by /64): one
 *   address holding many keys (leaked, or issued to one abuser) still gets a bounded budget,
 *   while the keys behind one NAT or office have room for several of them.
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
    {
      name: 'notes-write-ip',
      limit: limit * ADDRESS_FACTOR,
      window: WRITE_WINDOW_MS,
      key: 'ip',
      algorithm: 'sliding-window',
    },
  ];
}

/**
 * The tiers of the write limits: `free` (the default: the demo key, `NOTES_API_KEY`, any key
 * issued without a tier) gets `limit` per key and `limit * ADDRESS_FACTOR` per address, `pro`
 * ten times both, `enterprise` no limit. The tier is the `tier` of the request context's actor,
 * which @prod/security's `authPart` sets from the verified key.
 */
export function notesWriteTiers(limit: number): TierLimits {
  const each = (value: number) => ({
    'notes-write': value,
    'notes-write-ip': value * ADDRESS_FACTOR,
  });
  return { free: each(limit), pro: each(limit * 10), enterprise: each(Number.POSITIVE_INFINITY) };
}
