import {
  currentContext,
  definePart,
  defineRouteMeta,
  type HttpRequest,
  isProdError,
  optionChecks,
  type Part,
  type ProdError,
  type RouteMetaKey,
} from '@prod/core';
import type { AuditLog } from './create-audit-log.js';
import { AuditErrors } from './errors.js';
import type { AuditActor, AuditOutcome, AuditResource } from './types.js';

/** What a route asks to be audited as. */
export interface AuditRouteMeta {
  /** The event's action (`note.update`). */
  readonly action: string;
  /**
   * The resource: a type (its id is taken from the `:id` path parameter), a resource, or a
   * function of the request. Default: the action's first segment and `:id`.
   */
  readonly resource?:
    | string
    | AuditResource
    | ((request: HttpRequest) => AuditResource | undefined);
  /** Extra details from the request (redacted like every detail). Never put the body in whole. */
  readonly details?: (request: HttpRequest) => Record<string, unknown> | undefined;
}

/**
 * The route metadata key of @prod/audit: `meta: auditAction({ action: 'note.update' })` on a
 * route makes `auditPart` record every request to it.
 */
export const auditAction: RouteMetaKey<AuditRouteMeta> =
  defineRouteMeta<AuditRouteMeta>('@prod/audit/action');

/** Options of {@link auditPart}. */
export interface AuditPartOptions {
  /**
   * Also audit requests with these methods on routes without metadata, as `http.<method>`
   * with the route template as resource: `['POST', 'PUT', 'PATCH', 'DELETE']` audits every
   * write. Default none.
   */
  readonly methods?: readonly string[];
  /** Who acted, when the context has no actor (set by authentication). Default: nobody. */
  readonly actor?: (request: HttpRequest) => AuditActor | undefined;
  /** Told when a record fails (the response has gone already). Default: the context logger, else `console.error`. */
  readonly onError?: (error: ProdError, request: HttpRequest) => void;
}

const check = optionChecks(AuditErrors.AUDIT_INVALID_OPTIONS);

function outcomeOf(status: number): AuditOutcome {
  if (status === 401 || status === 403) return 'denied';
  return status < 400 ? 'success' : 'failure';
}

function resourceOf(
  meta: AuditRouteMeta | undefined,
  request: HttpRequest,
): AuditResource | undefined {
  const id = request.params.id;
  if (meta === undefined) return { type: 'route', id: request.route ?? request.path };
  const given = meta.resource;
  if (typeof given === 'function') return given(request);
  if (typeof given === 'object') return given;
  const type = given ?? meta.action.split(/[.:]/)[0] ?? 'resource';
  return id === undefined ? { type } : { type, id };
}

/**
 * A neutral part that records an audit event for every request whose route carries
 * `auditAction(...)` metadata (and, with `methods`, every request with those methods): who
 * (the context's actor), what (the action and resource), where (ip, request id, trace id,
 * method, route template, user agent), the outcome from the status (`denied` for 401 and 403,
 * `failure` for other errors) and the error code as the reason. It records in `onResponse`,
 * after the answer: for an action that must not happen without its record, call
 * `log.record()` in the handler before answering.
 *
 * @example
 * const log = createAuditLog({ sink: memorySink(), signingKey: 'a-32-byte-or-longer-secret-from-config' });
 * const notes = definePart({
 *   name: 'notes',
 *   routes: [{ method: 'DELETE', path: '/v1/notes/:id', meta: auditAction({ action: 'note.delete' }), handler: () => ({ status: 204 }) }],
 * });
 * const parts = [auditPart(log), notes];
 */
export function auditPart(log: AuditLog, options: AuditPartOptions = {}): Part {
  if (typeof log?.record !== 'function') check.fail('log', 'an AuditLog', log);
  const given = check.object<AuditPartOptions>('options', options);
  const methods = new Set((given.methods ?? []).map((method) => String(method).toUpperCase()));
  const actorOf = check.fn<(request: HttpRequest) => AuditActor | undefined>('actor', given.actor);
  const onError =
    check.fn<(error: ProdError, request: HttpRequest) => void>('onError', given.onError) ??
    ((error: ProdError) => {
      const logger = currentContext()?.logger;
      if (logger !== undefined) logger.error({ err: error }, 'audit record failed');
      else console.error('@prod/audit: audit record failed', error);
    });

  return definePart({
    name: 'audit',
    onResponse(request, info) {
      const meta = auditAction.read(request);
      if (meta === undefined && !methods.has(request.method)) return;
      const context = currentContext();
      const actor = context?.actor ?? actorOf?.(request);
      const error = info.error;
      const reason = isProdError(error)
        ? error.code
        : info.status >= 400
          ? `HTTP ${info.status}`
          : undefined;
      const details = meta?.details?.(request);
      const resource = resourceOf(meta, request);
      const userAgent = request.headers['user-agent'];
      void log
        .record({
          action: meta?.action ?? `http.${request.method.toLowerCase()}`,
          outcome: outcomeOf(info.status),
          ...(actor === undefined ? {} : { actor }),
          ...(resource === undefined ? {} : { resource }),
          ...(reason === undefined ? {} : { reason }),
          where: {
            ...(request.ip === undefined ? {} : { ip: request.ip }),
            method: request.method,
            ...(request.route === undefined ? {} : { route: request.route }),
            ...(userAgent === undefined ? {} : { userAgent }),
          },
          details: { status: info.status, durationMs: Math.round(info.durationMs), ...details },
        })
        .then((recorded) => {
          if (!recorded.ok) onError(recorded.error, request);
        });
    },
  });
}
