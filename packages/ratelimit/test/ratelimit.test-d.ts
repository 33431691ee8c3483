import type { ProdError, Result, RouteMeta } from '@prod/core';
import {
  type BruteForceStatus,
  createBruteForce,
  createRateLimiter,
  createThrottle,
  definePolicy,
  type Policy,
  type RateLimitDecision,
  type RouteRateLimit,
  rateLimitMeta,
  rateLimitPolicy,
} from '@prod/ratelimit';
import { describe, expectTypeOf, it } from 'vitest';

describe('types', () => {
  it('decisions are Results; refusals are decisions, not errors', () => {
    const limiter = createRateLimiter({ policies: [{ name: 'p', limit: 1, window: 1000 }] });
    expectTypeOf(limiter.consume('k')).resolves.toEqualTypeOf<
      Result<
        RateLimitDecision,
        ProdError<
          | 'RATELIMIT_STORE_UNAVAILABLE'
          | 'RATELIMIT_INVALID_KEY'
          | 'RATELIMIT_INVALID_COST'
          | 'RATELIMIT_INVALID_OPTIONS'
        >
      >
    >();
    expectTypeOf<RateLimitDecision['outcome']>().toEqualTypeOf<
      'allowed' | 'limited' | 'reduced' | 'denied'
    >();
  });

  it('throttled jobs keep their value type', () => {
    const throttle = createThrottle();
    expectTypeOf(throttle.schedule(async () => 42)).resolves.toEqualTypeOf<
      Result<number, ProdError>
    >();
    const wrapped = throttle.wrap((a: string, b: number) => a.length + b);
    expectTypeOf(wrapped).parameters.toEqualTypeOf<[string, number]>();
  });

  it('route metadata is typed', () => {
    expectTypeOf(rateLimitPolicy({ cost: 2 })).toEqualTypeOf<RouteMeta>();
    expectTypeOf(rateLimitMeta.read({ meta: {} })).toEqualTypeOf<RouteRateLimit | undefined>();
    expectTypeOf(definePolicy({ name: 'p', limit: 1, window: 1000 })).toEqualTypeOf<Policy>();
    // @ts-expect-error an unknown algorithm
    definePolicy({ name: 'p', limit: 1, window: 1000, algorithm: 'leaky-bucket' });
  });

  it('brute force answers Results', () => {
    const guard = createBruteForce();
    expectTypeOf(guard.check('k')).resolves.toMatchTypeOf<Result<BruteForceStatus, ProdError>>();
  });
});
