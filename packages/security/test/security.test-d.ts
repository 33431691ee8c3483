import type { Actor, Part, ProdError, Result, RouteMeta } from '@prod/core';
import {
  type ApiKeyError,
  authMeta,
  authPart,
  corsPart,
  createApiKeys,
  createJwtVerifier,
  currentActor,
  type IssuedApiKey,
  type JwtError,
  type ResolvedRouteAuth,
  routeAuth,
  routeSecurityHeaders,
  type SecurityActor,
  type SecurityError,
  securityHeadersPart,
  type VerifiedJwt,
} from '@prod/security';
import { describe, expectTypeOf, it } from 'vitest';

describe('types', () => {
  it("the actor is a superset of core's Actor", () => {
    expectTypeOf<SecurityActor>().toExtend<Actor>();
    expectTypeOf(currentActor()).toEqualTypeOf<SecurityActor | undefined>();
    expectTypeOf<SecurityActor['via']>().toEqualTypeOf<'api-key' | 'jwt'>();
  });

  it('API key and JWT results name the codes they can fail with', () => {
    const apiKeys = createApiKeys({ secret: 'x'.repeat(32) });
    expectTypeOf(apiKeys.verify('k')).resolves.toEqualTypeOf<Result<SecurityActor, ApiKeyError>>();
    expectTypeOf<ApiKeyError['code']>().toEqualTypeOf<
      | 'SECURITY_INVALID_TOKEN'
      | 'SECURITY_TOKEN_REVOKED'
      | 'SECURITY_TOKEN_EXPIRED'
      | 'SECURITY_KEY_STORE_UNAVAILABLE'
    >();
    expectTypeOf(apiKeys.issue({ owner: 'o' })).resolves.toEqualTypeOf<
      Result<
        IssuedApiKey,
        SecurityError<'SECURITY_INVALID_INPUT' | 'SECURITY_KEY_STORE_UNAVAILABLE'>
      >
    >();
    const jwt = createJwtVerifier({
      issuer: 'i',
      audience: 'a',
      jwks: 'https://idp.test/jwks.json',
    });
    expectTypeOf(jwt.verify('t')).resolves.toEqualTypeOf<Result<VerifiedJwt, JwtError>>();
    expectTypeOf<JwtError>().toExtend<ProdError>();
  });

  it('parts are Parts; route settings are route metadata', () => {
    const apiKeys = createApiKeys({ secret: 'x'.repeat(32) });
    expectTypeOf(authPart({ apiKeys })).toEqualTypeOf<Part>();
    expectTypeOf(corsPart({ origins: '*' })).toEqualTypeOf<Part>();
    expectTypeOf(securityHeadersPart()).toEqualTypeOf<Part>();
    expectTypeOf(routeAuth({ scopes: ['a'] })).toEqualTypeOf<RouteMeta>();
    expectTypeOf(routeSecurityHeaders({ profile: 'html' })).toEqualTypeOf<RouteMeta>();
    expectTypeOf(authMeta.read({ meta: {} })).toEqualTypeOf<ResolvedRouteAuth | undefined>();
    // @ts-expect-error: a requirement is required, optional or none
    routeAuth({ auth: 'maybe' });
    // @ts-expect-error: origins are required
    corsPart({});
    // @ts-expect-error: issuer and audience are required
    createJwtVerifier({ jwks: 'https://idp.test/jwks.json' });
  });
});
