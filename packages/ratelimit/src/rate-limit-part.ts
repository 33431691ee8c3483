import { BlockList, isIP } from 'node:net';
import {
  definePart,
  type EarlyResponse,
  type HttpRequest,
  type HttpResponse,
  isThenable,
  optionChecks,
  type Part,
  ProdError,
  RequestSlot,
  toHttpResponse,
} from '@prod/core';
import { RateLimitErrors } from './errors.js';
import { rateLimitHeaders } from './headers.js';
import { toPolicy } from './policy.js';
import { limiterInternals, type RateLimitError, type RateLimiter } from './rate-limiter.js';
import { rateLimitMeta } from './route-meta.js';
import type { Policy, RateLimitDecision } from './types.js';

/** A client matcher of an allow or deny list: an IP address, a CIDR range, or a function. */
export type ClientMatcher = string | ((request: HttpRequest) => boolean);

/** Options of {@link rateLimitPart}. */
export interface RateLimitPartOptions {
  /** The part's name. Default `ratelimit`. */
  readonly name?: string;
  /**
   * `draft` (the IETF `RateLimit-Policy` and `RateLimit` fields, the default), `legacy` (the
   * `X-RateLimit-*` trio), `both`, or `none`. `Retry-After` is always sent on a refusal.
   */
  readonly headers?: 'draft' | 'legacy' | 'both' | 'none';
  /**
   * `all` (the default): the limiter's policies apply to every request, framework routes and 404s
   * included; `routes`: only to part routes that declare `rateLimitPolicy(...)` in their meta.
   */
  readonly scope?: 'all' | 'routes';
  /** Clients never limited nor denied (no headers): addresses, CIDR ranges (`10.0.0.0/8`), functions. */
  readonly allow?: readonly ClientMatcher[];
  /** Clients refused with 403 `RATELIMIT_DENIED` before anything is counted (unless on the allow list). */
  readonly deny?: readonly ClientMatcher[];
  /** The cost of a request when its route declares none. Default 1. */
  readonly cost?: (request: HttpRequest) => number;
}

/** The problem type of the draft for a refusal over quota (429). */
export const QUOTA_EXCEEDED = 'https://iana.org/assignments/http-problem-types#quota-exceeded';
/** The problem type of the draft for a refusal under lowered limits (503). */
export const TEMPORARY_REDUCED_CAPACITY =
  'https://iana.org/assignments/http-problem-types#temporary-reduced-capacity';

const check = optionChecks(RateLimitErrors.RATELIMIT_INVALID_OPTIONS);
const NO_POLICIES: readonly Policy[] = Object.freeze([]);

interface Matchers {
  readonly list: BlockList | undefined;
  readonly functions: readonly ((request: HttpRequest) => boolean)[];
}

function matchers(name: string, given: readonly ClientMatcher[] | undefined): Matchers | undefined {
  if (given === undefined) return undefined;
  if (!Array.isArray(given))
    check.fail(name, 'a list of addresses, CIDR ranges or functions', given);
  let list: BlockList | undefined;
  const functions: ((request: HttpRequest) => boolean)[] = [];
  for (const entry of given) {
    if (typeof entry === 'function') {
      functions.push(entry);
      continue;
    }
    if (typeof entry !== 'string') check.fail(name, 'addresses, CIDR ranges or functions', entry);
    const [address = '', bits, extra] = entry.split('/');
    const family = isIP(address);
    const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
    if (
      family === 0 ||
      extra !== undefined ||
      !Number.isInteger(prefix) ||
      prefix < 0 ||
      prefix > (family === 6 ? 128 : 32)
    ) {
      check.fail(name, 'IP addresses or CIDR ranges', entry);
    }
    list ??= new BlockList();
    list.addSubnet(address, prefix, family === 6 ? 'ipv6' : 'ipv4');
  }
  return { list, functions };
}

function matches(found: Matchers | undefined, request: HttpRequest): boolean {
  if (found === undefined) return false;
  const ip = request.ip;
  if (found.list !== undefined && typeof ip === 'string') {
    const family = isIP(ip);
    if (family !== 0 && found.list.check(ip, family === 6 ? 'ipv6' : 'ipv4')) return true;
    // ::ffff:a.b.c.d is matched against the IPv4 ranges too
    if (family === 6 && ip.toLowerCase().startsWith('::ffff:') && isIP(ip.slice(7)) === 4) {
      if (found.list.check(ip.slice(7), 'ipv4')) return true;
    }
  }
  for (const fn of found.functions) if (fn(request) === true) return true;
  return false;
}

/** The problem response of a refusal: RFC 9457, with the draft's problem type and `violated-policies`. */
function refusal(decision: RateLimitDecision, request: HttpRequest): HttpResponse {
  const reduced = decision.outcome === 'reduced';
  const factory = reduced
    ? RateLimitErrors.RATELIMIT_REDUCED_CAPACITY
    : RateLimitErrors.RATELIMIT_EXCEEDED;
  const error = new ProdError({
    code: factory.code,
    status: factory.status,
    title: factory.title,
    retryable: true,
    message: reduced
      ? `Capacity is temporarily reduced: ${decision.violated.join(', ')}`
      : `Quota exceeded: ${decision.violated.join(', ')}`,
    retryAfterMs: decision.retryAfterMs,
    type: reduced ? TEMPORARY_REDUCED_CAPACITY : QUOTA_EXCEEDED,
    captureStack: false,
  });
  const response = toHttpResponse(error, request);
  return {
    ...response,
    body: { ...(response.body as Record<string, unknown>), 'violated-policies': decision.violated },
  };
}

/**
 * The rate limiter over HTTP, for any adapter (@prod/express, @prod/fastify, @prod/koa):
 * decides in `onRequest` (answering 429 `quota-exceeded`, 503 `temporary-reduced-capacity`, or
 * 403 for the deny list, each as `application/problem+json`), writes `RateLimit-Policy`,
 * `RateLimit` (and `Retry-After` on a refusal) in `onSend` on every response of a limited
 * request, 2xx included, and frees concurrency slots in `onResponse`. Routes declare their own
 * policies and costs with {@link rateLimitPolicy}. Mount it early (before auth-heavy parts) so
 * refusals cost little; an auth part that sets `currentContext().actor` must come before it
 * for `user` keys and tiers.
 *
 * @example
 * const limiter = createRateLimiter({
 *   policies: [{ name: 'per-minute', limit: 60, window: 60_000, key: 'ip' }],
 * });
 * const part = rateLimitPart(limiter, { headers: 'draft', allow: ['127.0.0.1'] });
 */
export function rateLimitPart(limiter: RateLimiter, options: RateLimitPartOptions = {}): Part {
  const internals = limiterInternals(limiter);
  if (internals === undefined)
    check.fail('limiter', 'a limiter made by createRateLimiter()', limiter);
  check.object('options', options);
  const name = check.string('name', options.name, 'ratelimit', { nonEmpty: true });
  const headers = check.oneOf(
    'headers',
    options.headers,
    ['draft', 'legacy', 'both', 'none'],
    'draft',
  );
  const scope = check.oneOf('scope', options.scope, ['all', 'routes'], 'all');
  const allow = matchers('allow', options.allow);
  const deny = matchers('deny', options.deny);
  const costOf = check.fn<(request: HttpRequest) => number>('cost', options.cost);
  const headerOptions = {
    standard: headers === 'draft' || headers === 'both',
    legacy: headers === 'legacy' || headers === 'both',
  };
  const decided = new RequestSlot<RateLimitDecision>(`${name} decision`);
  const compiled = new WeakMap<object, readonly Policy[]>();
  const decide = internals?.decideRequest as NonNullable<typeof internals>['decideRequest'];

  const routePolicies = (list: readonly unknown[] | undefined): readonly Policy[] => {
    if (list === undefined || list.length === 0) return NO_POLICIES;
    let found = compiled.get(list);
    if (found === undefined) {
      found = Object.freeze(list.map((one) => toPolicy(one as Policy)));
      compiled.set(list, found);
    }
    return found;
  };

  const conclude = (
    request: HttpRequest,
    outcome: RateLimitDecision | RateLimitError,
  ): EarlyResponse => {
    if (!('allowed' in outcome)) {
      // The store failed and the limiter was told not to fall back: a 503, retry in a second.
      return toHttpResponse(
        RateLimitErrors.RATELIMIT_STORE_UNAVAILABLE({
          retryAfterMs: 1000,
          cause: outcome,
          captureStack: false,
        }),
        request,
      );
    }
    decided.set(request, outcome);
    return outcome.allowed ? undefined : refusal(outcome, request);
  };

  return definePart({
    name,
    onRequest(request) {
      // An allow entry wins over a deny entry: deny a range, allow the few inside it.
      if (matches(allow, request)) return undefined;
      if (matches(deny, request)) {
        return toHttpResponse(RateLimitErrors.RATELIMIT_DENIED({ captureStack: false }), request);
      }
      const meta = rateLimitMeta.read(request);
      if (meta?.skip === true) return undefined;
      const own = routePolicies(meta?.policies);
      const base =
        meta?.replace === true || (scope === 'routes' && meta === undefined)
          ? NO_POLICIES
          : limiter.policies;
      const policies = own.length === 0 ? base : base.length === 0 ? own : [...base, ...own];
      if (policies.length === 0) return undefined;
      const cost = meta?.cost ?? (costOf === undefined ? 1 : costOf(request));
      if (!Number.isSafeInteger(cost) || cost < 1) {
        throw RateLimitErrors.RATELIMIT_INVALID_COST({
          message: 'the cost must be an integer >= 1',
        });
      }
      const outcome = decide(request, policies, cost);
      return isThenable(outcome)
        ? (outcome as Promise<RateLimitDecision | RateLimitError>).then((settled) =>
            conclude(request, settled),
          )
        : conclude(request, outcome as RateLimitDecision | RateLimitError);
    },
    onSend(request, response) {
      const decision = decided.get(request);
      if (decision === undefined) return undefined;
      const extra = rateLimitHeaders(decision, headerOptions);
      if (!('retry-after' in extra) && Object.keys(extra).length === 0) return undefined;
      return { ...response, headers: { ...response.headers, ...extra } };
    },
    onResponse(request) {
      decided.take(request)?.release();
    },
  });
}
