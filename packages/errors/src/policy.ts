import { check } from './internal/options.js';
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
import type { FallbackOf, Policy } from './types.js';

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
 * Details: composing flattens the chains, so nesting costs nothing per call. An argument that
 * is not a policy throws `ERRORS_INVALID_OPTIONS` (naming `policies[i]`) here, not at the first call.
 *
 * @example
 * const url = 'https://api.example.com/prices';
 * const resilient = policy(retry({ maxAttempts: 3 }), circuitBreaker(), timeout(2_000));
 * const r = await resilient.execute(({ signal }) => fromPromise(fetch(url, { signal })));
 */
export function policy<const TPolicies extends readonly Policy<unknown>[]>(
  ...policies: TPolicies
): Policy<FallbackOf<TPolicies[number]>> {
  const stages: Stage[] = [];
  policies.forEach((each, at) => {
    if (hasStages(each)) stages.push(...each[STAGES]);
    else if (typeof (each as Partial<Policy<unknown>> | null)?.execute === 'function') {
      stages.push(new ForeignStage(each));
    } else {
      check.fail(`policies[${at}]`, 'a Policy (an object with execute())', each);
    }
  });
  return new Composite<FallbackOf<TPolicies[number]>>(stages);
}
