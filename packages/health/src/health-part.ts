import { createHash, timingSafeEqual } from 'node:crypto';
import { definePart, type HttpRequest, type Part, RequestSlot } from '@prod/core';
import type { Beacon } from './beacons.js';
import type { CheckKind } from './check.js';
import type { Health } from './create-health.js';

/** The probe paths. */
export interface HealthPaths {
  /** Default `/health/live`. */
  readonly live?: string;
  /** Default `/health/ready`. */
  readonly ready?: string;
  /** Default `/health/startup`. */
  readonly startup?: string;
}

/** Options of {@link healthPart}. */
export interface HealthPartOptions {
  readonly paths?: HealthPaths;
  /**
   * Who sees the detail view (observed values, outputs, identity): a predicate on the
   * request, e.g. {@link bearerToken}. Default: nobody (statuses only).
   */
  readonly detail?: boolean | ((request: HttpRequest) => boolean);
  /** Hold shutdown while requests are in flight (onRequest/onResponse). Default true. */
  readonly trackRequests?: boolean;
}

/**
 * The health routes and request tracking as a neutral `Part`, mounted by any adapter:
 * `GET /health/live`, `/health/ready`, `/health/startup` answering
 * `application/health+json` (200 pass/warn, 503 fail, `cache-control: no-store`), and
 * an onRequest/onResponse pair that holds a beacon per in-flight request so the
 * shutdown drain waits for it.
 *
 * @example
 * mount(app, [healthPart(health, { detail: bearerToken(process.env.HEALTH_TOKEN!) })]);
 */
export function healthPart(health: Health, options: HealthPartOptions = {}): Part {
  const paths = {
    live: options.paths?.live ?? '/health/live',
    ready: options.paths?.ready ?? '/health/ready',
    startup: options.paths?.startup ?? '/health/startup',
  };
  const detail = options.detail;
  const showDetail = (request: HttpRequest): boolean => {
    if (typeof detail === 'function') {
      try {
        return detail(request) === true;
      } catch {
        return false;
      }
    }
    return detail === true;
  };
  const probe = (kind: CheckKind) => (request: HttpRequest) =>
    health.response(kind, { detail: showDetail(request) });
  const probePaths = new Set(Object.values(paths));
  const holds = new RequestSlot<Beacon>('@prod/health in-flight beacon');
  const tracking = options.trackRequests !== false;
  return definePart({
    name: 'health',
    routes: [
      { method: 'GET', path: paths.live, handler: probe('liveness') },
      { method: 'GET', path: paths.ready, handler: probe('readiness') },
      { method: 'GET', path: paths.startup, handler: probe('startup') },
    ],
    ...(tracking
      ? {
          onRequest(request: HttpRequest) {
            if (!probePaths.has(request.path)) holds.set(request, health.beacon('http request'));
            return undefined;
          },
          onResponse(request: HttpRequest) {
            holds.take(request)?.release();
          },
        }
      : {}),
  });
}

/**
 * A `detail` predicate that accepts `Authorization: Bearer <token>`, compared in
 * constant time (both sides hashed first, so lengths leak nothing either).
 */
export function bearerToken(token: string): (request: HttpRequest) => boolean {
  if (typeof token !== 'string' || token.length === 0) {
    throw new TypeError('bearerToken: the token must be a non-empty string');
  }
  const expected = createHash('sha256').update(token).digest();
  return (request) => {
    const header = request.headers.authorization;
    if (typeof header !== 'string' || header.length > 4096) return false;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match === null) return false;
    const given = createHash('sha256')
      .update(match[1] ?? '')
      .digest();
    return timingSafeEqual(given, expected);
  };
}
