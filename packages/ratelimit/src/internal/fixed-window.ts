import type { StoreAnswer, StoreCall } from './store.js';

/** The part of rate-limiter-flexible's limiters used here (memory and Redis alike). */
export interface FixedWindowLimiter {
  consume(key: string, points: number, options?: object): Promise<FixedWindowResult>;
  reward(key: string, points: number): Promise<unknown>;
  delete(key: string): Promise<unknown>;
}

/** rate-limiter-flexible's `RateLimiterRes`, as read here. */
export interface FixedWindowResult {
  readonly consumedPoints: number;
  readonly remainingPoints: number;
  readonly msBeforeNext: number;
}

/**
 * rate-limiter-flexible counts every call, refused ones included. A refused call is "charged"
 * (worth a refund) only when the counter was within the limit before it: a large cost must not
 * drain a budget it never used (rate-limiter-flexible#286), while a client already over the
 * limit costs no refund command per request.
 */
export function fixedWindowAnswer(
  res: FixedWindowResult,
  call: StoreCall,
  allowed: boolean,
): StoreAnswer {
  const msBeforeNext = res.msBeforeNext < 0 ? call.policy.window : res.msBeforeNext;
  if (allowed) {
    return {
      allowed: true,
      remaining: Math.max(0, call.limit - res.consumedPoints),
      resetMs: msBeforeNext,
      retryMs: 0,
      charged: true,
    };
  }
  const before = res.consumedPoints - call.cost;
  return {
    allowed: false,
    remaining: Math.max(0, call.limit - before),
    resetMs: msBeforeNext,
    retryMs: Math.max(1, msBeforeNext),
    charged: before < call.limit && call.policy.blockDuration === 0,
  };
}

/** Refunds of fixed windows: never once a block started (the block is the point). */
export function fixedWindowRefundable(call: StoreCall): boolean {
  return call.policy.blockDuration === 0;
}
