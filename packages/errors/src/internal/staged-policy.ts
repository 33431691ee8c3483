import { err, type ProdError, type Result } from '@prod/core';
import type { ExecuteOptions, Policy, Work } from '../types.js';
import { abortError } from './abort.js';
import {
  type AnyResult,
  type AnyWork,
  CallerSignal,
  Ctx,
  STAGES,
  type Stage,
  type Staged,
  settle,
} from './stage.js';

/** The shared machinery of every policy of this package: one chain, one entry point. */
export abstract class StagedPolicy<TFallback = never> implements Policy<TFallback>, Staged, Stage {
  readonly [STAGES]: readonly Stage[];

  constructor(stages?: readonly Stage[]) {
    this[STAGES] = stages ?? [this];
  }

  abstract run(chain: readonly Stage[], index: number, work: AnyWork, ctx: Ctx): Promise<AnyResult>;

  execute<TValue, TError = never>(
    work: Work<TValue, TError>,
    options?: ExecuteOptions,
  ): Promise<Result<TValue | TFallback, TError | ProdError>> {
    const signal = options?.signal;
    let source: CallerSignal | undefined;
    if (signal !== undefined) {
      if (signal.aborted) return Promise.resolve(err(abortError(signal.reason)));
      source = new CallerSignal(signal);
    }
    const chain = this[STAGES];
    const ctx = new Ctx(1, source);
    const first = chain[0];
    const settled =
      first === undefined
        ? settle(chain, 0, work as AnyWork, ctx)
        : first.run(chain, 1, work as AnyWork, ctx);
    return settled as Promise<Result<TValue | TFallback, TError | ProdError>>;
  }
}
