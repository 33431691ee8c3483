import { createHash, timingSafeEqual } from 'node:crypto';
import {
  definePart,
  type HttpRequest,
  type HttpResponse,
  optionChecks,
  type Part,
  RequestSlot,
} from '@prod/core';
import type { Beacon } from './beacons.js';
import type { CheckKind } from './check.js';
import type { Health } from './create-health.js';
import { HealthErrors } from './errors.js';

const check = optionChecks(HealthErrors.HEALTH_INVALID_OPTIONS);
const PATH_KEYS = ['live', 'ready', 'startup'] as const;

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
 * `application/health+json` (200 pass/warn, 503 fail, `cache-control: no-store`), an
 * onRequest/onResponse pair that holds a beacon per in-flight request so the shutdown drain
 * waits for it, and an `onSend` that adds `connection: close` to every answer once the
 * shutdown has begun, so keep-alive clients leave.
 *
 * @throws ProdError `HEALTH_INVALID_OPTIONS` for an invalid option.
 * @example
 * import { mountExpress } from '@prod/express';
 * import express from 'express';
 * const app = express();
 * const health = createHealth();
 * mountExpress(app, { parts: [healthPart(health, { detail: bearerToken(process.env.HEALTH_TOKEN!) })] });
 */
export function healthPart(health: Health, options: HealthPartOptions = {}): Part {
  if (typeof health?.response !== 'function' || typeof health.beacon !== 'function') {
    check.fail('health', 'a Health from createHealth()', health);
  }
  const opts = check.object<HealthPartOptions>('options', options);
  const given = check.object<HealthPaths>('paths', opts.paths);
  for (const key of PATH_KEYS) {
    const path = given[key];
    if (path !== undefined && (typeof path !== 'string' || !path.startsWith('/'))) {
      check.fail(`paths.${key}`, 'a path starting with "/"', path);
    }
  }
  const paths = {
    live: given.live ?? '/health/live',
    ready: given.ready ?? '/health/ready',
    startup: given.startup ?? '/health/startup',
  };
  const detail = opts.detail;
  if (detail !== undefined && typeof detail !== 'boolean' && typeof detail !== 'function') {
    check.fail('detail', 'true, false or a predicate on the request', detail);
  }
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
  const tracking = check.boolean('trackRequests', opts.trackRequests, true);
  return definePart({
    name: 'health',
    onSend: (_request: HttpRequest, response: HttpResponse) =>
      health.shuttingDown ? closing(response) : undefined,
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
 * The answer with `connection: close` added, so the client opens its next connection
 * elsewhere (the drain refuses new ones, the load balancer has stopped routing here).
 */
function closing(response: HttpResponse): HttpResponse {
  return { ...response, headers: { ...response.headers, connection: 'close' } };
}

/**
 * A `detail` predicate that accepts `Authorization: Bearer <token>`, compared in
 * constant time (both sides hashed first, so lengths leak nothing either).
 *
 * @throws ProdError `HEALTH_INVALID_OPTIONS` when `token` is not a non-empty string.
 */
export function bearerToken(token: string): (request: HttpRequest) => boolean {
  if (typeof token !== 'string' || token.length === 0) {
    check.fail('token', 'a non-empty string', token);
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
