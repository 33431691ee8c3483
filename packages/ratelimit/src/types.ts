import type { HttpRequest } from '@prod/core';

/**
 * How a policy counts.
 *
 * - `fixed-window` (rate-limiter-flexible): `limit` per `window`, the window starting at the
 *   key's first request. At a window edge a client can send `limit` at the end of one window and
 *   `limit` again at the start of the next: up to 2 x `limit` within a span of one window.
 * - `sliding-window`: two epoch-aligned counters, the previous one weighted by how much of it
 *   still overlaps the rolling window. The edge burst of a fixed window is refused (right after
 *   an edge, the previous window still counts nearly in full); it is an estimate that assumes the
 *   previous window's requests were spread evenly, so an adversary that packs them at the very
 *   end can reach up to 2 x `limit` over a rolling window in the worst case (measured: see the
 *   README).
 * - `token-bucket` (GCRA, one timestamp per key): `limit` per `window` refilled continuously, at
 *   most `burst` at once. No window edges: over any span `d`, at most
 *   `burst + limit * d / window` pass.
 * - `concurrency`: at most `limit` requests in flight per key, released when the response ends.
 */
export type Algorithm = 'fixed-window' | 'sliding-window' | 'token-bucket' | 'concurrency';

/** A built-in key source: where a policy reads who the client is. */
export type KeySource = 'ip' | 'user' | 'api-key' | 'route' | 'global';

/**
 * What a policy counts by: a built-in source, a function of the request (undefined: the policy
 * does not apply to this request), or several joined (`['api-key', 'route']`).
 */
export type KeySpec =
  | KeySource
  | ((request: HttpRequest) => string | undefined)
  | readonly (KeySource | ((request: HttpRequest) => string | undefined))[];

/** One named limit. */
export interface PolicyOptions {
  /**
   * The policy's name, sent in the headers (`RateLimit: "per-minute";r=5;t=30`) and in
   * `violated-policies`; it also names the policy's counters, so two routes naming the same
   * policy share one budget. Letters, digits, `-`, `_`, `.`; at most 64 characters.
   */
  readonly name: string;
  /** Requests (cost units) per window; for `concurrency`, requests in flight. 0 refuses all. */
  readonly limit: number;
  /** The window in milliseconds, whole seconds (the headers speak seconds). Not for `concurrency`. */
  readonly window?: number;
  /** Default `fixed-window`. */
  readonly algorithm?: Algorithm;
  /** `token-bucket` only: how many may pass at once. Default `limit`. */
  readonly burst?: number;
  /** What the policy counts by. Default `ip`. */
  readonly key?: KeySpec;
  /**
   * After the policy is exceeded, keep the key blocked this long (ms) whatever the window says.
   * Default 0 (no block).
   */
  readonly blockDuration?: number;
  /** Count and report, never refuse (safe rollout). Default false. */
  readonly shadow?: boolean;
  /**
   * `concurrency` only: how long a slot is held at most when its release never comes (a process
   * that died mid-request), in ms. Default 60 000.
   */
  readonly lease?: number;
}

/** A policy, checked and frozen by {@link definePolicy}. */
export interface Policy {
  readonly name: string;
  readonly limit: number;
  /** Milliseconds (0 for `concurrency`). */
  readonly window: number;
  readonly algorithm: Algorithm;
  readonly burst: number;
  readonly key: KeySpec;
  readonly blockDuration: number;
  readonly shadow: boolean;
  readonly lease: number;
}

/** Where one policy stands after a decision. */
export interface PolicyState {
  readonly name: string;
  readonly algorithm: Algorithm;
  /** The limit in force for this request (the tier's, lowered under pressure). */
  readonly limit: number;
  /** The window in milliseconds (0 for `concurrency`). */
  readonly window: number;
  /** What is left after this request (0 when refused). */
  readonly remaining: number;
  /**
   * Milliseconds until the quota is back: the window's end (fixed and sliding windows), a full
   * bucket (token bucket); when refused, until a request of this cost may pass.
   */
  readonly resetMs: number;
  /** This policy refused the request (or would have, in shadow mode). */
  readonly exceeded: boolean;
  readonly shadow: boolean;
}

/** What the limiter decided for one request. */
export interface RateLimitDecision {
  /** Whether the request may go on. */
  readonly allowed: boolean;
  /**
   * `allowed`; `limited` (a policy was exceeded: 429); `reduced` (within the normal limits but
   * over the lowered ones of a process under pressure: 503); `denied` (deny list: 403).
   */
  readonly outcome: 'allowed' | 'limited' | 'reduced' | 'denied';
  /** Every policy that applied, in declaration order. */
  readonly policies: readonly PolicyState[];
  /** The names of the policies that refused it. */
  readonly violated: readonly string[];
  /** The names of the shadow policies that would have refused it. */
  readonly shadowViolated: readonly string[];
  /** When refused, milliseconds until a retry may pass (0 when allowed). */
  readonly retryAfterMs: number;
  /** Decided by the insurance limiter (the store failed or timed out), or let through by `onStoreError: 'allow'`. */
  readonly degraded: boolean;
  /** The tier whose limits applied, if any. */
  readonly tier: string | undefined;
  /** Releases the request's concurrency slots (idempotent; a no-op without concurrency policies). */
  release(): void;
}

/**
 * What the limiter needs of a metrics registry: prom-client's `Registry` fits, and so does the
 * `registry` of @prod/metrics' `createMetrics()`. Collectors read plain counters at scrape
 * time: nothing is computed per decision.
 */
export interface MetricsRegistryLike {
  registerMetric(metric: never): void;
  getSingleMetric(name: string): unknown;
}

/** Where metrics go: `createMetrics()` of @prod/metrics fits as it is. */
export interface MetricsTarget {
  readonly registry: MetricsRegistryLike;
  /** Prepended to the metric names. Default `''`. */
  readonly prefix?: string;
}
