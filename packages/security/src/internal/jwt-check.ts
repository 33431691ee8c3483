import type { MaybePromise, Result } from '@prod/core';
import type { SecurityActor } from '../actor.js';
import type { JwtError } from '../errors.js';

/**
 * The check behind `JwtVerifier.verify` for `authPart`: hands the token's actor (or why it was
 * refused) to `done` in the one promise it chains on jose's `jwtVerify`, without the
 * `VerifiedJwt` wrapper, and synchronously when the token is refused before verification
 * (each promise costs an AsyncLocalStorage hook). Kept off the public surface under a symbol
 * of this package.
 */
export type JwtCheck = <TAnswer>(
  token: string,
  done: (outcome: Result<SecurityActor, JwtError>) => TAnswer,
) => MaybePromise<TAnswer>;

export const JWT_CHECK: unique symbol = Symbol('@prod/security/jwt-check');

/** The check of a verifier made by `createJwtVerifier`, or undefined for any other object. */
export function jwtCheckOf(verifier: object): JwtCheck | undefined {
  const found = (verifier as Record<symbol, unknown>)[JWT_CHECK];
  return typeof found === 'function' ? (found as JwtCheck) : undefined;
}
