import { isProdError, isResult, type ProdError } from '@prod/core';
import type { CheckResult, HealthStatus, Observation } from '../check.js';
import { HealthErrors } from '../errors.js';
import { describeThrown, safeOutput } from './safe-output.js';
import type { NormalizedCheck } from './validate-check.js';

const TIMED_OUT = Symbol('timed out');
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
  private inflight: Promise<CheckResult> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** How many times the check function was called (for tests and benchmarks). */
  runs = 0;

  constructor(check: NormalizedCheck) {
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
      this.staleResult ??= this.stale(last, age);
      return this.staleResult;
    }
    if (age < this.check.cacheTtl) return last;
    return this.run();
  }

  /** Runs the check now, unless a run is already in flight (then shares it). */
  run(): Promise<CheckResult> {
    this.inflight ??= this.execute().then((result) => {
      this.inflight = undefined;
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
    const controller = new AbortController();
    const started = performance.now();
    const time = new Date().toISOString();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => {
        resolve(TIMED_OUT);
        controller.abort(HealthErrors.HEALTH_CHECK_TIMEOUT({ captureStack: false }));
      }, timeout);
      timer.unref();
    });
    this.runs += 1;
    const attempt = Promise.resolve().then(() =>
      this.check.definition.check({ signal: controller.signal, timeoutMs: timeout }),
    );
    // A run that outlives its timeout may still reject later: nobody is listening by then.
    attempt.catch(() => {});
    let outcome: unknown;
    let thrown: { error: unknown } | undefined;
    try {
      outcome = await Promise.race([attempt, deadline]);
    } catch (error) {
      thrown = { error };
    } finally {
      clearTimeout(timer);
    }
    const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
    if (outcome === TIMED_OUT) {
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
    if (thrown !== undefined) {
      return this.failed(
        time,
        durationMs,
        HealthErrors.HEALTH_CHECK_FAILED({
          message: describeThrown(thrown.error),
          cause: thrown.error,
          captureStack: false,
        }),
      );
    }
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
