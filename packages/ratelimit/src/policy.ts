import { optionChecks } from '@prod/core';
import { RateLimitErrors } from './errors.js';
import type { Algorithm, KeySource, KeySpec, Policy, PolicyOptions } from './types.js';

const check = optionChecks(RateLimitErrors.RATELIMIT_INVALID_OPTIONS);
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ALGORITHMS: readonly Algorithm[] = [
  'fixed-window',
  'sliding-window',
  'token-bucket',
  'concurrency',
];
const SOURCES: readonly KeySource[] = ['ip', 'user', 'api-key', 'route', 'global'];
/** One year: longer windows are a typo, and Redis TTLs would overflow timers in places. */
const MAX_WINDOW = 366 * 24 * 3600 * 1000;
const defined = new WeakSet<Policy>();

function checkKey(name: string, key: unknown): KeySpec {
  if (key === undefined) return 'ip';
  const one = (part: unknown): boolean =>
    typeof part === 'function' || (typeof part === 'string' && SOURCES.includes(part as KeySource));
  if (Array.isArray(key)) {
    if (key.length === 0 || !key.every(one)) {
      check.fail(`${name}.key`, `a non-empty list of ${SOURCES.join(', ')} or functions`, key);
    }
    return Object.freeze([...key]) as KeySpec;
  }
  if (!one(key))
    check.fail(`${name}.key`, `one of ${SOURCES.join(', ')}, a function or a list`, key);
  return key as KeySpec;
}

/**
 * Checks a policy and freezes it: a bad option throws `RATELIMIT_INVALID_OPTIONS` here, at
 * construction, never at the first request.
 *
 * @example
 * const perMinute = definePolicy({ name: 'per-minute', limit: 60, window: 60_000, key: 'ip' });
 * const burst = definePolicy({
 *   name: 'burst',
 *   algorithm: 'token-bucket',
 *   limit: 10,
 *   window: 1_000,
 *   burst: 20,
 * });
 */
export function definePolicy(options: PolicyOptions): Policy {
  if (typeof options !== 'object' || options === null) check.fail('policy', 'an object', options);
  const name = check.string('policy.name', options.name, '', { nonEmpty: true });
  if (!NAME.test(name)) {
    check.fail('policy.name', 'letters, digits, ".", "_" or "-" (at most 64)', name);
  }
  const algorithm = check.oneOf(`${name}.algorithm`, options.algorithm, ALGORITHMS, 'fixed-window');
  const limit = check.integer(`${name}.limit`, options.limit, Number.NaN, { min: 0 });
  if (Number.isNaN(limit)) check.fail(`${name}.limit`, 'an integer >= 0', undefined);
  let window = 0;
  if (algorithm !== 'concurrency') {
    window = check.integer(`${name}.window`, options.window, Number.NaN, {
      min: 1000,
      max: MAX_WINDOW,
    });
    if (Number.isNaN(window))
      check.fail(`${name}.window`, 'milliseconds (whole seconds)', undefined);
    if (window % 1000 !== 0) check.fail(`${name}.window`, 'whole seconds in milliseconds', window);
  } else if (options.window !== undefined) {
    check.fail(`${name}.window`, 'nothing for a concurrency policy', options.window);
  }
  const burst =
    algorithm === 'token-bucket'
      ? check.integer(`${name}.burst`, options.burst, limit, { min: 1 })
      : options.burst === undefined
        ? limit
        : check.fail(`${name}.burst`, 'nothing unless algorithm is token-bucket', options.burst);
  const blockDuration = check.duration(`${name}.blockDuration`, options.blockDuration, 0);
  if (blockDuration % 1000 !== 0 && algorithm === 'fixed-window') {
    check.fail(`${name}.blockDuration`, 'whole seconds in milliseconds', blockDuration);
  }
  const lease = check.duration(`${name}.lease`, options.lease, 60_000, { min: 1000 });
  const policy: Policy = Object.freeze({
    name,
    limit,
    window,
    algorithm,
    burst,
    key: checkKey(name, options.key),
    blockDuration,
    shadow: check.boolean(`${name}.shadow`, options.shadow, false),
    lease,
  });
  defined.add(policy);
  return policy;
}

/** The checked form of a policy given as options or already defined. */
export function toPolicy(policy: PolicyOptions | Policy): Policy {
  return defined.has(policy as Policy) ? (policy as Policy) : definePolicy(policy);
}
