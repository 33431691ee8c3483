import { defineRouteMeta, optionChecks, type RouteMeta, type RouteMetaKey } from '@prod/core';
import { RateLimitErrors } from './errors.js';
import { toPolicy } from './policy.js';
import type { Policy, PolicyOptions } from './types.js';

/** What a route declares about its rate limits. */
export interface RouteRateLimit {
  /** Policies of this route, beside the limiter's own (or instead, with `replace`). */
  readonly policies?: readonly (PolicyOptions | Policy)[];
  /** Apply only this route's `policies`, not the limiter's. Default false. */
  readonly replace?: boolean;
  /** Units one request to this route costs (an export counts 10). Default 1. */
  readonly cost?: number;
  /** Do not limit this route at all (no headers either). Default false. */
  readonly skip?: boolean;
}

/**
 * The route metadata key of @prod/ratelimit (`@prod/ratelimit/policy`): the rate-limit part
 * reads it on every request. Prefer {@link rateLimitPolicy}, which checks what you declare when
 * the route is defined.
 */
export const rateLimitMeta: RouteMetaKey<RouteRateLimit> =
  defineRouteMeta<RouteRateLimit>('@prod/ratelimit/policy');

const check = optionChecks(RateLimitErrors.RATELIMIT_INVALID_OPTIONS);

/**
 * A route's rate limits, checked now (a bad policy throws `RATELIMIT_INVALID_OPTIONS` when the
 * route is defined, not at its first request): spread it into the route's `meta`.
 *
 * @example
 * const notes = definePart({
 *   name: 'notes',
 *   routes: [
 *     {
 *       method: 'POST',
 *       path: '/v1/notes',
 *       meta: rateLimitPolicy({ policies: [{ name: 'notes-write', limit: 60, window: 60_000, key: 'api-key' }] }),
 *       handler: () => json(201, { id: '1' }),
 *     },
 *     { method: 'GET', path: '/v1/export', meta: rateLimitPolicy({ cost: 10 }), handler: () => json(200, []) },
 *   ],
 * });
 */
export function rateLimitPolicy(options: RouteRateLimit): RouteMeta {
  check.object('options', options);
  if (options.policies !== undefined && !Array.isArray(options.policies)) {
    check.fail('policies', 'a list of policies', options.policies);
  }
  const policies = (options.policies ?? []).map(toPolicy);
  const names = new Set(policies.map((policy) => policy.name));
  if (names.size !== policies.length) check.fail('policies', 'unique policy names', 'a duplicate');
  return rateLimitMeta(
    Object.freeze({
      policies: Object.freeze(policies),
      replace: check.boolean('replace', options.replace, false),
      cost: check.integer('cost', options.cost, 1, { min: 1 }),
      skip: check.boolean('skip', options.skip, false),
    }),
  );
}
