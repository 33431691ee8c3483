import type { PolicyState, RateLimitDecision } from './types.js';

/** Which rate-limit headers to write. */
export interface HeaderOptions {
  /**
   * The IETF draft's `RateLimit-Policy` and `RateLimit` fields
   * (draft-ietf-httpapi-ratelimit-headers-10/-11 syntax). Default true.
   */
  readonly standard?: boolean;
  /**
   * The legacy `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (Unix time
   * in seconds, as GitHub sends it) of the tightest policy. Default false.
   */
  readonly legacy?: boolean;
  /** Now, in ms (for `X-RateLimit-Reset`). Default `Date.now()`. */
  readonly now?: number;
}

const seconds = (ms: number): number => Math.max(0, Math.ceil(ms / 1000));

/** The Structured Fields String of a policy name (names are `[A-Za-z0-9._-]`, nothing to escape). */
const item = (state: PolicyState): string => `"${state.name}"`;

function policyItem(state: PolicyState): string {
  return state.algorithm === 'concurrency'
    ? `${item(state)};q=${state.limit};qu="concurrent-requests"`
    : `${item(state)};q=${state.limit};w=${seconds(state.window)}`;
}

function limitItem(state: PolicyState): string {
  return state.algorithm === 'concurrency' && !state.exceeded
    ? `${item(state)};r=${state.remaining}`
    : `${item(state)};r=${state.remaining};t=${seconds(state.resetMs)}`;
}

/** The policy that binds first: refused, else the least remaining share, else the soonest reset. */
function tightest(states: readonly PolicyState[]): PolicyState | undefined {
  let best: PolicyState | undefined;
  for (const state of states) {
    if (best === undefined) best = state;
    else if (state.exceeded !== best.exceeded) {
      if (state.exceeded) best = state;
    } else {
      const share = state.limit === 0 ? 0 : state.remaining / state.limit;
      const bestShare = best.limit === 0 ? 0 : best.remaining / best.limit;
      if (share < bestShare || (share === bestShare && state.resetMs < best.resetMs)) best = state;
    }
  }
  return best;
}

/**
 * The response headers of a decision: `RateLimit-Policy` and `RateLimit` (one list item per
 * policy that applied, shadow policies left out), `Retry-After` (seconds) when refused, and,
 * with `legacy`, the `X-RateLimit-*` trio. Header names are lower case.
 *
 * The draft says a `Retry-After` should not point earlier than the refused policy's `t`: both are
 * the same number here.
 *
 * @example
 * declare const decision: RateLimitDecision;
 * rateLimitHeaders(decision);
 * // { 'ratelimit-policy': '"per-minute";q=60;w=60', ratelimit: '"per-minute";r=59;t=60' }
 */
export function rateLimitHeaders(
  decision: RateLimitDecision,
  options: HeaderOptions = {},
): Record<string, string> {
  const headers: Record<string, string> = {};
  const states = decision.policies.filter((state) => !state.shadow);
  if (states.length > 0) {
    if (options.standard !== false) {
      headers['ratelimit-policy'] = states.map(policyItem).join(', ');
      headers.ratelimit = states.map(limitItem).join(', ');
    }
    if (options.legacy === true) {
      const tight = tightest(states) as PolicyState;
      const now = options.now ?? Date.now();
      headers['x-ratelimit-limit'] = String(tight.limit);
      headers['x-ratelimit-remaining'] = String(tight.remaining);
      headers['x-ratelimit-reset'] = String(Math.ceil((now + tight.resetMs) / 1000));
    }
  }
  if (!decision.allowed)
    headers['retry-after'] = String(Math.max(1, seconds(decision.retryAfterMs)));
  return headers;
}
