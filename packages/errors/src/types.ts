import type { ProdError, Result } from '@prod/core';

// The public types every policy shares, apart from the policies themselves so that the
// internal chain (internal/stage.ts) and `policy()` both depend on them, not on each other.

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
  /**
   * Type-level marker of `TFallback`, never present at runtime. Boxed in an object so that,
   * without `exactOptionalPropertyTypes`, the `undefined` an optional property adds stays
   * outside the box and never leaks into {@link FallbackOf}.
   */
  readonly '~fallback'?: { readonly value: TFallback };
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
export type FallbackOf<TPolicy> = TPolicy extends {
  readonly '~fallback'?: { readonly value: infer TFallback };
}
  ? TFallback
  : never;

/**
 * Where the policies and the aggregator write their debug lines (retries, give-ups, circuit
 * transitions, flushes): a pino logger fits, or `createLogger()` of @prod/logger. When it has
 * `isLevelEnabled`, nothing is built for a line that debug level would drop.
 */
export interface DebugLogger {
  debug(obj: unknown, msg?: string): void;
  isLevelEnabled?(level: string): boolean;
}
