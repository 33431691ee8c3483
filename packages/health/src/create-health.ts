import { setMaxListeners } from 'node:events';
import { err, type HttpResponse, ok, optionChecks, type ProdError, type Result } from '@prod/core';
import { type Beacon, Beacons } from './beacons.js';
import type {
  CheckKind,
  CheckResult,
  HealthCheck,
  HealthLogger,
  HealthReport,
  HealthStatus,
} from './check.js';
import { HealthErrors } from './errors.js';
import { healthResponse, type ServiceInfo } from './health-response.js';
import { CheckRunner } from './internal/check-runner.js';
import { validateCheck } from './internal/validate-check.js';

/** Options of {@link createHealth}. */
export interface HealthOptions extends ServiceInfo {
  /** The checks, registered in order. More can be added with `health.register()`. */
  readonly checks?: readonly HealthCheck[];
  /** Start background checks at once. Default true; otherwise call `health.start()`. */
  readonly autoStart?: boolean;
  /** Where status changes of the checks are logged, at `debug`. Default: nowhere. */
  readonly logger?: HealthLogger;
}

/** Why `health.register()` refused a check. */
export type RegisterError = ProdError<'HEALTH_DUPLICATE_CHECK' | 'HEALTH_INVALID_CHECK'>;

/**
 * A service's health: its checks, its three probes, its shutdown state and its beacons.
 * Built by {@link createHealth}; served over HTTP by `healthPart(health)`.
 */
export interface Health {
  /** True once shutdown has begun: readiness fails, liveness does not. */
  readonly shuttingDown: boolean;
  /** True once the startup probe has passed (it is not re-run after that). */
  readonly started: boolean;
  /** Aborts when shutdown begins, so long work can wind down. */
  readonly signal: AbortSignal;
  /** Active beacons (long work plus tracked in-flight requests). */
  readonly inFlight: number;
  /** Service identity shown in the detail view. */
  readonly service: ServiceInfo;
  /**
   * Adds a check.
   *
   * @returns `Ok` when added; `Err` with `HEALTH_INVALID_CHECK` (malformed definition) or
   * `HEALTH_DUPLICATE_CHECK` (its `name:measurement` key is taken).
   */
  register(check: HealthCheck): Result<void, RegisterError>;
  /** The check results a probe sees now (cached where possible; never longer than the checks' timeouts). */
  report(kind: CheckKind): Promise<HealthReport>;
  /** The `application/health+json` answer for a probe. */
  response(kind: CheckKind, options?: { readonly detail?: boolean }): Promise<HttpResponse>;
  /** Holds shutdown until released (or the drain deadline). */
  beacon(name: string): Beacon;
  /** Names of the active beacons. */
  beacons(): string[];
  /** Resolves once no beacon is active. */
  whenIdle(): Promise<void>;
  /** Fails readiness from now on and aborts `signal`. Called by `onShutdown`; idempotent. */
  beginShutdown(): void;
  /** How many times each check function has run, by key (for tests and benchmarks). */
  runCounts(): Record<string, number>;
  /** Starts background checks (idempotent). */
  start(): void;
  /** Stops background checks and their samplers, so the process can exit. */
  stop(): void;
}

const NOT_STARTED = 'startup has not completed';
const check = optionChecks(HealthErrors.HEALTH_INVALID_OPTIONS);
const SERVICE_FIELDS = ['version', 'releaseId', 'serviceId', 'description'] as const;

/**
 * Creates a health instance with liveness, readiness and startup probes.
 *
 * Every check is bounded by its timeout, so a hanging dependency fails its check instead
 * of hanging the probe. Background checks (`interval`) are read from cache, so a probe
 * storm costs the dependencies nothing; on-demand checks share one run between
 * concurrent probes and reuse it for `cacheTtl`.
 *
 * @throws ProdError `HEALTH_INVALID_OPTIONS` for an invalid option, `HEALTH_INVALID_CHECK` or
 * `HEALTH_DUPLICATE_CHECK` for a bad `checks` list (programming errors, found at boot).
 * @example
 * declare const redis: RedisPingClient;
 * declare const pool: PostgresQueryable;
 * const health = createHealth({
 *   releaseId: '1.4.2',
 *   checks: [redisCheck(redis, { interval: 5_000 }), postgresCheck(pool)],
 * });
 */
export function createHealth(options: HealthOptions = {}): Health {
  const opts = check.object<HealthOptions>('options', options);
  for (const field of SERVICE_FIELDS) check.string(field, opts[field], '');
  if (opts.checks !== undefined && !Array.isArray(opts.checks)) {
    check.fail('checks', 'an array of health checks', opts.checks);
  }
  const autoStart = check.boolean('autoStart', opts.autoStart, true);
  const logger = opts.logger;
  if (logger !== undefined) {
    check.object('logger', logger);
    check.fn('logger.debug', logger.debug ?? null);
  }
  const runners: CheckRunner[] = [];
  const byKey = new Map<string, CheckRunner>();
  const beacons = new Beacons();
  const abort = new AbortController();
  // Every long job and stream may listen for shutdown: no listener limit on this signal.
  setMaxListeners(0, abort.signal);
  let shuttingDown = false;
  let running = false;
  let startupPassed: HealthReport | undefined;
  const service: ServiceInfo = {
    ...(opts.version === undefined ? {} : { version: opts.version }),
    ...(opts.releaseId === undefined ? {} : { releaseId: opts.releaseId }),
    ...(opts.serviceId === undefined ? {} : { serviceId: opts.serviceId }),
    ...(opts.description === undefined ? {} : { description: opts.description }),
  };

  const register = (check: HealthCheck): Result<void, RegisterError> => {
    const normalized = validateCheck(check);
    if (!normalized.ok) return normalized;
    if (byKey.has(normalized.value.key)) {
      return err(
        HealthErrors.HEALTH_DUPLICATE_CHECK({
          message: `a check with key "${normalized.value.key}" is already registered`,
        }),
      );
    }
    const runner = new CheckRunner(normalized.value, logger);
    runners.push(runner);
    byKey.set(normalized.value.key, runner);
    if (running) runner.start();
    return ok();
  };

  for (const definition of opts.checks ?? []) {
    const added = register(definition);
    if (!added.ok) throw added.error;
  }

  const evaluate = async (
    kind: CheckKind,
  ): Promise<{ status: HealthStatus; checks: CheckResult[] }> => {
    const pending: Array<CheckResult | Promise<CheckResult>> = [];
    for (const runner of runners) {
      if (runner.check.kinds.has(kind)) pending.push(runner.current());
    }
    const checks = await Promise.all(pending);
    return { status: aggregate(checks), checks };
  };

  const startupReport = async (): Promise<HealthReport> => {
    if (startupPassed !== undefined) return startupPassed;
    const { status, checks } = await evaluate('startup');
    const report: HealthReport = {
      kind: 'startup',
      status,
      checks,
      shuttingDown,
      ...(status === 'fail' ? { output: NOT_STARTED } : {}),
    };
    if (status !== 'fail') startupPassed = report;
    return report;
  };

  const report = async (kind: CheckKind): Promise<HealthReport> => {
    if (kind === 'startup') return startupReport();
    if (kind === 'readiness') {
      if (shuttingDown) {
        return {
          kind,
          status: 'fail',
          checks: [],
          output: HealthErrors.HEALTH_SHUTTING_DOWN.title,
          shuttingDown: true,
        };
      }
      if (startupPassed === undefined) {
        const startup = await startupReport();
        if (startup.status === 'fail') {
          return { ...startup, kind, output: NOT_STARTED };
        }
      }
    }
    if (kind !== 'liveness' && kind !== 'readiness') {
      throw new TypeError(`unknown probe kind: ${String(kind)}`);
    }
    const { status, checks } = await evaluate(kind);
    return { kind, status, checks, shuttingDown };
  };

  const health: Health = {
    get shuttingDown() {
      return shuttingDown;
    },
    get started() {
      return startupPassed !== undefined;
    },
    get signal() {
      return abort.signal;
    },
    get inFlight() {
      return beacons.size;
    },
    service,
    register,
    report,
    async response(kind, responseOptions = {}) {
      return healthResponse(await report(kind), {
        detail: responseOptions.detail === true,
        service,
      });
    },
    beacon: (name) => beacons.create(name),
    beacons: () => beacons.names(),
    whenIdle: () => beacons.whenIdle(),
    beginShutdown() {
      if (shuttingDown) return;
      shuttingDown = true;
      abort.abort(HealthErrors.HEALTH_SHUTTING_DOWN({ captureStack: false }));
    },
    runCounts() {
      const counts: Record<string, number> = {};
      for (const runner of runners) counts[runner.check.key] = runner.runs;
      return counts;
    },
    start() {
      if (running) return;
      running = true;
      for (const runner of runners) runner.start();
    },
    stop() {
      if (!running) return;
      running = false;
      for (const runner of runners) runner.stop();
    },
  };
  if (autoStart) health.start();
  return health;
}

/** Critical fail -> fail; any other fail or warn -> warn; else pass. */
function aggregate(checks: readonly CheckResult[]): HealthStatus {
  let status: HealthStatus = 'pass';
  for (const check of checks) {
    if (check.status === 'fail') {
      if (check.critical) return 'fail';
      status = 'warn';
    } else if (check.status === 'warn') {
      status = 'warn';
    }
  }
  return status;
}
