import { isProdError, isResult, type ProdError, withDeadline } from '@prod/core';
import type { CheckResult, HealthLogger, HealthStatus, Observation } from '../check.js';
import { HealthErrors } from '../errors.js';
import { describeThrown, safeOutput } from './safe-output.js';
import type { NormalizedCheck } from './validate-check.js';

const STATUSES: ReadonlySet<string> = new Set<HealthStatus>(['pass', 'warn', 'fail']);

/**
 * Runs one check: bounded by its timeout, single-flight, cached, and optionally on a
 * background loop. Probes call `current()`, which answers from the cache whenever it can.
 */
export class CheckRunner {
  readonly check: NormalizedCheck;
  private last: CheckResult | undefined;
  private lastAt = 0;
  private staleResult: CheckResult | undefined;
  private reported: HealthStatus | undefined;
  private inflight: Promise<CheckResult> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** How many times the check function was called (for tests and benchmarks). */
  runs = 0;

  constructor(
    check: NormalizedCheck,
    private readonly logger: HealthLogger | undefined = undefined,
  ) {
    this.check = check;
  }

  /** The last result, if any. */
  get lastResult(): CheckResult | undefined {
    return this.last;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.check.definition.start?.();
    if (this.check.interval !== undefined) this.loop();
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.check.definition.stop?.();
  }

  /** The result a probe should see now: cached when fresh, else one shared run. */
  current(): CheckResult | Promise<CheckResult> {
    const last = this.last;
    if (last === undefined) return this.run();
    const age = Date.now() - this.lastAt;
    if (this.check.interval !== undefined && this.running) {
      if (age <= this.check.staleAfter) return last;
      if (this.staleResult === undefined) {
        this.staleResult = this.stale(last, age);
        this.note(this.staleResult);
      }
      return this.staleResult;
    }
    if (age < this.check.cacheTtl) return last;
    return this.run();
  }

  /** Runs the check now, unless a run is already in flight (then shares it). */
  run(): Promise<CheckResult> {
    // Deferred by a microtask: a check that reads its own probe finds this run in flight.
    this.inflight ??= Promise.resolve()
      .then(() => this.execute())
      .then((result) => {
        this.inflight = undefined;
        this.note(result);
        this.last = result;
        this.lastAt = Date.now();
        this.staleResult = undefined;
        return result;
      });
    return this.inflight;
  }

  private loop(): void {
    void this.run().then(() => {
      if (!this.running) return;
      this.timer = setTimeout(() => this.loop(), this.check.interval);
      this.timer.unref();
    });
  }

  private async execute(): Promise<CheckResult> {
    const { timeout } = this.check;
    const time = new Date().toISOString();
    this.runs += 1;
    const outcome = await withDeadline(
      (signal) => this.check.definition.check({ signal, timeoutMs: timeout }),
      {
        timeoutMs: timeout,
        reason: () => HealthErrors.HEALTH_CHECK_TIMEOUT({ captureStack: false }),
        unref: true,
      },
    );
    const durationMs = outcome.durationMs;
    if (outcome.status === 'timeout') {
      return this.failed(
        time,
        durationMs,
        HealthErrors.HEALTH_CHECK_TIMEOUT({
          message: `timed out after ${timeout} ms`,
          details: { check: this.check.key, timeoutMs: timeout },
          captureStack: false,
        }),
      );
    }
    if (outcome.status === 'threw') {
      return this.failed(
        time,
        durationMs,
        HealthErrors.HEALTH_CHECK_FAILED({
          message: describeThrown(outcome.error),
          cause: outcome.error,
          captureStack: false,
        }),
      );
    }
    return this.settled(time, durationMs, outcome.value);
  }

  /** What a check function returned, as a result. */
  private settled(time: string, durationMs: number, outcome: unknown): CheckResult {
    if (!isResult(outcome)) {
      return this.failed(
        time,
        durationMs,
        HealthErrors.HEALTH_CHECK_FAILED({
          message: 'check did not return a Result',
          captureStack: false,
        }),
      );
    }
    if (!outcome.ok) {
      const error: ProdError = isProdError(outcome.error)
        ? outcome.error
        : HealthErrors.HEALTH_CHECK_FAILED({
            message: describeThrown(outcome.error),
            cause: outcome.error,
            captureStack: false,
          });
      return this.failed(time, durationMs, error);
    }
    return this.observed(time, durationMs, outcome.value);
  }

  /** Logs a status change (and the first status) at debug: what an operator reads back later. */
  private note(next: CheckResult): void {
    const previous = this.reported;
    if (next.status === previous) return;
    this.reported = next.status;
    this.logger?.debug(
      {
        check: this.check.key,
        from: previous ?? null,
        to: next.status,
        critical: this.check.critical,
        ...(next.error === undefined ? {} : { code: next.error.code }),
        ...(next.output === undefined ? {} : { output: next.output }),
      },
      'health: check status changed',
    );
  }

  private base(time: string, durationMs: number): Omit<CheckResult, 'status'> {
    const { key, name, measurement, critical, componentType, componentId } = this.check;
    return {
      key,
      name,
      measurement,
      critical,
      componentType,
      ...(componentId === undefined ? {} : { componentId }),
      time,
      durationMs,
    };
  }

  private failed(time: string, durationMs: number, error: ProdError): CheckResult {
    const output = safeOutput(error.message);
    return {
      ...this.base(time, durationMs),
      status: 'fail',
      ...(output === undefined ? {} : { output }),
      error,
    };
  }

  private observed(time: string, durationMs: number, value: unknown): CheckResult {
    const observation: Observation =
      typeof value === 'object' && value !== null ? (value as Observation) : {};
    const status: HealthStatus =
      typeof observation.status === 'string' && STATUSES.has(observation.status)
        ? observation.status
        : 'pass';
    const raw = observation.observedValue;
    const hasValue =
      (typeof raw === 'number' && Number.isFinite(raw)) ||
      typeof raw === 'boolean' ||
      (typeof raw === 'string' && raw.length <= 256);
    const unit =
      typeof observation.observedUnit === 'string' && observation.observedUnit.length <= 32
        ? observation.observedUnit
        : undefined;
    const output = safeOutput(observation.output);
    return {
      ...this.base(time, durationMs),
      status,
      observedValue: hasValue ? (raw as number | string | boolean) : durationMs,
      ...(hasValue ? (unit === undefined ? {} : { observedUnit: unit }) : { observedUnit: 'ms' }),
      ...(output === undefined ? {} : { output }),
      ...(status === 'fail'
        ? {
            error: HealthErrors.HEALTH_CHECK_FAILED({
              message: output ?? `${this.check.key} reported fail`,
              captureStack: false,
            }),
          }
        : {}),
    };
  }

  private stale(last: CheckResult, age: number): CheckResult {
    const error = HealthErrors.HEALTH_CHECK_STALE({
      message: `last result is ${Math.round(age)} ms old (limit ${this.check.staleAfter} ms)`,
      captureStack: false,
    });
    const { output: _output, error: _error, ...rest } = last;
    return { ...rest, status: 'fail', output: error.message, error };
  }
}
