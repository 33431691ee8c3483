import type { ProdError, Result } from '@prod/core';

/**
 * Why a flag has its value (the OpenFeature reasons): `STATIC` (a definition without rules),
 * `DEFAULT` (no rule matched, or no definition: the code's default), `TARGETING_MATCH` (a
 * rule's conditions), `SPLIT` (a percentage rollout or split), `DISABLED` (the kill switch),
 * `ERROR` (see `errorCode`; the value is the code's default); and, from other OpenFeature
 * providers only, `CACHED`, `STALE` and `UNKNOWN` (any reason outside the standard ones).
 */
export type FlagReason =
  | 'STATIC'
  | 'DEFAULT'
  | 'TARGETING_MATCH'
  | 'SPLIT'
  | 'DISABLED'
  | 'ERROR'
  | 'CACHED'
  | 'STALE'
  | 'UNKNOWN';

/** Why an evaluation failed (the OpenFeature error codes). */
export type FlagErrorCode =
  | 'PROVIDER_NOT_READY'
  | 'PROVIDER_FATAL'
  | 'FLAG_NOT_FOUND'
  | 'PARSE_ERROR'
  | 'TYPE_MISMATCH'
  | 'INVALID_CONTEXT'
  | 'GENERAL';

/** The result of evaluating a flag. Never thrown: an error is a reason. */
export interface FlagEvaluation<TValue> {
  readonly key: string;
  readonly value: TValue;
  readonly variant?: string;
  readonly reason: FlagReason;
  /** The rule that decided (its `name`, else `rule <index>`). */
  readonly rule?: string;
  readonly errorCode?: FlagErrorCode;
  readonly errorMessage?: string;
}

/**
 * Who a flag is evaluated for. `targetingKey` (else `userId`) is what rollouts hash; every
 * other attribute can be targeted (`tenant`, `plan`, `country`, nested objects by dotted path).
 * Without a context, the request context's actor (@prod/core) is the targeting key.
 */
export interface FlagContext {
  readonly targetingKey?: string;
  readonly userId?: string;
  readonly tenant?: string;
  readonly [attribute: string]: unknown;
}

/**
 * Where flag definitions come from: a config key, Redis, memory, or your own. Definitions are
 * raw data; the flags validate them (an invalid one is refused, the flag keeps the previous).
 */
export interface FlagSource {
  /** Shown in errors. */
  readonly name: string;
  /** Loads the definitions; `Flags.ready` waits for it. Optional. */
  start?(): Promise<Result<void, ProdError>>;
  /** The current definitions, by flag key. */
  definitions(): ReadonlyMap<string, unknown>;
  /**
   * Calls `listener` when definitions changed (the keys, or undefined for "maybe all"), and
   * `onError` when a reload failed (the definitions are kept).
   */
  subscribe(
    listener: (changed: readonly string[] | undefined) => void,
    onError?: (error: ProdError) => void,
  ): () => void;
  /** Releases connections and subscriptions. Optional. */
  stop?(): Promise<void>;
  /** Where reads are recorded for stale-flag reports, shared by every instance. Optional. */
  readonly usage?: FlagUsageStore;
}

/** Records when flags were last read, for {@link StaleFlag} reports. */
export interface FlagUsageStore {
  /** Records that `keys` were read at `at` (ms since epoch). */
  recordReads(keys: readonly string[], at: number): Promise<void>;
  /** The last read time of each key that has one. */
  lastReads(keys: readonly string[]): Promise<ReadonlyMap<string, number>>;
  /** Since when reads are recorded (ms since epoch). */
  trackingSince(): Promise<number>;
}

/** A flag not read for the asked number of days. */
export interface StaleFlag {
  readonly key: string;
  /** Undefined when never read since tracking started. */
  readonly lastReadAt: Date | undefined;
  /** Declared in this process's code. */
  readonly declared: boolean;
  /** Has a definition in the source. */
  readonly defined: boolean;
}

/**
 * Counts evaluations. A prom-client `Counter` with `labelNames: ['flag', 'variant', 'reason']`
 * fits as it is (on a @prod/metrics registry, say); so does anything with this `inc`.
 */
export interface FlagEvaluationCounter {
  inc(
    labels: { readonly flag: string; readonly variant: string; readonly reason: string },
    value: number,
  ): void;
}
