import type { ContextLogger, ProdError, Result } from '@prod/core';

/** Which probe a check feeds: Kubernetes' three probe kinds. */
export type CheckKind = 'liveness' | 'readiness' | 'startup';

/** A status in `application/health+json`. `warn` is healthy but degraded (HTTP 200). */
export type HealthStatus = 'pass' | 'warn' | 'fail';

/** The IETF draft's component types, or a URI of your own. */
export type ComponentType = 'component' | 'datastore' | 'system' | (string & {});

/** What one run of a check observed. Every field is optional. */
export interface Observation {
  /** The measured value (latency, utilization...). Default: the run's duration in ms. */
  readonly observedValue?: number | string | boolean;
  /** Its unit (`ms`, `percent`, `bytes`). Default `ms` when `observedValue` is defaulted. */
  readonly observedUnit?: string;
  /**
   * `pass` by default. A check that observed a value over a threshold answers `warn` or
   * `fail` here and keeps its `observedValue`; `Err` is for "could not observe at all".
   */
  readonly status?: HealthStatus;
  /** A human explanation, shown only in the detail view (scrubbed of URLs and secrets). */
  readonly output?: string;
}

/** What a check function receives. */
export interface CheckContext {
  /** Aborts when the check's timeout passes: cancel the I/O if you can. */
  readonly signal: AbortSignal;
  /** The check's timeout, in ms. */
  readonly timeoutMs: number;
}

/**
 * One run of a check: `Ok` with what it observed, or `Err` when the dependency could not be
 * reached. A throw is caught and reported as `HEALTH_CHECK_FAILED`.
 */
export type CheckFunction = (
  context: CheckContext,
) => Result<Observation, ProdError> | Promise<Result<Observation, ProdError>>;

/**
 * A health check definition, as given to `createHealth({ checks })` or `health.register()`.
 *
 * The report key is `name:measurement` (`redis:responseTime`). Runs are bounded by
 * `timeout`; with `interval` the check runs in the background and probes read the cached
 * result, without `interval` it runs on demand behind a short cache (`cacheTtl`) and
 * single-flight (concurrent probes share one run).
 */
export interface HealthCheck {
  /** Component name: letters, digits, `_`, `.`, `-` (no colon), at most 64 characters. */
  readonly name: string;
  /** Measurement name, same alphabet. Default `responseTime`. */
  readonly measurement?: string;
  /** The probe(s) this check feeds. */
  readonly kind: CheckKind | readonly CheckKind[];
  /** A failing critical check fails its probe; a non-critical one only gives `warn`. Default true. */
  readonly critical?: boolean;
  /** Milliseconds a run may take before it fails with `HEALTH_CHECK_TIMEOUT`. Default 1000. */
  readonly timeout?: number;
  /** Run in the background every `interval` ms; probes read the cached result. */
  readonly interval?: number;
  /** On-demand checks: how long a result is reused, in ms. Default 1000; 0 = single-flight only. */
  readonly cacheTtl?: number;
  /** Background checks: a result older than this fails as stale. Default `2 * interval + timeout`. */
  readonly staleAfter?: number;
  /** Default `component`. */
  readonly componentType?: ComponentType;
  /** A stable id of the instance checked (`cache-primary`). Never a connection string. */
  readonly componentId?: string;
  readonly check: CheckFunction;
  /** Called when the health instance starts (e.g. to enable a sampler). */
  readonly start?: () => void;
  /** Called by `health.stop()`: release timers and samplers. */
  readonly stop?: () => void;
}

/**
 * The options every built-in check factory accepts on top of its own: they override the
 * defaults of the {@link HealthCheck} it builds.
 */
export interface CheckOptions {
  readonly name?: string;
  readonly measurement?: string;
  readonly kind?: CheckKind | readonly CheckKind[];
  readonly critical?: boolean;
  readonly timeout?: number;
  readonly interval?: number;
  readonly cacheTtl?: number;
  readonly staleAfter?: number;
  readonly componentId?: string;
}

/** The outcome of one check, as it appears in a {@link HealthReport}. */
export interface CheckResult {
  /** `name:measurement`. */
  readonly key: string;
  readonly name: string;
  readonly measurement: string;
  readonly critical: boolean;
  /** The component's own status (a non-critical `fail` stays `fail` here; the probe says `warn`). */
  readonly status: HealthStatus;
  readonly componentType: ComponentType;
  readonly componentId?: string;
  readonly observedValue?: number | string | boolean;
  readonly observedUnit?: string;
  /** Scrubbed explanation (never a URL or a secret). */
  readonly output?: string;
  /** ISO 8601 time the value was observed (older than now for cached results). */
  readonly time: string;
  /** How long the run took, in ms. */
  readonly durationMs: number;
  /** Why it failed: `HEALTH_CHECK_TIMEOUT`, `HEALTH_CHECK_FAILED`, `HEALTH_CHECK_STALE` or the check's own. */
  readonly error?: ProdError;
}

/** The state of one probe, before rendering. */
export interface HealthReport {
  readonly kind: CheckKind;
  readonly status: HealthStatus;
  readonly checks: readonly CheckResult[];
  /** Why the probe fails as a whole (shutting down, not started), if it does. */
  readonly output?: string;
  readonly shuttingDown: boolean;
}

/**
 * Where `createHealth` logs the status changes of its checks, at `debug` (a pino logger fits):
 * `health: check status changed` with the check key, `from`, `to`, the error code and the
 * scrubbed output.
 */
export type HealthLogger = Pick<ContextLogger, 'debug'>;
