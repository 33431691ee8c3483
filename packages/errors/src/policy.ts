import type { ProdError, Result } from '@prod/core';
import {
  type AnyResult,
  type AnyWork,
  CallerSignal,
  Ctx,
  checkResult,
  hasStages,
  STAGES,
  type Stage,
  settle,
  thrownResult,
} from './internal/stage.js';
import { StagedPolicy } from './internal/staged-policy.js';

/** Removes the listener it was returned for. */
export type Unsubscribe = () => void;

/** What a unit of work receives from the policies around it. */
export interface WorkContext {
  /**
   * Aborts when the caller's signal aborts or a timeout gives up on this attempt. Pass it on
   * to `fetch`, database drivers and anything else that can stop early.
   */
  readonly signal: AbortSignal;
  /** 1 for the first try, 2 for the first retry, and so on. */
  readonly attempt: number;
}

/**
 * The work a policy runs: a function returning a Result (or a promise of one).
 *
 * A throw or a rejection is not lost: it becomes `Err(ProdError.from(thrown))`. A plain value
 * is not supported (it becomes an `INTERNAL` error): wrap it with `ok()`, or wrap a promise with
 * `fromPromise()` from @prod/core.
 */
export type Work<TValue, TError> = (
  context: WorkContext,
) => Promise<Result<TValue, TError>> | Result<TValue, TError>;

/** Per-call options of {@link Policy.execute}. */
export interface ExecuteOptions {
  /** Aborting it stops waits and queues at once and aborts the signal the work sees. */
  readonly signal?: AbortSignal;
}

/**
 * A recovery policy: runs work and returns its Result, or an error of the policy's own.
 *
 * `TFallback` is the value type a {@link fallback} may substitute (`never` for every other
 * policy).
 */
export interface Policy<TFallback = never> {
  /** Type-level marker of `TFallback`, never present at runtime. */
  readonly '~fallback'?: TFallback;
  /**
   * Runs `work` under this policy.
   *
   * @returns the work's `Ok`, the work's `Err`, or an `Err` of the policy (`TIMEOUT`,
   *   `CIRCUIT_OPEN`, `BULKHEAD_FULL`, `ABORTED`, or `INTERNAL` for a throw). Never rejects.
   */
  execute<TValue, TError = never>(
    work: Work<TValue, TError>,
    options?: ExecuteOptions,
  ): Promise<Result<TValue | TFallback, TError | ProdError>>;
}

/** The fallback value type of a policy. */
export type FallbackOf<TPolicy> = TPolicy extends { readonly '~fallback'?: infer TFallback }
  ? TFallback
  : never;

class Composite<TFallback> extends StagedPolicy<TFallback> {
  run(chain: readonly Stage[], index: number, work: AnyWork, ctx: Ctx): Promise<AnyResult> {
    return settle(chain, index, work, ctx);
  }
}

/** Lets a policy written outside this package take part in a composition. */
class ForeignStage implements Stage {
  constructor(private readonly policy: Policy<unknown>) {}

  async run(chain: readonly Stage[], index: number, work: AnyWork, ctx: Ctx): Promise<AnyResult> {
    try {
      return checkResult(
        await this.policy.execute(
          (inner) =>
            settle(chain, index, work, new Ctx(inner.attempt, new CallerSignal(inner.signal))),
          ctx.source === undefined ? undefined : { signal: ctx.source.signal },
        ),
      );
    } catch (thrown) {
      return thrownResult(thrown);
    }
  }
}

/**
 * Composes policies into one: the first is the outermost.
 *
 * When to use: almost always in this order, outermost first:
 * `policy(fallback(...), retry(...), circuitBreaker(...), bulkhead(...), timeout(...))`.
 * Retry outside the breaker sees `CIRCUIT_OPEN` (with its `retryAfterMs`) instead of hammering
 * an open circuit; a timeout innermost bounds each attempt rather than the whole retry loop
 * (put a second timeout outermost, or use `maxTotalTimeMs`, to bound the total).
 *
 * Details: composing flattens the chains, so nesting costs nothing per call.
 *
 * @example
 * const resilient = policy(retry({ maxAttempts: 3 }), circuitBreaker(), timeout(2_000));
 * const r = await resilient.execute(({ signal }) => fromPromise(fetch(url, { signal })));
 */
export function policy<const TPolicies extends readonly Policy<unknown>[]>(
  ...policies: TPolicies
): Policy<FallbackOf<TPolicies[number]>> {
  const stages: Stage[] = [];
  for (const each of policies) {
    if (hasStages(each)) stages.push(...each[STAGES]);
    else if (typeof (each as Partial<Policy<unknown>> | null)?.execute === 'function') {
      stages.push(new ForeignStage(each));
    } else {
      throw new TypeError('policy(): every argument must be a Policy (an object with execute())');
    }
  }
  return new Composite<FallbackOf<TPolicies[number]>>(stages);
}
