import type { PolicyOptions, TierLimits } from '@prod/ratelimit';

/** The window of the write limits: a minute. */
export const WRITE_WINDOW_MS = 60_000;

/**
 * The rate-limit policies of `POST /v1/notes`, `limit` a minute each, the tightest deciding:
 *
 * - `notes-write-ip`, per client address (IPv6 by /64): every caller has one, so a caller
 *   cannot escape it by sending another `x-api-key`, which anyone can do until
 *   @prod/security checks the keys;
 * - `notes-write`, per API key (a hash of the `x-api-key` header, never the key itself): a
 *   key shared by several addresses counts once. A request without a key is not counted here.
 *
 * Sliding windows: no burst of twice the limit across the edge of a minute.
 */
export function notesWritePolicies(limit: number): PolicyOptions[] {
  return [
    {
      name: 'notes-write-ip',
      limit,
      window: WRITE_WINDOW_MS,
      key: 'ip',
      algorithm: 'sliding-window',
    },
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
 * The tiers of the write limits: `free` (the default, whoever is not known to be more) gets
 * `limit`, `pro` ten times as many, `enterprise` no limit. The tier is the `tier` of the
 * request context's actor, which @prod/security's authentication will set; until it does,
 * every caller is `free`.
 */
export function notesWriteTiers(limit: number): TierLimits {
  const each = (value: number) => ({ 'notes-write-ip': value, 'notes-write': value });
  return { free: each(limit), pro: each(limit * 10), enterprise: each(Number.POSITIVE_INFINITY) };
}
