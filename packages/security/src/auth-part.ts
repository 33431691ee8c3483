import {
  currentContext,
  definePart,
  type EarlyResponse,
  type HttpRequest,
  type HttpResponse,
  isThenable,
  type MaybePromise,
  optionChecks,
  type Part,
  type ProdError,
  type Result,
  toHttpResponse,
} from '@prod/core';
import { missingScopes, type SecurityActor } from './actor.js';
import type { ApiKeys } from './api-keys.js';
import { SecurityErrors } from './errors.js';
import { apiKeyCheckOf } from './internal/api-key-check.js';
import { isCorsPreflight } from './internal/headers.js';
import { type JwtCheck, jwtCheckOf } from './internal/jwt-check.js';
import { isB64Token, isHttpToken } from './internal/syntax.js';
import type { JwtVerifier } from './jwt-verifier.js';
import {
  authMeta,
  type ResolvedRouteAuth,
  type RouteAuth,
  resolveRouteAuth,
} from './route-auth.js';

/** Options of {@link authPart}. Give `apiKeys`, `jwt`, or both. */
export interface AuthPartOptions {
  /** The part's name. Default `auth`. */
  readonly name?: string;
  /** API keys (`createApiKeys`), sent as `Authorization: Bearer <key>` or in `apiKeyHeader`. */
  readonly apiKeys?: ApiKeys;
  /** Bearer JWTs (`createJwtVerifier`). A bearer token with the API keys' prefix is a key. */
  readonly jwt?: JwtVerifier;
  /** The header API keys may also come in; `false` for `Authorization` only. Default `x-api-key`. */
  readonly apiKeyHeader?: string | false;
  /** The `realm` of the `WWW-Authenticate` challenges. Default `api`. */
  readonly realm?: string;
  /**
   * What a request needs when its route declares nothing (`routeAuth`) and `requirement`
   * answers nothing: the application's own framework routes and 404s included. Default
   * `{ auth: 'optional' }`: credentials are checked when sent.
   */
  readonly defaultRequirement?: RouteAuth;
  /**
   * The requirement of a request whose route declares none, by method or path (writes need a
   * key, reads are public): undefined falls back to `defaultRequirement`.
   */
  readonly requirement?: (request: HttpRequest) => RouteAuth | undefined;
}

type Credential =
  | { readonly kind: 'none' }
  | { readonly kind: 'malformed'; readonly message: string }
  | { readonly kind: 'api-key' | 'jwt'; readonly token: string };

const NONE: Credential = Object.freeze({ kind: 'none' });
const check = optionChecks(SecurityErrors.SECURITY_INVALID_OPTIONS);
const QUOTED_SAFE = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/;
// Anything longer is refused before the syntax check: the JWT limit is 8 KiB by default, and a
// Node server refuses headers over 16 KiB before any part runs.
const MAX_CREDENTIAL = 16 * 1024;
const MAX_REQUIREMENTS = 256;

/** RFC 6750 section 3: the quoted parameters carry only these characters. */
function quotedSafe(text: string): string {
  return QUOTED_SAFE.test(text) ? text : text.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '?');
}

/**
 * Authentication for any adapter: reads `Authorization: Bearer <token>` (an API key or a JWT)
 * or `X-API-Key`, verifies it, sets `currentContext().actor` (id, type, scopes, tier: what the
 * logger, audit and @prod/ratelimit read), and enforces what the route declares with
 * `routeAuth` (or what `requirement` says for routes that declare nothing).
 *
 * Failures are RFC 9457 problems with RFC 6750 challenges: no credentials where required is a
 * 401 with `WWW-Authenticate: Bearer realm="api"`; a bad, expired or revoked one a 401 with
 * `error="invalid_token"`; a malformed header or two credentials at once a 400 with
 * `error="invalid_request"`; a missing scope a 403 with `error="insufficient_scope"` and the
 * scope; a JWKS or key store that cannot answer a 503 (retryable), never a 401. A CORS
 * preflight is never challenged. Mount it after `corsPart` and `securityHeadersPart` (so its
 * refusals carry their headers) and before the parts that read the actor (rate limits, audit).
 *
 * @throws `SECURITY_INVALID_OPTIONS` without `apiKeys` or `jwt`, or with a bad option.
 * @example
 * const apiKeys = createApiKeys({ secret: 'a-long-random-server-secret-from-config' });
 * const auth = authPart({
 *   apiKeys,
 *   // writes need a key with notes:write, reads are public
 *   requirement: (request) =>
 *     request.method === 'GET' || request.method === 'HEAD' ? undefined : { scopes: ['notes:write'] },
 * });
 */
export function authPart(options: AuthPartOptions): Part {
  const given = check.object<AuthPartOptions>('options', options);
  const name = check.string('name', given.name, 'auth', { nonEmpty: true });
  const apiKeys = given.apiKeys;
  const jwt = given.jwt;
  if (apiKeys === undefined && jwt === undefined)
    check.fail('apiKeys', 'apiKeys, jwt or both', undefined);
  const checkKey = apiKeys === undefined ? undefined : apiKeyCheckOf(apiKeys);
  if (apiKeys !== undefined && checkKey === undefined) {
    check.fail('apiKeys', 'API keys made by createApiKeys()', apiKeys);
  }
  if (jwt !== undefined && typeof jwt?.verify !== 'function') {
    check.fail('jwt', 'a verifier made by createJwtVerifier()', jwt);
  }
  // A verifier of another making (a wrapper, a test double) goes through its `verify`.
  const checkJwt: JwtCheck | undefined =
    jwt === undefined
      ? undefined
      : (jwtCheckOf(jwt) ??
        ((token, done) =>
          jwt
            .verify(token)
            .then((verified) =>
              done(verified.ok ? { ok: true, value: verified.value.actor } : verified),
            )));
  const headerOption = given.apiKeyHeader ?? 'x-api-key';
  if (headerOption !== false && !isHttpToken(headerOption)) {
    check.fail('apiKeyHeader', 'a header name or false', headerOption);
  }
  const apiKeyHeader =
    apiKeys === undefined || headerOption === false ? undefined : headerOption.toLowerCase();
  const realm = check.string('realm', given.realm, 'api', { nonEmpty: true });
  if (!QUOTED_SAFE.test(realm))
    check.fail('realm', 'printable ASCII without quotes or backslashes', realm);
  const fallback = resolveRouteAuth('defaultRequirement', given.defaultRequirement ?? {});
  const requirementOf = check.fn<(request: HttpRequest) => RouteAuth | undefined>(
    'requirement',
    given.requirement,
  );
  // `requirement` answers a few distinct requirements, often as a fresh literal per call:
  // each is checked once, remembered by what it says (not by the object, which dies young).
  const resolved = new Map<string, ResolvedRouteAuth>();
  const challengeBase = `Bearer realm="${realm}"`;

  const requirementFor = (request: HttpRequest): ResolvedRouteAuth => {
    const declared = authMeta.read(request);
    if (declared !== undefined) return declared;
    const asked = requirementOf?.(request);
    if (asked === undefined) return fallback;
    const key = `${String(asked.auth)}|${JSON.stringify(asked.scopes ?? [])}`;
    let found = resolved.get(key);
    if (found === undefined) {
      found = resolveRouteAuth('requirement()', asked);
      if (resolved.size >= MAX_REQUIREMENTS) resolved.clear();
      resolved.set(key, found);
    }
    return found;
  };

  const credentialOf = (request: HttpRequest): Credential => {
    const authorization = request.headers.authorization;
    const headerKey = apiKeyHeader === undefined ? undefined : request.headers[apiKeyHeader];
    let bearer: string | undefined;
    if (authorization !== undefined && authorization !== '') {
      const space = authorization.indexOf(' ');
      const scheme = space === -1 ? authorization : authorization.slice(0, space);
      if (scheme.toLowerCase() === 'bearer') {
        bearer = space === -1 ? '' : authorization.slice(space + 1).trim();
        // An oversized token goes on to be refused by its length, unparsed.
        if (bearer.length <= MAX_CREDENTIAL && !isB64Token(bearer)) {
          return {
            kind: 'malformed',
            message: 'The Authorization header is not Bearer and one token',
          };
        }
      }
      // Another scheme (Basic, a signature) belongs to someone else: not our credentials.
    }
    if (headerKey !== undefined && headerKey !== '') {
      if (bearer !== undefined) {
        return {
          kind: 'malformed',
          message: 'Send credentials one way: Authorization or the API key header',
        };
      }
      return { kind: 'api-key', token: headerKey };
    }
    if (bearer === undefined) return NONE;
    if (checkKey !== undefined && (jwt === undefined || apiKeys?.looksLike(bearer) === true)) {
      return { kind: 'api-key', token: bearer };
    }
    return { kind: 'jwt', token: bearer };
  };

  const refuse = (
    error: ProdError,
    request: HttpRequest,
    challenge: string | undefined,
  ): HttpResponse => {
    const response = toHttpResponse(error, request);
    if (challenge === undefined) return response;
    return { ...response, headers: { ...response.headers, 'www-authenticate': challenge } };
  };

  const refuseToken = (error: ProdError, request: HttpRequest): HttpResponse => {
    if (error.status === 400) {
      return refuse(
        error,
        request,
        `${challengeBase}, error="invalid_request", error_description="${quotedSafe(error.message)}"`,
      );
    }
    if (error.status === 401) {
      return refuse(
        error,
        request,
        `${challengeBase}, error="invalid_token", error_description="${quotedSafe(error.message)}"`,
      );
    }
    return refuse(error, request, undefined);
  };

  const conclude = (
    request: HttpRequest,
    need: ResolvedRouteAuth,
    outcome: Result<SecurityActor, ProdError>,
  ): EarlyResponse => {
    if (!outcome.ok) return refuseToken(outcome.error, request);
    const actor = outcome.value;
    const context = currentContext();
    if (context !== undefined) context.actor = actor;
    const missing = missingScopes(actor, need.scopes);
    if (missing.length === 0) return undefined;
    const error = SecurityErrors.SECURITY_INSUFFICIENT_SCOPE({
      message: `Missing scope: ${missing.join(' ')}`,
      details: { missing, required: need.scopes },
      captureStack: false,
    });
    return refuse(
      error,
      request,
      `${challengeBase}, error="insufficient_scope", scope="${need.scopes.join(' ')}"`,
    );
  };

  const notJwt = SecurityErrors.SECURITY_INVALID_TOKEN({
    message: 'Bearer tokens here are API keys',
    captureStack: false,
  });

  return definePart({
    name,
    onRequest(request): MaybePromise<EarlyResponse> {
      if (isCorsPreflight(request)) return undefined;
      const need = requirementFor(request);
      if (need.auth === 'none') return undefined;
      const credential = credentialOf(request);
      if (credential.kind === 'none') {
        if (need.auth !== 'required') return undefined;
        return refuse(
          SecurityErrors.SECURITY_UNAUTHENTICATED({
            message: 'Send credentials: Authorization: Bearer <token>',
            captureStack: false,
          }),
          request,
          challengeBase,
        );
      }
      if (credential.kind === 'malformed') {
        return refuseToken(
          SecurityErrors.SECURITY_INVALID_REQUEST({
            message: credential.message,
            captureStack: false,
          }),
          request,
        );
      }
      if (credential.kind === 'jwt') {
        if (checkJwt === undefined) return refuseToken(notJwt, request);
        // One promise on top of jose's: each one costs an AsyncLocalStorage hook.
        return checkJwt(credential.token, (outcome) => conclude(request, need, outcome));
      }
      const outcome = (checkKey as NonNullable<typeof checkKey>)(credential.token);
      return isThenable(outcome)
        ? (outcome as Promise<Result<SecurityActor, ProdError>>).then((settled) =>
            conclude(request, need, settled),
          )
        : conclude(request, need, outcome as Result<SecurityActor, ProdError>);
    },
  });
}
