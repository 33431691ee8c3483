import { defineRouteMeta, optionChecks, type RouteMeta, type RouteMetaKey } from '@prod/core';
import { SecurityErrors } from './errors.js';
import { isScopeToken } from './internal/syntax.js';

/** What a route needs from its caller. */
export interface RouteAuth {
  /**
   * `required`: no credentials is a 401; `optional`: credentials are checked when sent (an
   * invalid one is still a 401) and set the actor, their absence is fine; `none`: credentials
   * are not even read. Default `required` when `scopes` are given, else `optional`.
   */
  readonly auth?: 'required' | 'optional' | 'none';
  /** Scopes the caller must hold, all of them (a 403 `insufficient_scope` names the missing). */
  readonly scopes?: readonly string[];
}

/** A route's requirement as the auth part reads it: checked and complete. */
export interface ResolvedRouteAuth {
  readonly auth: 'required' | 'optional' | 'none';
  readonly scopes: readonly string[];
}

/**
 * The route metadata key of @prod/security (`@prod/security/auth`), read by `authPart` on every
 * request. Prefer {@link routeAuth}, which checks what you declare when the route is defined.
 */
export const authMeta: RouteMetaKey<ResolvedRouteAuth> =
  defineRouteMeta<ResolvedRouteAuth>('@prod/security/auth');

const check = optionChecks(SecurityErrors.SECURITY_INVALID_OPTIONS);

/** Checks a requirement and fills in its defaults (shared by `routeAuth` and `authPart`). */
export function resolveRouteAuth(name: string, given: RouteAuth): ResolvedRouteAuth {
  check.object(name, given);
  const scopes = given.scopes ?? [];
  if (!Array.isArray(scopes)) check.fail(`${name}.scopes`, 'a list of scope strings', scopes);
  for (const scope of scopes) {
    if (!isScopeToken(scope)) {
      check.fail(
        `${name}.scopes`,
        'scope tokens (printable ASCII, no space, quote or backslash)',
        scope,
      );
    }
  }
  const auth = check.oneOf(
    `${name}.auth`,
    given.auth,
    ['required', 'optional', 'none'],
    scopes.length > 0 ? 'required' : 'optional',
  );
  if (auth !== 'required' && scopes.length > 0) {
    check.fail(`${name}.auth`, '"required" for a route that needs scopes', auth);
  }
  return Object.freeze({ auth, scopes: Object.freeze([...scopes]) });
}

/**
 * A route's authentication requirement, checked now (a bad one throws
 * `SECURITY_INVALID_OPTIONS` when the route is defined): spread it into the route's `meta`.
 *
 * @example
 * const notes = definePart({
 *   name: 'notes',
 *   routes: [
 *     { method: 'GET', path: '/v1/notes', meta: routeAuth({ auth: 'optional' }), handler: () => json(200, []) },
 *     {
 *       method: 'POST',
 *       path: '/v1/notes',
 *       meta: routeAuth({ scopes: ['notes:write'] }),
 *       handler: () => json(201, { id: '1' }),
 *     },
 *   ],
 * });
 */
export function routeAuth(requirement: RouteAuth): RouteMeta {
  return authMeta(resolveRouteAuth('requirement', requirement));
}
