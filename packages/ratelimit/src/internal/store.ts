import type { Policy } from '../types.js';

/** One policy's step of one decision, as a store runs it. */
export interface StoreCall {
  readonly policy: Policy;
  /** The storage key: prefix, policy name and client key. */
  readonly key: string;
  /** The limit in force (the tier's; limit/N in the insurance limiter). */
  readonly limit: number;
  /** `token-bucket`: the capacity in force. */
  readonly burst: number;
  readonly cost: number;
  /** `concurrency`: the id of this request's slot. */
  readonly id: string;
}

/** What a store answers for one call. */
export interface StoreAnswer {
  readonly allowed: boolean;
  readonly remaining: number;
  readonly resetMs: number;
  /** When refused: ms until a request of this cost may pass. */
  readonly retryMs: number;
  /** Whether the cost was counted (a refund undoes it when another policy refuses). */
  readonly charged: boolean;
}

export type MaybePromise<TValue> = TValue | Promise<TValue>;

/** rate-limiter-flexible's limiter options, as used here. */
export interface FlexibleOptions {
  readonly keyPrefix: string;
  readonly points: number;
  /** Seconds. */
  readonly duration: number;
  /** Seconds. */
  readonly blockDuration: number;
}

/** rate-limiter-flexible's result object, as read here. */
export interface FlexibleResult {
  readonly consumedPoints: number;
  readonly remainingPoints: number;
  readonly msBeforeNext: number;
}

/** The part of a rate-limiter-flexible limiter used here. */
export interface FlexibleLimiter {
  consume(key: string, points?: number): Promise<FlexibleResult>;
  get(key: string): Promise<FlexibleResult | null>;
  block(key: string, seconds: number): Promise<unknown>;
  delete(key: string): Promise<unknown>;
  reward(key: string, points: number): Promise<unknown>;
}

/** Marks the stores this package made (the limiter refuses anything else). */
export const ENGINE: unique symbol = Symbol.for('@prod/ratelimit/store-engine') as never;

/** What the limiter drives; the public `RateLimitStore` is its outside. */
export interface StoreEngine {
  readonly [ENGINE]: true;
  readonly kind: 'memory' | 'redis';
  consume(call: StoreCall): MaybePromise<StoreAnswer>;
  refund(call: StoreCall): MaybePromise<unknown>;
  release(call: StoreCall): MaybePromise<unknown>;
  reset(key: string, policy: Policy): Promise<void>;
  /** A store able to answer now; false makes the limiter use the insurance at once. */
  ready(): boolean;
  /** The insurance limiter (memory), with its divisor. */
  readonly insurance: { readonly store: StoreEngine; readonly divisor: number } | undefined;
  /** A rate-limiter-flexible fixed-window limiter on this store (brute-force protection). */
  flexible(options: FlexibleOptions): FlexibleLimiter;
  /** Milliseconds a call may take before the insurance answers instead. */
  readonly timeout: number;
  close(): Promise<void>;
}

export function isEngine(value: unknown): value is StoreEngine {
  return typeof value === 'object' && value !== null && (value as StoreEngine)[ENGINE] === true;
}
