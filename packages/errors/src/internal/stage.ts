import { CoreErrors, ProdError, type Result } from '@prod/core';
import type { Work, WorkContext } from '../types.js';

export type AnyResult = Result<unknown, unknown>;
export type AnyWork = Work<unknown, unknown>;

/** Told when a signal source aborts. */
export interface AbortListener {
  handleEvent(): void;
}

/**
 * Where the abort state of a call comes from: the caller's signal or a timeout. Stages read
 * `aborted` and subscribe without creating an AbortSignal; `signal` creates one only for work
 * that asks for it (creating an AbortSignal costs microseconds).
 */
export interface SignalSource {
  readonly aborted: boolean;
  readonly reason: unknown;
  readonly signal: AbortSignal;
  subscribe(listener: AbortListener): void;
  unsubscribe(listener: AbortListener): void;
}

/** The caller's own AbortSignal as a source. */
export class CallerSignal implements SignalSource {
  constructor(readonly signal: AbortSignal) {}

  get aborted(): boolean {
    return this.signal.aborted;
  }

  get reason(): unknown {
    return this.signal.reason;
  }

  subscribe(listener: AbortListener): void {
    this.signal.addEventListener('abort', listener);
  }

  unsubscribe(listener: AbortListener): void {
    this.signal.removeEventListener('abort', listener);
  }
}

/** The context handed down the chain. */
export class Ctx implements WorkContext {
  private lazy: AbortSignal | undefined;

  constructor(
    readonly attempt: number,
    readonly source: SignalSource | undefined,
  ) {}

  get signal(): AbortSignal {
    if (this.source !== undefined) return this.source.signal;
    // Nothing can abort this call: a fresh signal that never fires, made only on demand.
    this.lazy ??= new AbortController().signal;
    return this.lazy;
  }
}

/** One link of a composed policy: runs what comes after it (`next(chain, index, ...)`). */
export interface Stage {
  run(chain: readonly Stage[], index: number, work: AnyWork, ctx: Ctx): Promise<AnyResult>;
}

/**
 * Runs the stage at `index`, or the work itself past the end of the chain. The answer is raw:
 * it may throw, reject or not be a Result; stages pass it through {@link checkResult}.
 */
export function next(chain: readonly Stage[], index: number, work: AnyWork, ctx: Ctx): unknown {
  const stage = chain[index];
  return stage === undefined ? work(ctx) : stage.run(chain, index + 1, work, ctx);
}

/** Runs what follows in the chain and settles it into a Result, whatever it does. */
export async function settle(
  chain: readonly Stage[],
  index: number,
  work: AnyWork,
  ctx: Ctx,
): Promise<AnyResult> {
  try {
    return checkResult(await next(chain, index, work, ctx));
  } catch (thrown) {
    return thrownResult(thrown);
  }
}

export function thrownResult(thrown: unknown): AnyResult {
  return { ok: false, error: ProdError.from(thrown) };
}

/** A Result passes; anything else is a misuse of the API, reported as INTERNAL. */
export function checkResult(value: unknown): AnyResult {
  if (typeof value === 'object' && value !== null && typeof (value as AnyResult).ok === 'boolean') {
    return value as AnyResult;
  }
  return {
    ok: false,
    error: CoreErrors.INTERNAL({
      message:
        'Policy work must return a Result: wrap plain values with ok(), or promises with fromPromise()',
    }),
  };
}

export const STAGES: unique symbol = Symbol('@prod/errors/stages');

/** What every policy of this package carries: the stages it runs, in order. */
export interface Staged {
  readonly [STAGES]: readonly Stage[];
}

export function hasStages(value: unknown): value is Staged {
  return typeof value === 'object' && value !== null && STAGES in value;
}
