import type { ProdError, Result } from '@prod/core';
import { check } from './internal/options.js';
import {
  type AnyResult,
  type AnyWork,
  type Ctx,
  checkResult,
  next,
  type Stage,
  thrownResult,
} from './internal/stage.js';
import { StagedPolicy } from './internal/staged-policy.js';
import type { Policy, WorkContext } from './types.js';

/** Produces the substitute result from the error the work (or an inner policy) returned. */
export type FallbackHandler<TValue> = (
  error: unknown,
  context: WorkContext,
) => Result<TValue, ProdError> | Promise<Result<TValue, ProdError>>;

/** Options of {@link fallback}. */
export interface FallbackOptions {
  /** Which errors to replace. Default: every error. */
  readonly when?: (error: unknown) => boolean;
}

class Fallback<TValue> extends StagedPolicy<TValue> {
  constructor(
    private readonly handler: FallbackHandler<TValue>,
    private readonly when: ((error: unknown) => boolean) | undefined,
  ) {
    super();
  }

  async run(chain: readonly Stage[], index: number, work: AnyWork, ctx: Ctx): Promise<AnyResult> {
    let result: AnyResult;
    try {
      result = checkResult(await next(chain, index, work, ctx));
    } catch (thrown) {
      result = thrownResult(thrown);
    }
    if (result.ok) return result;
    if (this.when !== undefined && !this.when(result.error)) return result;
    try {
      return checkResult(await this.handler(result.error, ctx));
    } catch (thrown) {
      return thrownResult(thrown);
    }
  }
}

/**
 * Replaces an error with a substitute Result: a cached value, a default, a degraded answer.
 *
 * Details: put it outermost so it sees the errors of every other policy (`CIRCUIT_OPEN`,
 * `TIMEOUT`...). The handler returns a Result, so a fallback can fail too; a throw in it
 * becomes `Err(ProdError.from(thrown))`.
 *
 * @returns a {@link Policy} whose value type widens by `TValue`. Throws
 *   `ERRORS_INVALID_OPTIONS` when `handler` or `when` is not a function.
 *
 * @example
 * interface Product { readonly sku: string }
 * declare function fetchRecommendations(user: string): Promise<Result<Product[], ProdError>>;
 * const withDefault = policy(fallback(() => ok([] as Product[])), retry(), timeout(300));
 * const r = await withDefault.execute(() => fetchRecommendations('u1')); // Result<Product[], ...>
 */
export function fallback<TValue>(
  handler: FallbackHandler<TValue>,
  options: FallbackOptions = {},
): Policy<TValue> {
  if (typeof handler !== 'function') check.fail('handler', 'a function', handler);
  const given = check.object<FallbackOptions>('options', options);
  return new Fallback(handler, check.fn<(error: unknown) => boolean>('when', given.when));
}
