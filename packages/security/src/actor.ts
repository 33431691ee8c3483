import { type Actor, currentContext } from '@prod/core';

/**
 * Who is calling, as the authentication part puts it in the request context
 * (`currentContext().actor`): a structural superset of @prod/core's `Actor`, so the logger,
 * audit and rate limits read it without knowing this package.
 */
export interface SecurityActor extends Actor {
  /** The API key's owner, or the JWT's `sub`. */
  readonly id: string;
  /** `api-key` for an API key; `user` (or the verifier's `actorType`) for a JWT. */
  readonly type: string;
  /** What the credentials allow (`notes:write`), as granted at issue or in the token's `scope`. */
  readonly scopes: readonly string[];
  /** The plan or class of the caller, read by @prod/ratelimit for its per-tier limits. */
  readonly tier?: string;
  /** How the caller authenticated. */
  readonly via: 'api-key' | 'jwt';
  /** The API key's id (never the key itself), for audit and per-key limits. */
  readonly keyId?: string;
  /** The JWT's issuer. */
  readonly issuer?: string;
  /** The verified JWT claims. */
  readonly claims?: Readonly<Record<string, unknown>>;
}

/**
 * The actor the authentication part set for the current request, or undefined (no context,
 * no credentials, or an actor set by something else without `scopes` and `via`).
 *
 * @example
 * const actor = currentActor();
 * if (actor?.scopes.includes('notes:admin')) console.log(`${actor.id} is an admin`);
 */
export function currentActor(): SecurityActor | undefined {
  const actor = currentContext()?.actor as Partial<SecurityActor> | undefined;
  if (actor === undefined || !Array.isArray(actor.scopes)) return undefined;
  return actor.via === 'api-key' || actor.via === 'jwt' ? (actor as SecurityActor) : undefined;
}

/** Whether `actor` holds every scope in `needed`; the missing ones otherwise. */
export function missingScopes(
  actor: Pick<SecurityActor, 'scopes'>,
  needed: readonly string[],
): readonly string[] {
  if (needed.length === 0) return needed;
  const missing: string[] = [];
  for (const scope of needed) if (!actor.scopes.includes(scope)) missing.push(scope);
  return missing;
}
