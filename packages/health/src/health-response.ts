import type { HttpResponse } from '@prod/core';
import type { HealthReport, HealthStatus } from './check.js';

/** The media type of the IETF draft "Health Check Response Format for HTTP APIs". */
export const HEALTH_CONTENT_TYPE = 'application/health+json';

/** One entry of a `checks` array in `application/health+json`. */
export interface HealthJsonCheck {
  readonly status: HealthStatus;
  readonly componentId?: string;
  readonly componentType?: string;
  readonly observedValue?: number | string | boolean;
  readonly observedUnit?: string;
  readonly time?: string;
  readonly output?: string;
}

/** An `application/health+json` document. */
export interface HealthJson {
  readonly status: HealthStatus;
  readonly version?: string;
  readonly releaseId?: string;
  readonly serviceId?: string;
  readonly description?: string;
  readonly output?: string;
  readonly checks?: Readonly<Record<string, readonly HealthJsonCheck[]>>;
}

/** Service identity shown in the detail view. */
export interface ServiceInfo {
  readonly version?: string;
  readonly releaseId?: string;
  readonly serviceId?: string;
  readonly description?: string;
}

/** How to render a report. */
export interface RenderOptions {
  /**
   * Detail view: identity, observed values, units, times and outputs. Otherwise (the
   * public view) only the overall status and one status per check. Default false.
   */
  readonly detail?: boolean;
  readonly service?: ServiceInfo;
}

/**
 * Renders a report as an `application/health+json` document.
 *
 * The public view shows statuses only; the detail view adds what each check observed.
 * Outputs were scrubbed of URLs, credentials and secrets when the checks ran.
 */
export function renderHealth(report: HealthReport, options: RenderOptions = {}): HealthJson {
  const detail = options.detail === true;
  const checks: Record<string, HealthJsonCheck[]> = Object.create(null);
  for (const result of report.checks) {
    const entry: HealthJsonCheck = detail
      ? {
          status: result.status,
          ...(result.componentId === undefined ? {} : { componentId: result.componentId }),
          componentType: result.componentType,
          ...(result.observedValue === undefined ? {} : { observedValue: result.observedValue }),
          ...(result.observedUnit === undefined ? {} : { observedUnit: result.observedUnit }),
          time: result.time,
          ...(result.output === undefined ? {} : { output: result.output }),
        }
      : { status: result.status };
    const list = checks[result.key];
    if (list === undefined) checks[result.key] = [entry];
    else list.push(entry);
  }
  const service = detail ? (options.service ?? {}) : {};
  return {
    status: report.status,
    ...(service.version === undefined ? {} : { version: service.version }),
    ...(service.releaseId === undefined ? {} : { releaseId: service.releaseId }),
    ...(service.serviceId === undefined ? {} : { serviceId: service.serviceId }),
    ...(service.description === undefined ? {} : { description: service.description }),
    ...(detail && report.output !== undefined ? { output: report.output } : {}),
    checks: { ...checks },
  };
}

/**
 * The HTTP answer for a report: 200 for `pass` and `warn`, 503 for `fail`,
 * `application/health+json`, never cached.
 */
export function healthResponse(report: HealthReport, options: RenderOptions = {}): HttpResponse {
  return {
    status: report.status === 'fail' ? 503 : 200,
    headers: {
      'content-type': HEALTH_CONTENT_TYPE,
      'cache-control': 'no-store',
    },
    body: renderHealth(report, options),
  };
}
