// The memory equivalents of the Lua scripts in lua.ts: the same arithmetic, step for step, so a
// policy behaves the same on one process and on Redis (the insurance limiter relies on it).
import type { StoreAnswer } from './store.js';

/** Sliding window state: epoch-aligned window start, its count, the previous window's count. */
export interface SlidingState {
  start: number;
  current: number;
  previous: number;
  blockedUntil: number;
}

const DENY = (remaining: number, resetMs: number, retryMs: number): StoreAnswer => ({
  allowed: false,
  remaining,
  resetMs,
  retryMs: Math.max(1, Math.ceil(retryMs)),
  charged: false,
});

/** Rolls a sliding state forward to the window holding `now`. */
export function rollSliding(state: SlidingState, now: number, window: number): void {
  const start = now - (now % window);
  if (state.start === start) return;
  state.previous = state.start === start - window ? state.current : 0;
  state.current = 0;
  state.start = start;
}

/**
 * Sliding window counter: the estimate is `previous * (1 - elapsed / window) + current`.
 * Mutates `state` when the request is allowed (or a block starts).
 */
export function slidingConsume(
  state: SlidingState,
  now: number,
  window: number,
  limit: number,
  cost: number,
  blockMs: number,
): StoreAnswer {
  if (state.blockedUntil > now) return DENY(0, state.blockedUntil - now, state.blockedUntil - now);
  rollSliding(state, now, window);
  const elapsed = now - state.start;
  const weight = 1 - elapsed / window;
  const estimate = state.previous * weight + state.current;
  const toWindowEnd = window - elapsed;
  if (estimate + cost <= limit) {
    state.current += cost;
    return {
      allowed: true,
      remaining: Math.max(0, Math.floor(limit - estimate - cost)),
      resetMs: toWindowEnd,
      retryMs: 0,
      charged: true,
    };
  }
  if (blockMs > 0) {
    state.blockedUntil = now + blockMs;
    return DENY(0, blockMs, blockMs);
  }
  return DENY(
    Math.max(0, Math.floor(limit - estimate)),
    toWindowEnd,
    slidingRetry(state, elapsed, window, limit, cost),
  );
}

/** Milliseconds until `cost` fits under the estimate (assuming no other traffic). */
function slidingRetry(
  state: SlidingState,
  elapsed: number,
  window: number,
  limit: number,
  cost: number,
): number {
  if (cost > limit) return window * 2;
  const room = limit - state.current - cost;
  if (room >= 0 && state.previous > 0) {
    // previous * (1 - (elapsed + d) / window) <= room
    return Math.max(1, window * (1 - room / state.previous) - elapsed);
  }
  // Wait for the next window, where this window becomes the weighted previous one.
  const next = state.current > 0 ? window * (1 - (limit - cost) / state.current) : 0;
  return window - elapsed + Math.max(0, next);
}

/** Undoes a charge (the request was refused by another policy). */
export function slidingRefund(
  state: SlidingState,
  now: number,
  window: number,
  cost: number,
): void {
  // The charge sits in `current` unless the window rolled since (a refund is microseconds late).
  const start = now - (now % window);
  if (state.start === start || state.start === start - window) {
    state.current = Math.max(0, state.current - cost);
  }
}

/**
 * GCRA (the virtual-scheduling form of a token bucket): `tat` is the theoretical arrival time;
 * one request costs `window / limit` ms of it, and a request passes while `tat` stays within
 * `burst` emission intervals of now. Returns the new tat (unchanged when refused).
 */
export function gcraConsume(
  tat: number,
  now: number,
  window: number,
  limit: number,
  burst: number,
  cost: number,
  blockMs: number,
): { readonly answer: StoreAnswer; readonly tat: number } {
  if (limit === 0) return { answer: DENY(0, window, window), tat };
  const interval = window / limit;
  const capacity = burst * interval;
  const base = Math.max(tat, now);
  const next = base + cost * interval;
  const allowAt = next - capacity;
  if (allowAt > now) {
    const remaining = Math.max(0, Math.floor((capacity - (base - now)) / interval));
    if (blockMs > 0) {
      // Blocked: nothing passes for blockMs, then one request at a time refills.
      const blocked = now + blockMs + capacity - interval;
      return { answer: DENY(0, blocked - now + interval, blockMs), tat: Math.max(blocked, tat) };
    }
    return { answer: DENY(remaining, base - now, allowAt - now), tat };
  }
  return {
    answer: {
      allowed: true,
      remaining: Math.max(0, Math.floor((capacity - (next - now)) / interval + 1e-9)),
      resetMs: Math.ceil(next - now),
      retryMs: 0,
      charged: true,
    },
    tat: next,
  };
}

/** Undoes a GCRA charge. */
export function gcraRefund(
  tat: number,
  now: number,
  window: number,
  limit: number,
  cost: number,
): number {
  if (limit === 0) return tat;
  return Math.max(now, tat - cost * (window / limit));
}
