import { err, ok, type ProdError, type Result } from '@prod/core';
import type { CheckContext, CheckOptions, HealthCheck, Observation } from '../check.js';
import { HealthErrors } from '../errors.js';
import { buildCheck, elapsed } from '../internal/build-check.js';
import { describeThrown } from '../internal/safe-output.js';

/** Options of {@link httpCheck}. */
export interface HttpCheckOptions extends CheckOptions {
  /** Default `GET`. */
  readonly method?: 'GET' | 'HEAD';
  /** Request headers (an API key, say). Never shown in any output. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Which statuses count as up: a list, or a predicate. Default 200-399. */
  readonly expectStatus?: readonly number[] | ((status: number) => boolean);
  /** Latency (ms) from which the check answers `warn`. */
  readonly warnLatency?: number;
  /** Latency (ms) from which the check answers `fail` (still below the timeout). */
  readonly failLatency?: number;
}

/**
 * A check of an HTTP dependency: one request with the global `fetch`, reporting its
 * latency (`http:responseTime`, ms), failing on an unexpected status or a latency over
 * `failLatency`. The URL never appears in any output (it may carry a token).
 *
 * @returns a {@link HealthCheck}; its runs fail with `HEALTH_CHECK_FAILED` (network error,
 * unexpected status, too slow) or `HEALTH_CHECK_TIMEOUT`.
 * @throws ProdError `HEALTH_INVALID_OPTIONS` when `url` is not an http: or https: URL.
 * @example
 * httpCheck('http://search:9200/_cluster/health', { name: 'search', critical: false });
 */
export function httpCheck(url: string | URL, options: HttpCheckOptions = {}): HealthCheck {
  const target = URL.canParse(String(url)) ? new URL(String(url)) : undefined;
  if (target === undefined || (target.protocol !== 'http:' && target.protocol !== 'https:')) {
    // The URL itself is never echoed: it may carry a token.
    throw HealthErrors.HEALTH_INVALID_OPTIONS({
      message: 'option url must be an http: or https: URL',
      details: { option: 'url', expected: 'an http: or https: URL' },
    });
  }
  const expect = options.expectStatus;
  const accepts = (status: number): boolean =>
    expect === undefined
      ? status >= 200 && status < 400
      : typeof expect === 'function'
        ? expect(status)
        : expect.includes(status);
  return buildCheck(
    { name: 'http', measurement: 'responseTime', kind: 'readiness', componentType: 'component' },
    options,
    async ({ signal }: CheckContext): Promise<Result<Observation, ProdError>> => {
      const started = performance.now();
      let status: number;
      try {
        const response = await fetch(target, {
          method: options.method ?? 'GET',
          headers: { ...options.headers },
          redirect: 'manual',
          signal,
        });
        status = response.status;
        // Release the connection without reading a body nobody looks at.
        await response.body?.cancel().catch(() => {});
      } catch (error) {
        return err(
          HealthErrors.HEALTH_CHECK_FAILED({
            message: describeThrown(error),
            cause: error,
            captureStack: false,
          }),
        );
      }
      const latency = elapsed(started);
      if (!accepts(status)) {
        return ok({
          observedValue: latency,
          observedUnit: 'ms',
          status: 'fail',
          output: `unexpected HTTP status ${status}`,
        });
      }
      if (options.failLatency !== undefined && latency > options.failLatency) {
        return ok({
          observedValue: latency,
          observedUnit: 'ms',
          status: 'fail',
          output: `HTTP ${status} took over ${options.failLatency} ms`,
        });
      }
      if (options.warnLatency !== undefined && latency > options.warnLatency) {
        return ok({
          observedValue: latency,
          observedUnit: 'ms',
          status: 'warn',
          output: `HTTP ${status} took over ${options.warnLatency} ms`,
        });
      }
      return ok({ observedValue: latency, observedUnit: 'ms', output: `HTTP ${status}` });
    },
  );
}
