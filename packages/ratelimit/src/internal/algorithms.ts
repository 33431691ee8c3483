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

// Float tolerances, the same in lua.ts: a count within EPS of the limit fits, a time within
// EPS_MS of now is now. Without them `remaining`, `resetMs` and the admission test could
// disagree by a rounding error (a `t` one millisecond early or late).
const EPS = 1e-9;
const EPS_MS = 0.01;

/** The sliding estimate `d` ms from now, with no other traffic (the state rolled, not mutated). */
function estimateIn(state: SlidingState, elapsed: number, window: number, d: number): number {
  const at = elapsed + d;
  if (at < window) return state.previous * (1 - at / window) + state.current;
  if (at < window * 2) return state.current * (1 - (at - window) / window);
  return 0;
}

/** Whether `cost` fits under the estimate `d` ms from now (a function, not a per-call closure). */
function fitsIn(
  state: SlidingState,
  elapsed: number,
  window: number,
  limit: number,
  cost: number,
  d: number,
): boolean {
  return estimateIn(state, elapsed, window, d) + cost <= limit + EPS;
}

/**
 * Whole milliseconds until `cost` fits under the estimate, with no other traffic (0: now). The
 * closed form, then checked against the admission test itself so that it is exact: a request
 * at `now + wait` passes, one at `now + wait - 1` does not.
 */
function slidingWait(
  state: SlidingState,
  elapsed: number,
  window: number,
  limit: number,
  cost: number,
): number {
  if (cost > limit) return window * 2;
  if (fitsIn(state, elapsed, window, limit, cost, 0)) return 0;
  const room = limit - state.current - cost;
  let wait: number;
  if (room >= 0 && state.previous > 0) {
    // previous * (1 - (elapsed + d) / window) <= room, within this window
    wait = window * (1 - room / state.previous) - elapsed;
  } else {
    // In the next window, where this one becomes the weighted previous one.
    const next = state.current > 0 ? window * (1 - (limit - cost) / state.current) : 0;
    wait = window - elapsed + Math.max(0, next);
  }
  let whole = Math.max(1, Math.ceil(wait));
  for (
    let step = 0;
    step < 4 && whole > 1 && fitsIn(state, elapsed, window, limit, cost, whole - 1);
    step += 1
  )
    whole -= 1;
  for (let step = 0; step < 4 && !fitsIn(state, elapsed, window, limit, cost, whole); step += 1)
    whole += 1;
  return whole;
}

/**
 * Sliding window counter: the estimate is `previous * (1 - elapsed / window) + current`.
 * Mutates `state` when the request is allowed (or a block starts).
 *
 * `resetMs` of an allowed answer is what the draft's `t` must say: when a request passes again
 * once the `remaining` are spent (the same instant's refusal says the same); a refusal's
 * `retryMs` is when this request passes, a block included.
 */
export function slidingConsume(
  state: SlidingState,
  now: number,
  window: number,
  limit: number,
  cost: number,
  blockMs: number,
): StoreAnswer {
  rollSliding(state, now, window);
  const elapsed = now - state.start;
  if (state.blockedUntil > now) {
    const wait = Math.max(
      state.blockedUntil - now,
      slidingWait(state, elapsed, window, limit, cost),
    );
    return DENY(0, wait, wait);
  }
  const estimate = estimateIn(state, elapsed, window, 0);
  if (estimate + cost <= limit + EPS) {
    state.current += cost;
    const remaining = Math.max(0, Math.floor(limit - estimateIn(state, elapsed, window, 0) + EPS));
    // Spend the rest at once: when does one more fit?
    state.current += remaining;
    const resetMs = slidingWait(state, elapsed, window, limit, 1);
    state.current -= remaining;
    return { allowed: true, remaining, resetMs, retryMs: 0, charged: true };
  }
  const wait = slidingWait(state, elapsed, window, limit, cost);
  if (blockMs > 0) {
    state.blockedUntil = now + blockMs;
    return DENY(0, Math.max(blockMs, wait), Math.max(blockMs, wait));
  }
  return DENY(Math.max(0, Math.floor(limit - estimate + EPS)), wait, wait);
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
 * Until `units` more pass after a tat: the whole ms, within the admission test's tolerance. A
 * function of its own rather than a closure in {@link gcraConsume}: nothing allocated per call.
 */
function gcraUntil(
  from: number,
  units: number,
  interval: number,
  capacity: number,
  now: number,
): number {
  return Math.max(0, Math.ceil(from + units * interval - capacity - now - EPS_MS));
}

/**
 * GCRA (the virtual-scheduling form of a token bucket): `tat` is the theoretical arrival time;
 * one request costs `window / limit` ms of it, and a request passes while `tat` stays within
 * `burst` emission intervals of now. Returns the new tat (unchanged when refused, unless a block
 * starts).
 *
 * `resetMs` of an allowed answer is when a request passes again once the `remaining` are spent
 * (one interval at most): the bucket is never "reset" at once, it drips. A refusal's `retryMs`
 * is when this request passes, a block included.
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
  if (next - capacity - now > EPS_MS) {
    const remaining = Math.max(0, Math.floor((capacity - (base - now) + EPS_MS) / interval));
    if (blockMs > 0) {
      // Blocked: nothing passes for blockMs, then one request at a time refills.
      const blocked = Math.max(now + blockMs + capacity - interval, tat);
      const wait = Math.max(blockMs, gcraUntil(blocked, cost, interval, capacity, now));
      return { answer: DENY(0, blocked - now + interval, wait), tat: blocked };
    }
    return {
      answer: DENY(remaining, base - now, gcraUntil(base, cost, interval, capacity, now)),
      tat,
    };
  }
  const remaining = Math.max(0, Math.floor((capacity - (next - now) + EPS_MS) / interval));
  return {
    answer: {
      allowed: true,
      remaining,
      resetMs: gcraUntil(next, remaining + 1, interval, capacity, now),
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
