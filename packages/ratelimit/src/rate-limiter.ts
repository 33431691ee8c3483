import { createHash, randomUUID } from 'node:crypto';
import {
  currentContext,
  err,
  type HttpRequest,
  isThenable,
  ok,
  optionChecks,
  type ProdError,
  type Result,
} from '@prod/core';
import { clientIp } from './client-ip.js';
import { RateLimitErrors } from './errors.js';
import { type FixedWindowResult, fixedWindowAnswer } from './internal/fixed-window.js';
import { registerSource } from './internal/metrics.js';
import { PressureMonitor, type PressureOptions } from './internal/pressure.js';
import {
  isEngine,
  type MaybePromise,
  type StoreAnswer,
  type StoreCall,
  type StoreEngine,
} from './internal/store.js';
import {
  isFlexibleRefusal,
  MemoryEngine,
  memoryStore,
  type RateLimitStore,
} from './memory-store.js';
import { toPolicy } from './policy.js';
import { reportStoreHealth, storePrefix } from './redis-store.js';
import type {
  KeySource,
  KeySpec,
  MetricsTarget,
  Policy,
  PolicyOptions,
  PolicyState,
  RateLimitDecision,
} from './types.js';

export type { PressureOptions } from './internal/pressure.js';

/** Limits per tier, by policy name: `{ free: { 'per-minute': 60 }, pro: { 'per-minute': 600 } }`. `Infinity`: not limited. */
export type TierLimits = Readonly<Record<string, Readonly<Record<string, number>>>>;

/** Options of {@link createRateLimiter}. */
export interface RateLimiterOptions {
  /** Names the limiter in metrics. Default `default`. */
  readonly name?: string;
  /** Where counters live. Default `memoryStore()`. */
  readonly store?: RateLimitStore;
  /**
   * The policies every decision applies (routes may add their own through route metadata);
   * the tightest decides. Names must be unique.
   */
  readonly policies?: readonly (PolicyOptions | Policy)[];
  /** Limits that replace the policies' own for a tier. */
  readonly tiers?: TierLimits;
  /**
   * The tier of a request. Default: the `tier` of `currentContext()?.actor` when it is a string
   * (any auth part that sets an actor with a tier), else `defaultTier`.
   */
  readonly tier?: (request: HttpRequest | undefined) => string | undefined;
  /** The tier of a client whose tier is unknown. Default: none (the policies' own limits). */
  readonly defaultTier?: string;
  /**
   * What happens when the store fails or passes its timeout: `insurance` (the store's insurance
   * limiter decides; the default when it has one), `allow` (let the request through, flagged
   * `degraded`), or `error` (a `RATELIMIT_STORE_UNAVAILABLE` failure: 503 over HTTP; the default
   * when the store has no insurance).
   */
  readonly onStoreError?: 'insurance' | 'allow' | 'error';
  /** Evaluate and count every policy, refuse nothing (safe rollout). Default false. */
  readonly shadow?: boolean;
  /** Lower every limit while the process is under pressure, answering 503 over the lowered ones. */
  readonly pressure?: PressureOptions;
  /**
   * The header an `api-key` policy reads when the request context's actor has no `keyId` (an
   * authentication part such as @prod/security's sets one for a verified key, which wins).
   * Without authentication, a client can change this header to get a new bucket: pair it with
   * an `ip` policy. Default `x-api-key`.
   */
  readonly apiKeyHeader?: string;
  /** How many leading bits of an IPv6 address make one `ip` key. Default 64. */
  readonly ipv6Subnet?: number;
  /**
   * Remember refused keys in this process until their retry time, and refuse them without a
   * store round trip (Redis only; counts stay exact, a refusal is never turned into an
   * admission). Default true.
   */
  readonly denyCache?: boolean;
  /** Where metrics go (`createMetrics()` of @prod/metrics fits). */
  readonly metrics?: MetricsTarget;
}

/** Per-call options of {@link RateLimiter.consume}. */
export interface ConsumeOptions {
  /** Units this request costs (a batch of 10 counts 10). Default 1. */
  readonly cost?: number;
  /** The tier, instead of the limiter's `tier` function. */
  readonly tier?: string;
  /** Policies to apply instead of (`replace: true`) or beside the limiter's own. */
  readonly policies?: readonly (PolicyOptions | Policy)[];
  /** Apply only `policies`, not the limiter's own. Default false. */
  readonly replace?: boolean;
}

/** The failures a decision returns (a refusal is not one: it is a decision). */
export type RateLimitError = ProdError<
  | 'RATELIMIT_STORE_UNAVAILABLE'
  | 'RATELIMIT_INVALID_KEY'
  | 'RATELIMIT_INVALID_COST'
  | 'RATELIMIT_INVALID_OPTIONS'
>;

/** A limiter: a set of policies over one store. */
export interface RateLimiter {
  readonly name: string;
  readonly policies: readonly Policy[];
  readonly store: RateLimitStore;
  /**
   * Decides for `key`: one key for every policy, or one per policy name (a policy without a key
   * there does not apply). Never refuses by rejecting: a refusal is `decision.allowed === false`.
   *
   * @returns `Ok` with the decision, or `Err` `RATELIMIT_STORE_UNAVAILABLE` (store down and
   *   `onStoreError: 'error'`), `RATELIMIT_INVALID_KEY`, `RATELIMIT_INVALID_COST`,
   *   `RATELIMIT_INVALID_OPTIONS` (a bad per-call policy).
   */
  consume(
    key: string | Readonly<Record<string, string>>,
    options?: ConsumeOptions,
  ): Promise<Result<RateLimitDecision, RateLimitError>>;
  /** Decides for an HTTP request, each policy reading its key from the request (what the part does). */
  check(
    request: HttpRequest,
    options?: ConsumeOptions,
  ): Promise<Result<RateLimitDecision, RateLimitError>>;
  /** Forgets the counts of `key` (every policy, or the one named). */
  reset(key: string, policy?: string): Promise<Result<void, RateLimitError>>;
  /** Whether the limits are lowered now (see `pressure`). */
  readonly underPressure: boolean;
  /** Reads the pressure signals now (they are also read on a timer). */
  samplePressure(): boolean;
  /** Stops the pressure timer and unregisters metrics (the store is yours to close). */
  close(): Promise<void>;
}

/** The internals the HTTP part drives (synchronous when the store answers synchronously). */
export interface LimiterInternals {
  decideRequest(
    request: HttpRequest,
    policies: readonly Policy[],
    cost: number,
  ): MaybePromise<RateLimitDecision | RateLimitError>;
}

const INTERNALS = Symbol.for('@prod/ratelimit/limiter-internals');

/** The internals of a limiter made by {@link createRateLimiter}. */
export function limiterInternals(limiter: RateLimiter): LimiterInternals | undefined {
  return (limiter as unknown as { [INTERNALS]?: LimiterInternals })[INTERNALS];
}

const check = optionChecks(RateLimitErrors.RATELIMIT_INVALID_OPTIONS);
const NO_NAMES: readonly string[] = Object.freeze([]);
const NO_OPTIONS: ConsumeOptions = Object.freeze({});
// A shared empty list, never pushed to (checked by identity before any push).
const EMPTY: string[] = [];
const NOOP = (): void => {};
const OUTCOMES = ['allowed', 'limited', 'reduced', 'shadow_limited'] as const;
const TIMED_OUT = Symbol('timed out');
const MAX_KEY = 128;

interface Counters {
  readonly decisions: Map<string, number[]>;
  degraded: number;
  storeErrors: number;
  storeTimeouts: number;
}

interface Planned {
  readonly call: StoreCall;
  readonly policy: Policy;
  readonly shadow: boolean;
}

/**
 * The one policy of a limiter that needs nothing else per decision (memory store, no tiers, no
 * pressure): `consume` with a plain key decides it without planning, and admissions, nearly every
 * decision, allocate only what they return. Refusals and failures take the general path's code.
 */
interface FastPath {
  readonly policy: Policy;
  readonly engine: MemoryEngine;
  /** The storage key prefix: the store's, then the policy's name. */
  readonly prefix: string;
  readonly shadow: boolean;
  readonly fixed: boolean;
  /** The policy's decision counters, once the first decision made them. */
  counts: number[] | undefined;
  /** A fixed window's admission, from rate-limiter-flexible's counters or its promise. */
  readonly admitted: (res: FixedWindowResult) => Result<RateLimitDecision, RateLimitError>;
}

type Subject =
  | { readonly kind: 'request'; readonly request: HttpRequest }
  | { readonly kind: 'key'; readonly key: string | Readonly<Record<string, string>> };

class Limiter implements RateLimiter {
  readonly name: string;
  readonly policies: readonly Policy[];
  readonly store: RateLimitStore;
  readonly [INTERNALS]: LimiterInternals;
  readonly #engine: StoreEngine;
  readonly #prefix: string;
  readonly #tiers: TierLimits;
  readonly #tier: ((request: HttpRequest | undefined) => string | undefined) | undefined;
  readonly #defaultTier: string | undefined;
  readonly #noTiers: boolean;
  readonly #keyPrefixes = new WeakMap<Policy, string>();
  readonly #onStoreError: 'insurance' | 'allow' | 'error';
  readonly #shadow: boolean;
  readonly #pressure: PressureMonitor | undefined;
  readonly #apiKeyHeader: string;
  readonly #ipv6Subnet: number;
  readonly #denyCache: Map<string, number> | undefined;
  readonly #hashes = new Map<string, string>();
  readonly #counters: Counters = {
    decisions: new Map(),
    degraded: 0,
    storeErrors: 0,
    storeTimeouts: 0,
  };
  readonly #unregister: () => void;
  readonly #fast: FastPath | undefined;

  constructor(options: RateLimiterOptions) {
    check.object('options', options);
    this.name = check.string('name', options.name, 'default', { nonEmpty: true });
    const store = options.store ?? memoryStore();
    if (!isEngine(store))
      check.fail('store', 'a store made by memoryStore() or redisStore()', store);
    this.store = store;
    this.#engine = store as unknown as StoreEngine;
    this.#prefix = storePrefix(store);
    if (options.policies !== undefined && !Array.isArray(options.policies)) {
      check.fail('policies', 'a list of policies', options.policies);
    }
    const policies = (options.policies ?? []).map(toPolicy);
    const names = new Set<string>();
    for (const policy of policies) {
      if (names.has(policy.name)) check.fail('policies', 'unique policy names', policy.name);
      names.add(policy.name);
    }
    this.policies = Object.freeze(policies);
    this.#tiers = checkTiers(options.tiers);
    this.#tier = check.fn('tier', options.tier);
    this.#noTiers = Object.keys(this.#tiers).length === 0;
    this.#defaultTier =
      options.defaultTier === undefined
        ? undefined
        : check.string('defaultTier', options.defaultTier, '');
    if (this.#defaultTier !== undefined && this.#tiers[this.#defaultTier] === undefined) {
      check.fail(
        'defaultTier',
        `one of the tiers (${Object.keys(this.#tiers).join(', ')})`,
        this.#defaultTier,
      );
    }
    const hasInsurance = this.#engine.insurance !== undefined;
    this.#onStoreError = check.oneOf(
      'onStoreError',
      options.onStoreError,
      ['insurance', 'allow', 'error'],
      hasInsurance ? 'insurance' : 'error',
    );
    if (this.#onStoreError === 'insurance' && !hasInsurance && this.#engine.kind !== 'memory') {
      check.fail(
        'onStoreError',
        '"allow" or "error" for a store made with insurance: false',
        'insurance',
      );
    }
    this.#shadow = check.boolean('shadow', options.shadow, false);
    this.#apiKeyHeader = check
      .string('apiKeyHeader', options.apiKeyHeader, 'x-api-key', { nonEmpty: true })
      .toLowerCase();
    this.#ipv6Subnet = check.integer('ipv6Subnet', options.ipv6Subnet, 64, { min: 1, max: 128 });
    const denyCache = check.boolean('denyCache', options.denyCache, true);
    this.#denyCache = denyCache && this.#engine.kind === 'redis' ? new Map() : undefined;
    if (options.pressure !== undefined) {
      const pressure = check.object<PressureOptions>('pressure', options.pressure);
      const reduceTo = check.number('pressure.reduceTo', pressure.reduceTo, 0.5, { max: 1 });
      const interval = check.duration('pressure.interval', pressure.interval, 1000, { min: 10 });
      if (pressure.maxEventLoopDelay !== undefined) {
        check.number('pressure.maxEventLoopDelay', pressure.maxEventLoopDelay, 0, {
          exclusiveMin: true,
        });
      }
      if (pressure.maxHeapUsedRatio !== undefined) {
        check.number('pressure.maxHeapUsedRatio', pressure.maxHeapUsedRatio, 0, {
          exclusiveMin: true,
          max: 1,
        });
      }
      check.fn('pressure.signal', pressure.signal);
      this.#pressure = new PressureMonitor(pressure, reduceTo, interval, NOOP);
      this.#pressure.start();
    }
    this.#unregister =
      options.metrics === undefined
        ? NOOP
        : registerSource(options.metrics, 'ratelimit', this.name, this, LIMITER_METRICS);
    this.#fast = this.#fastPath();
    this[INTERNALS] = {
      decideRequest: (request, policies, cost) =>
        this.#decide({ kind: 'request', request }, policies, cost, undefined),
    };
  }

  /** The counters the metrics collectors read. */
  get counters(): Counters {
    return this.#counters;
  }

  get underPressure(): boolean {
    return this.#pressure?.active === true;
  }

  samplePressure(): boolean {
    return this.#pressure?.sample() ?? false;
  }

  consume(
    key: string | Readonly<Record<string, string>>,
    options: ConsumeOptions = NO_OPTIONS,
  ): Promise<Result<RateLimitDecision, RateLimitError>> {
    const fast = this.#fast;
    if (
      fast !== undefined &&
      typeof key === 'string' &&
      key !== '' &&
      key.length <= MAX_KEY &&
      options.policies === undefined &&
      options.tier === undefined
    ) {
      const cost = options.cost ?? 1;
      if (Number.isSafeInteger(cost) && cost >= 1) return this.#consumeFast(fast, key, cost);
    }
    if (!validKey(key)) {
      return Promise.resolve(
        err(
          RateLimitErrors.RATELIMIT_INVALID_KEY({
            message: 'the key must be a non-empty string, or a record of them by policy name',
            captureStack: false,
          }),
        ),
      );
    }
    return this.#run({ kind: 'key', key }, options);
  }

  check(
    request: HttpRequest,
    options: ConsumeOptions = NO_OPTIONS,
  ): Promise<Result<RateLimitDecision, RateLimitError>> {
    return this.#run({ kind: 'request', request }, options);
  }

  // Not async: one `then` on the store's own promise is the only promise a memory decision adds.
  #run(
    subject: Subject,
    options: ConsumeOptions,
  ): Promise<Result<RateLimitDecision, RateLimitError>> {
    const cost = options.cost ?? 1;
    if (!Number.isSafeInteger(cost) || cost < 1) {
      return Promise.resolve(
        err(
          RateLimitErrors.RATELIMIT_INVALID_COST({
            message: 'the cost must be an integer >= 1',
            captureStack: false,
          }),
        ),
      );
    }
    let policies = this.policies;
    if (options.policies !== undefined) {
      let extra: Policy[];
      try {
        extra = options.policies.map(toPolicy);
      } catch (error) {
        return Promise.resolve(err(error as RateLimitError));
      }
      policies = options.replace === true ? extra : [...this.policies, ...extra];
    }
    const decided = this.#decide(subject, policies, cost, options.tier, true);
    return isThenable(decided)
      ? (decided as Promise<unknown>).then(toResultOnce)
      : Promise.resolve(toResult(decided as RateLimitDecision | RateLimitError));
  }

  async reset(key: string, policy?: string): Promise<Result<void, RateLimitError>> {
    if (typeof key !== 'string' || key === '') {
      return err(
        RateLimitErrors.RATELIMIT_INVALID_KEY({ message: 'the key must be a non-empty string' }),
      );
    }
    const identity = this.#identity(key);
    try {
      for (const one of this.policies) {
        if (policy !== undefined && one.name !== policy) continue;
        const storageKey = `${this.#prefix}${one.name}:${identity}`;
        this.#denyCache?.delete(storageKey);
        await this.#engine.reset(storageKey, one);
        await this.#engine.insurance?.store.reset(storageKey, one);
      }
      return ok();
    } catch (error) {
      return err(RateLimitErrors.RATELIMIT_STORE_UNAVAILABLE({ cause: error }));
    }
  }

  async close(): Promise<void> {
    this.#pressure?.stop();
    this.#unregister();
  }

  // --- the single-policy path ---------------------------------------------------------------

  #fastPath(): FastPath | undefined {
    const engine = this.#engine;
    const policy = this.policies[0];
    if (
      this.policies.length !== 1 ||
      policy === undefined ||
      !(engine instanceof MemoryEngine) ||
      !this.#noTiers ||
      this.#pressure !== undefined ||
      this.#denyCache !== undefined ||
      policy.algorithm === 'concurrency' ||
      policy.limit === 0
    ) {
      return undefined;
    }
    const { limit, window } = policy;
    const fast: FastPath = {
      policy,
      engine,
      prefix: this.#keyPrefix(policy),
      shadow: this.#shadow || policy.shadow,
      fixed: policy.algorithm === 'fixed-window',
      counts: undefined,
      // What fixedWindowAnswer and #finish make of an admission, without the answer between.
      admitted: (res) =>
        ok(
          this.#admit(
            fast,
            Math.max(0, limit - res.consumedPoints),
            res.msBeforeNext < 0 ? window : res.msBeforeNext,
          ),
        ),
    };
    return fast;
  }

  #consumeFast(
    fast: FastPath,
    key: string,
    cost: number,
  ): Promise<Result<RateLimitDecision, RateLimitError>> {
    const { policy } = fast;
    const storageKey = fast.prefix + key;
    if (fast.fixed) {
      let res: FixedWindowResult | undefined;
      try {
        res = fast.engine.fixedConsumeNow(policy, policy.limit, storageKey, cost);
      } catch (error) {
        return Promise.resolve(this.#fastFailed(fast, fastCall(policy, storageKey, cost), error));
      }
      if (res !== undefined) {
        // The one promise of the decision, as rate-limiter-flexible's consume makes one.
        return Promise.resolve(
          res.consumedPoints <= policy.limit
            ? fast.admitted(res)
            : this.#fastRefused(fast, fastCall(policy, storageKey, cost), res),
        );
      }
      // A rate-limiter-flexible without the storage read here: through its promise.
      const call = fastCall(policy, storageKey, cost);
      let pending: Promise<FixedWindowResult>;
      try {
        pending = fast.engine.fixedConsume(call);
      } catch (error) {
        return Promise.resolve(this.#fastFailed(fast, call, error));
      }
      return pending.then(fast.admitted, (rejection: unknown) =>
        isFlexibleRefusal(rejection)
          ? this.#fastRefused(fast, call, rejection)
          : this.#fastFailed(fast, call, rejection),
      );
    }
    const call = fastCall(policy, storageKey, cost);
    let answer: StoreAnswer;
    try {
      answer = fast.engine.consume(call) as StoreAnswer;
    } catch (error) {
      return Promise.resolve(this.#fastFailed(fast, call, error));
    }
    return Promise.resolve(
      answer.allowed
        ? ok(this.#admit(fast, answer.remaining, answer.resetMs))
        : this.#fastFinish(fast, call, answer),
    );
  }

  /** An admission of the single policy: what #finish makes of one allowed answer. */
  #admit(fast: FastPath, remaining: number, resetMs: number): RateLimitDecision {
    const { policy } = fast;
    const counts = fast.counts;
    if (counts === undefined) {
      this.#count(policy.name, 0);
      fast.counts = this.#counters.decisions.get(policy.name);
    } else {
      counts[0] = (counts[0] ?? 0) + 1;
    }
    return decision(
      true,
      'allowed',
      [
        {
          name: policy.name,
          algorithm: policy.algorithm,
          limit: policy.limit,
          window: policy.window,
          remaining,
          resetMs: Math.max(0, Math.ceil(resetMs)),
          exceeded: false,
          shadow: fast.shadow,
        },
      ],
      NO_NAMES,
      NO_NAMES,
      0,
      false,
      undefined,
      NOOP,
    );
  }

  #fastRefused(
    fast: FastPath,
    call: StoreCall,
    res: FixedWindowResult,
  ): Result<RateLimitDecision, RateLimitError> {
    return this.#fastFinish(fast, call, fixedWindowAnswer(res, call, false));
  }

  #fastFinish(
    fast: FastPath,
    call: StoreCall,
    answer: StoreAnswer,
  ): Result<RateLimitDecision, RateLimitError> {
    return ok(
      this.#finish(
        [{ call, policy: fast.policy, shadow: fast.shadow }],
        [answer],
        false,
        undefined,
      ),
    );
  }

  #fastFailed(
    fast: FastPath,
    call: StoreCall,
    error: unknown,
  ): Result<RateLimitDecision, RateLimitError> {
    // A memory store has no insurance: the fallback answers at once.
    const failed = this.#failed(
      [{ call, policy: fast.policy, shadow: fast.shadow }],
      undefined,
      error,
    ) as RateLimitDecision | RateLimitError;
    return toResult(failed);
  }

  // --- the decision ------------------------------------------------------------------------

  #tierOf(subject: Subject, given: string | undefined): string | undefined {
    if (given !== undefined) return given;
    if (this.#noTiers) return undefined;
    const request = subject.kind === 'request' ? subject.request : undefined;
    const found = this.#tier !== undefined ? this.#tier(request) : actorTier();
    return found !== undefined && this.#tiers[found] !== undefined ? found : this.#defaultTier;
  }

  #keyPrefix(policy: Policy): string {
    let prefix = this.#keyPrefixes.get(policy);
    if (prefix === undefined) {
      prefix = `${this.#prefix}${policy.name}:`;
      this.#keyPrefixes.set(policy, prefix);
    }
    return prefix;
  }

  #identity(raw: string): string {
    if (raw.length <= MAX_KEY) return raw;
    return this.#hash(raw);
  }

  #hash(raw: string): string {
    let hashed = this.#hashes.get(raw);
    if (hashed === undefined) {
      hashed = `h:${createHash('sha256').update(raw).digest('base64url').slice(0, 22)}`;
      if (this.#hashes.size >= 10_000) this.#hashes.clear();
      this.#hashes.set(raw, hashed);
    }
    return hashed;
  }

  #source(
    request: HttpRequest,
    source: KeySource | ((request: HttpRequest) => string | undefined),
  ): string | undefined {
    switch (source) {
      case 'ip':
        return clientIp(request.ip, this.#ipv6Subnet);
      case 'user':
        return currentContext()?.actor?.id;
      case 'api-key': {
        // A key an authentication part verified (its actor's `keyId`, as @prod/security sets
        // it) first: it covers keys sent as `Bearer` too, and made-up keys never reach here.
        const keyId = (currentContext()?.actor as { readonly keyId?: unknown } | undefined)?.keyId;
        if (typeof keyId === 'string' && keyId !== '') return `key:${keyId}`;
        const value = request.headers[this.#apiKeyHeader];
        return value === undefined || value === '' ? undefined : this.#hash(value);
      }
      case 'route':
        return `${request.method} ${request.route ?? '_unmatched'}`;
      case 'global':
        return '*';
      default: {
        const value = source(request);
        if (value === undefined) return undefined;
        if (typeof value !== 'string' || value === '') {
          throw RateLimitErrors.RATELIMIT_INVALID_KEY({
            message: 'a key function returned something other than a non-empty string or undefined',
          });
        }
        return value;
      }
    }
  }

  #keyOf(subject: Subject, policy: Policy): string | undefined {
    if (subject.kind === 'key') {
      const key = typeof subject.key === 'string' ? subject.key : subject.key[policy.name];
      return key === undefined ? undefined : this.#identity(key);
    }
    const spec: KeySpec = policy.key;
    if (!Array.isArray(spec)) {
      const one = this.#source(subject.request, spec as KeySource);
      return one === undefined ? undefined : this.#identity(one);
    }
    let joined = '';
    for (const part of spec as readonly (
      | KeySource
      | ((request: HttpRequest) => string | undefined)
    )[]) {
      const one = this.#source(subject.request, part);
      if (one === undefined) return undefined;
      joined = joined === '' ? one : `${joined}|${one}`;
    }
    return this.#identity(joined);
  }

  #decide(
    subject: Subject,
    policies: readonly Policy[],
    cost: number,
    givenTier: string | undefined,
    wrap = false,
  ): MaybePromise<RateLimitDecision | RateLimitError> {
    const tier = this.#tierOf(subject, givenTier);
    const limits = tier === undefined ? undefined : this.#tiers[tier];
    const planned: Planned[] = [];
    let id: string | undefined;
    for (const policy of policies) {
      let identity: string | undefined;
      try {
        identity = this.#keyOf(subject, policy);
      } catch (error) {
        return error as RateLimitError;
      }
      if (identity === undefined) continue;
      const limit = limits?.[policy.name] ?? policy.limit;
      if (limit === Number.POSITIVE_INFINITY) continue;
      const concurrency = policy.algorithm === 'concurrency';
      if (concurrency) id ??= randomUUID();
      planned.push({
        call: {
          policy,
          key: this.#keyPrefix(policy) + identity,
          limit,
          burst:
            limit === policy.limit
              ? policy.burst
              : Math.max(1, Math.round((policy.burst * limit) / Math.max(1, policy.limit))),
          cost: concurrency ? 1 : cost,
          id: id ?? '',
        },
        policy,
        shadow: this.#shadow || policy.shadow,
      });
    }
    if (planned.length === 0) return this.#finish(planned, [], false, tier);
    const cached = this.#fromDenyCache(planned, tier);
    if (cached !== undefined) return cached;
    const engine = this.#engine;
    if (!engine.ready()) return this.#fallback(planned, tier);
    let answers: MaybePromise<StoreAnswer>[];
    try {
      answers = planned.map((one) => engine.consume(one.call));
    } catch (error) {
      return this.#failed(planned, tier, error);
    }
    if (!answers.some(isThenable))
      return this.#finish(planned, answers as StoreAnswer[], false, tier);
    if (!Number.isFinite(engine.timeout)) {
      // Memory: nothing to time out, and a single policy needs no Promise.all.
      if (answers.length === 1) {
        // One promise hop past the store's own: the caller's Result is made here when asked for.
        return (answers[0] as Promise<StoreAnswer>).then(
          (answer) => {
            const decided = this.#finish(planned, [answer], false, tier);
            return (wrap ? ok(decided) : decided) as RateLimitDecision;
          },
          (error: unknown) => {
            const failed = this.#failed(planned, tier, error);
            return (
              wrap && !isThenable(failed) ? toResult(failed as RateLimitDecision) : failed
            ) as RateLimitDecision;
          },
        );
      }
      return Promise.all(answers).then(
        (all) => this.#finish(planned, all, false, tier),
        (error: unknown) => this.#failed(planned, tier, error),
      );
    }
    return this.#await(planned, answers, tier);
  }

  async #await(
    planned: readonly Planned[],
    answers: readonly MaybePromise<StoreAnswer>[],
    tier: string | undefined,
  ): Promise<RateLimitDecision | RateLimitError> {
    const engine = this.#engine;
    const all = Promise.all(answers);
    let timer: NodeJS.Timeout | undefined;
    const deadline =
      Number.isFinite(engine.timeout) &&
      new Promise<typeof TIMED_OUT>((resolve) => {
        timer = setTimeout(resolve, engine.timeout, TIMED_OUT);
      });
    try {
      const settled = deadline === false ? await all : await Promise.race([all, deadline]);
      if (settled === TIMED_OUT) {
        all.catch(NOOP);
        this.#counters.storeTimeouts += 1;
        reportStoreHealth(engine, false);
        return this.#fallback(planned, tier);
      }
      if (engine.kind === 'redis') reportStoreHealth(engine, true);
      return this.#finish(planned, settled, false, tier);
    } catch (error) {
      return this.#failed(planned, tier, error);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  #failed(
    planned: readonly Planned[],
    tier: string | undefined,
    error: unknown,
  ): MaybePromise<RateLimitDecision | RateLimitError> {
    this.#counters.storeErrors += 1;
    reportStoreHealth(this.#engine, false);
    return this.#fallback(planned, tier, error);
  }

  #fallback(
    planned: readonly Planned[],
    tier: string | undefined,
    cause?: unknown,
  ): MaybePromise<RateLimitDecision | RateLimitError> {
    const insurance = this.#engine.insurance;
    if (
      this.#onStoreError === 'error' ||
      (this.#onStoreError === 'insurance' && insurance === undefined)
    ) {
      return RateLimitErrors.RATELIMIT_STORE_UNAVAILABLE({
        message: 'the rate limit store failed or timed out',
        cause,
        captureStack: false,
      });
    }
    this.#counters.degraded += 1;
    if (this.#onStoreError === 'allow' || insurance === undefined)
      return this.#finish([], [], true, tier);
    const local = planned.map((one) => ({
      ...one,
      call: {
        ...one.call,
        limit: Math.ceil(one.call.limit / insurance.divisor),
        burst: Math.max(1, Math.ceil(one.call.burst / insurance.divisor)),
      },
    }));
    const answers = local.map((one) => insurance.store.consume(one.call));
    if (!answers.some(isThenable))
      return this.#finish(local, answers as StoreAnswer[], true, tier, insurance.store);
    return Promise.all(answers).then(
      (settled) => this.#finish(local, settled, true, tier, insurance.store),
      (error: unknown) =>
        RateLimitErrors.RATELIMIT_STORE_UNAVAILABLE({
          message: 'the insurance limiter failed',
          cause: error,
        }),
    );
  }

  #fromDenyCache(
    planned: readonly Planned[],
    tier: string | undefined,
  ): RateLimitDecision | undefined {
    const cache = this.#denyCache;
    if (cache === undefined || cache.size === 0) return undefined;
    const now = Date.now();
    for (const one of planned) {
      if (one.shadow) continue;
      const until = cache.get(one.call.key);
      if (until === undefined) continue;
      if (until <= now) {
        cache.delete(one.call.key);
        continue;
      }
      const wait = until - now;
      const state: PolicyState = {
        name: one.policy.name,
        algorithm: one.policy.algorithm,
        limit: one.call.limit,
        window: one.policy.window,
        remaining: 0,
        resetMs: wait,
        exceeded: true,
        shadow: false,
      };
      this.#count(one.policy.name, 1);
      return decision(
        false,
        'limited',
        [state],
        [one.policy.name],
        NO_NAMES,
        wait,
        false,
        tier,
        NOOP,
      );
    }
    return undefined;
  }

  #count(policy: string, outcome: number): void {
    let counts = this.#counters.decisions.get(policy);
    if (counts === undefined) {
      counts = [0, 0, 0, 0];
      this.#counters.decisions.set(policy, counts);
    }
    counts[outcome] = (counts[outcome] ?? 0) + 1;
  }

  #finish(
    planned: readonly Planned[],
    answers: readonly StoreAnswer[],
    degraded: boolean,
    tier: string | undefined,
    engine: StoreEngine = this.#engine,
  ): RateLimitDecision {
    const states: PolicyState[] = [];
    // Allocated only when a policy refuses: most decisions refuse nothing.
    let violated: string[] = EMPTY;
    let shadowViolated: string[] = EMPTY;
    let reduced: string[] = EMPTY;
    let retryAfterMs = 0;
    const pressure = this.#pressure?.active === true ? this.#pressure.reduceTo : 1;
    for (let at = 0; at < planned.length; at += 1) {
      const one = planned[at] as Planned;
      const answer = answers[at] as StoreAnswer;
      const { policy } = one;
      let limit = one.call.limit;
      let remaining = answer.remaining;
      let exceeded = !answer.allowed;
      let resetMs = answer.allowed ? answer.resetMs : answer.retryMs;
      if (!exceeded && pressure < 1) {
        const lowered = Math.floor(limit * pressure);
        const used = limit - remaining;
        remaining = Math.max(0, lowered - used);
        limit = lowered;
        if (used > lowered && !one.shadow) {
          if (reduced === EMPTY) reduced = [];
          reduced.push(policy.name);
          resetMs = Math.max(1000, answer.resetMs);
          retryAfterMs = Math.max(retryAfterMs, resetMs);
        }
      }
      if (exceeded) {
        remaining = 0;
        if (one.shadow) {
          if (shadowViolated === EMPTY) shadowViolated = [];
          shadowViolated.push(policy.name);
        } else {
          if (violated === EMPTY) violated = [];
          violated.push(policy.name);
          retryAfterMs = Math.max(retryAfterMs, answer.retryMs);
        }
      }
      exceeded ||= reduced.includes(policy.name);
      states.push({
        name: policy.name,
        algorithm: policy.algorithm,
        limit,
        window: policy.window,
        remaining,
        resetMs: Math.max(0, Math.ceil(resetMs)),
        exceeded,
        shadow: one.shadow,
      });
    }
    const refused = violated.length > 0 || reduced.length > 0;
    if (refused) {
      for (let at = 0; at < planned.length; at += 1) {
        const answer = answers[at] as StoreAnswer;
        const one = planned[at] as Planned;
        if (answer.charged) settle(engine.refund(one.call));
      }
      if (this.#denyCache !== undefined && violated.length > 0 && !degraded) {
        const now = Date.now();
        if (this.#denyCache.size >= 10_000) this.#denyCache.clear();
        for (let at = 0; at < planned.length; at += 1) {
          const one = planned[at] as Planned;
          const answer = answers[at] as StoreAnswer;
          if (!answer.allowed && !one.shadow && one.policy.algorithm !== 'concurrency') {
            this.#denyCache.set(one.call.key, now + answer.retryMs);
          }
        }
      }
    }
    for (let at = 0; at < planned.length; at += 1) {
      const one = planned[at] as Planned;
      const state = states[at] as PolicyState;
      this.#count(
        one.policy.name,
        !state.exceeded ? 0 : one.shadow ? 3 : violated.includes(one.policy.name) ? 1 : 2,
      );
    }
    let release = NOOP;
    if (!refused) {
      const slots = planned.filter(
        (one, at) => one.policy.algorithm === 'concurrency' && (answers[at] as StoreAnswer).charged,
      );
      if (slots.length > 0) {
        let released = false;
        release = () => {
          if (released) return;
          released = true;
          for (const one of slots) settle(engine.release(one.call));
        };
      }
    }
    return decision(
      !refused,
      violated.length > 0 ? 'limited' : reduced.length > 0 ? 'reduced' : 'allowed',
      states,
      violated.length > 0 ? violated : reduced.length > 0 ? reduced : NO_NAMES,
      shadowViolated.length > 0 ? shadowViolated : NO_NAMES,
      refused ? Math.max(1, Math.ceil(retryAfterMs)) : 0,
      degraded,
      tier,
      release,
    );
  }
}

/** The single policy's store call, made only when more than an admission needs it. */
function fastCall(policy: Policy, key: string, cost: number): StoreCall {
  return { policy, key, limit: policy.limit, burst: policy.burst, cost, id: '' };
}

/** Swallows the outcome of a background store call (a refund, a release). */
function settle(outcome: MaybePromise<unknown>): void {
  if (isThenable(outcome)) (outcome as Promise<unknown>).catch(NOOP);
}

function decision(
  allowed: boolean,
  outcome: RateLimitDecision['outcome'],
  policies: readonly PolicyState[],
  violated: readonly string[],
  shadowViolated: readonly string[],
  retryAfterMs: number,
  degraded: boolean,
  tier: string | undefined,
  release: () => void,
): RateLimitDecision {
  return {
    allowed,
    outcome,
    policies,
    violated,
    shadowViolated,
    retryAfterMs,
    degraded,
    tier,
    release,
  };
}

function isDecision(value: RateLimitDecision | RateLimitError): value is RateLimitDecision {
  return typeof (value as RateLimitDecision).allowed === 'boolean';
}

function toResult(
  value: RateLimitDecision | RateLimitError,
): Result<RateLimitDecision, RateLimitError> {
  return isDecision(value) ? ok(value) : err(value);
}

/** A Result as it is (the memory fast path made it already), else the decision or error as one. */
function toResultOnce(value: unknown): Result<RateLimitDecision, RateLimitError> {
  const maybe = value as { readonly ok?: unknown };
  if (typeof maybe.ok === 'boolean' && !('allowed' in maybe)) {
    return value as Result<RateLimitDecision, RateLimitError>;
  }
  return toResult(value as RateLimitDecision | RateLimitError);
}

function actorTier(): string | undefined {
  const tier = (currentContext()?.actor as { readonly tier?: unknown } | undefined)?.tier;
  return typeof tier === 'string' ? tier : undefined;
}

function validKey(key: unknown): key is string | Readonly<Record<string, string>> {
  if (typeof key === 'string') return key !== '';
  if (typeof key !== 'object' || key === null || Array.isArray(key)) return false;
  return Object.values(key).every((value) => typeof value === 'string' && value !== '');
}

function checkTiers(tiers: unknown): TierLimits {
  if (tiers === undefined) return {};
  const given = check.object<Record<string, unknown>>('tiers', tiers);
  const out: Record<string, Record<string, number>> = Object.create(null);
  for (const [tier, limits] of Object.entries(given)) {
    const byPolicy = check.object<Record<string, unknown>>(`tiers.${tier}`, limits);
    const checked: Record<string, number> = Object.create(null);
    for (const [policy, limit] of Object.entries(byPolicy)) {
      checked[policy] = check.integer(`tiers.${tier}.${policy}`, limit, 0, { allowInfinity: true });
    }
    out[tier] = Object.freeze(checked);
  }
  return Object.freeze(out);
}

const LIMITER_METRICS = [
  {
    name: 'ratelimit_decisions_total',
    type: 'counter' as const,
    help: 'Rate limit decisions by policy and outcome (allowed, limited, reduced under pressure, shadow_limited: would have been limited)',
    read: (limiter: Limiter) =>
      [...limiter.counters.decisions].flatMap(([policy, counts]) =>
        OUTCOMES.map((outcome, at) => ({
          value: counts[at] ?? 0,
          labels: { limiter: limiter.name, policy, outcome },
        })),
      ),
  },
  {
    name: 'ratelimit_degraded_decisions_total',
    type: 'counter' as const,
    help: 'Decisions made without the store (insurance limiter or onStoreError allow)',
    read: (limiter: Limiter) => [
      { value: limiter.counters.degraded, labels: { limiter: limiter.name } },
    ],
  },
  {
    name: 'ratelimit_store_failures_total',
    type: 'counter' as const,
    help: 'Store calls that failed (reason=error) or passed the timeout (reason=timeout)',
    read: (limiter: Limiter) => [
      { value: limiter.counters.storeErrors, labels: { limiter: limiter.name, reason: 'error' } },
      {
        value: limiter.counters.storeTimeouts,
        labels: { limiter: limiter.name, reason: 'timeout' },
      },
    ],
  },
  {
    name: 'ratelimit_under_pressure',
    type: 'gauge' as const,
    help: '1 while the limits are lowered because the process is under pressure',
    read: (limiter: Limiter) => [
      { value: limiter.underPressure ? 1 : 0, labels: { limiter: limiter.name } },
    ],
  },
];

/**
 * Makes a limiter: policies over a store, with tiers, quotas, concurrency slots, shadow mode and
 * load-based lowering. Bad options throw `RATELIMIT_INVALID_OPTIONS` here.
 *
 * When to use: directly for anything that is not an HTTP route (a job, a login attempt, a
 * websocket message); over HTTP mount {@link rateLimitPart}, which calls it for you.
 *
 * @example
 * const limiter = createRateLimiter({
 *   policies: [
 *     { name: 'burst', algorithm: 'token-bucket', limit: 10, window: 1_000, burst: 20 },
 *     { name: 'daily', limit: 1_000, window: 86_400_000 },
 *   ],
 *   tiers: { pro: { burst: 100, daily: 100_000 }, enterprise: { daily: Infinity } },
 * });
 * const result = await limiter.consume('customer-42', { tier: 'pro' });
 * if (result.ok && !result.value.allowed) console.log('retry in', result.value.retryAfterMs, 'ms');
 */
export function createRateLimiter(options: RateLimiterOptions = {}): RateLimiter {
  return new Limiter(options);
}
