import { defineErrors, type ProdError } from '@prod/core';

/**
 * The error codes of @prod/security.
 *
 * - `SECURITY_UNAUTHENTICATED`: a route that needs credentials got none (401, a bare
 *   `WWW-Authenticate: Bearer` challenge, as RFC 6750 section 3.1 asks).
 * - `SECURITY_INVALID_TOKEN`: an API key or a JWT that is malformed, has a bad checksum or
 *   signature, an unknown key id, the wrong issuer or audience, or is not yet valid (401,
 *   `error="invalid_token"`).
 * - `SECURITY_TOKEN_EXPIRED`: an expired API key or JWT (401, `error="invalid_token"`).
 * - `SECURITY_TOKEN_REVOKED`: a revoked API key (401, `error="invalid_token"`).
 * - `SECURITY_INVALID_REQUEST`: a malformed `Authorization` header, or credentials sent two ways
 *   at once (400, `error="invalid_request"`).
 * - `SECURITY_INSUFFICIENT_SCOPE`: valid credentials without a scope the route needs (403,
 *   `error="insufficient_scope"`, the missing scopes in `details.missing`).
 * - `SECURITY_JWKS_UNAVAILABLE`: the remote JWKS did not answer in time, answered an error or
 *   something that is not a key set (503, retryable): not the client's fault, never a 401.
 * - `SECURITY_KEY_STORE_UNAVAILABLE`: the API key store failed or passed its timeout (503,
 *   retryable).
 * - `SECURITY_CORS_REJECTED`: a CORS preflight from an origin, for a method or with headers the
 *   policy does not allow (403, `details.reason`).
 * - `SECURITY_CROSS_SITE_REQUEST`: a cross-site request with an unsafe method refused by the
 *   fetch-metadata protection (403).
 * - `SECURITY_KEY_NOT_FOUND`: `get` or `revoke` named an API key id that does not exist (404).
 * - `SECURITY_INVALID_INPUT`: `issue` was given an owner, scopes, tier or expiry it cannot store
 *   (400); nothing was written.
 * - `SECURITY_INVALID_OPTIONS`: a factory's option is invalid (thrown at construction).
 */
export const SecurityErrors = defineErrors({
  SECURITY_UNAUTHENTICATED: { status: 401, title: 'Authentication required' },
  SECURITY_INVALID_TOKEN: { status: 401, title: 'Invalid credentials' },
  SECURITY_TOKEN_EXPIRED: { status: 401, title: 'Expired credentials' },
  SECURITY_TOKEN_REVOKED: { status: 401, title: 'Revoked credentials' },
  SECURITY_INVALID_REQUEST: { status: 400, title: 'Invalid authentication request' },
  SECURITY_INSUFFICIENT_SCOPE: { status: 403, title: 'Insufficient scope' },
  SECURITY_JWKS_UNAVAILABLE: {
    status: 503,
    title: 'Token keys unavailable',
    retryable: true,
  },
  SECURITY_KEY_STORE_UNAVAILABLE: {
    status: 503,
    title: 'API key store unavailable',
    retryable: true,
  },
  SECURITY_CORS_REJECTED: { status: 403, title: 'CORS request not allowed' },
  SECURITY_CROSS_SITE_REQUEST: { status: 403, title: 'Cross-site request refused' },
  SECURITY_KEY_NOT_FOUND: { status: 404, title: 'API key not found' },
  SECURITY_INVALID_INPUT: { status: 400, title: 'Invalid API key input' },
  SECURITY_INVALID_OPTIONS: { status: 500, title: 'Invalid security options' },
});

/** The codes of {@link SecurityErrors}. */
export type SecurityErrorCode = keyof typeof SecurityErrors;

/** An error of this package, with the codes it can have (all of them by default). */
export type SecurityError<TCode extends SecurityErrorCode = SecurityErrorCode> = ProdError<TCode>;

/** Why an API key was refused (a 401), or could not be checked (the store: a 503). */
export type ApiKeyError = SecurityError<
  | 'SECURITY_INVALID_TOKEN'
  | 'SECURITY_TOKEN_REVOKED'
  | 'SECURITY_TOKEN_EXPIRED'
  | 'SECURITY_KEY_STORE_UNAVAILABLE'
>;

/** Why a JWT was refused (a 401), or could not be checked (the JWKS: a 503). */
export type JwtError = SecurityError<
  'SECURITY_INVALID_TOKEN' | 'SECURITY_TOKEN_EXPIRED' | 'SECURITY_JWKS_UNAVAILABLE'
>;
