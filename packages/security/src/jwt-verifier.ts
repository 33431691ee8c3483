import { Buffer } from 'node:buffer';
import { createSecretKey, KeyObject, webcrypto } from 'node:crypto';
import { err, ok, optionChecks, type Result } from '@prod/core';
import {
  createLocalJWKSet,
  type JWK,
  type JWTHeaderParameters,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  jwtVerify,
} from 'jose';
import type { SecurityActor } from './actor.js';
import { type JwtError, SecurityErrors } from './errors.js';
import { JWT_CHECK, type JwtCheck } from './internal/jwt-check.js';
import { isPrintable, isScopeToken } from './internal/syntax.js';
import { type RemoteJwks, remoteJwks } from './remote-jwks.js';

/** What a verified JWT makes of its caller, before `via`, `issuer` and `claims` are added. */
export interface JwtActor {
  readonly id: string;
  readonly type?: string;
  readonly scopes?: readonly string[];
  readonly tier?: string;
}

/** Options of {@link createJwtVerifier}. Give one of `jwks`, `keys` or `secret`. */
export interface JwtVerifierOptions {
  /** The accepted `iss` (one, or any of a list). Required: a key set is often shared. */
  readonly issuer: string | readonly string[];
  /** The accepted `aud` (one, or any of a list). Required: a token for another API must not pass. */
  readonly audience: string | readonly string[];
  /** A remote JWKS: its URL, or a `remoteJwks(...)` with your cache settings. */
  readonly jwks?: string | URL | RemoteJwks;
  /** Local public keys: a JWK, a JWK set (`{ keys }`), a public `KeyObject` or `CryptoKey`. */
  readonly keys?: JWK | { readonly keys: readonly JWK[] } | KeyObject | CryptoKey;
  /** A shared secret for HS256/384/512 (at least 32 bytes). Never with public keys. */
  readonly secret?: string | Uint8Array;
  /**
   * The accepted `alg`s. Default: every asymmetric JWS algorithm with `jwks` or `keys` (RS*,
   * PS*, ES*, EdDSA, Ed25519), `HS256` with `secret`. `none` is never accepted, nor HS* with
   * public keys (the RSA-key-as-HMAC-secret confusion), nor anything else with a secret.
   */
  readonly algorithms?: readonly string[];
  /** Clock skew tolerated on `exp`, `nbf` and `iat`, in ms. Default 30 000. */
  readonly clockTolerance?: number;
  /** The largest token accepted, in bytes; larger ones are refused before decoding. Default 8192. */
  readonly maxTokenBytes?: number;
  /** The oldest token accepted, by its `iat`, in ms (then `iat` is required). Default: no limit. */
  readonly maxAge?: number;
  /** Claims that must be present, besides `sub`. Default `['exp']`: a token must expire. */
  readonly requiredClaims?: readonly string[];
  /** The required `typ` header (`at+jwt` for RFC 9068 access tokens). Default: not checked. */
  readonly typ?: string;
  /** The actor's `type`. Default `user`. */
  readonly actorType?: string;
  /** The claim holding the actor's tier (for @prod/ratelimit). Default: none. */
  readonly tierClaim?: string;
  /**
   * Makes the actor from the verified claims; undefined refuses the token. Default: `sub` as
   * the id, scopes from `scope` (space-separated, RFC 8693) or `scp` (a list), the tier from
   * `tierClaim`.
   */
  readonly toActor?: (claims: JWTPayload, header: JWTHeaderParameters) => JwtActor | undefined;
  /** The clock, in epoch ms. Default `Date.now`. */
  readonly now?: () => number;
}

/** A token that verified, and the actor it names. */
export interface VerifiedJwt {
  readonly payload: JWTPayload;
  readonly header: JWTHeaderParameters;
  readonly actor: SecurityActor;
}

/** Verifies bearer JWTs. Made by {@link createJwtVerifier}. */
export interface JwtVerifier {
  /**
   * Verifies a compact JWT: size, algorithm, signature, `iss`, `aud`, `exp`, `nbf` (with the
   * clock tolerance), then makes its actor.
   *
   * @returns `Ok(verified)`; `Err` `SECURITY_INVALID_TOKEN` (malformed, bad signature, unknown
   * key, wrong issuer or audience, not yet valid, no subject), `SECURITY_TOKEN_EXPIRED`, or
   * `SECURITY_JWKS_UNAVAILABLE` (the keys could not be fetched: not the token's fault).
   */
  verify(token: unknown): Promise<Result<VerifiedJwt, JwtError>>;
  /** The remote key set, when verifying against one (for `refresh()` and `status()`). */
  readonly jwks: RemoteJwks | undefined;
}

type CryptoKey = webcrypto.CryptoKey;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };
// A global since Node 19 (not on `webcrypto` itself); typed through node:crypto.
const CryptoKeyClass = (globalThis as { CryptoKey?: abstract new () => CryptoKey }).CryptoKey;
const isCryptoKey = (value: unknown): value is CryptoKey =>
  CryptoKeyClass !== undefined && value instanceof CryptoKeyClass;
const check = optionChecks(SecurityErrors.SECURITY_INVALID_OPTIONS);
const ASYMMETRIC = Object.freeze([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]);
const SYMMETRIC = Object.freeze(['HS256', 'HS384', 'HS512']);
const HS_MIN_BYTES: Readonly<Record<string, number>> = { HS256: 32, HS384: 48, HS512: 64 };

type HmacParams = { readonly name: 'HMAC'; readonly hash: string };
type ToCryptoKey = (
  algorithm: HmacParams,
  extractable: boolean,
  usages: readonly string[],
) => CryptoKey;

/**
 * The secret as one non-extractable `verify` CryptoKey per HS algorithm, with the parameters
 * jose imports raw secrets with (`{ name: 'HMAC', hash: 'SHA-<bits>' }`): at once where Node
 * converts a KeyObject synchronously (22.10 and later), else through WebCrypto's promise.
 */
function hmacKeys(
  bytes: Uint8Array,
  algorithms: readonly string[],
): Map<string, CryptoKey> | Promise<Map<string, CryptoKey>> {
  const params = (alg: string): HmacParams => ({ name: 'HMAC', hash: `SHA-${alg.slice(2)}` });
  const secretKey = createSecretKey(bytes);
  const toCryptoKey = (secretKey as unknown as { toCryptoKey?: ToCryptoKey }).toCryptoKey;
  if (typeof toCryptoKey === 'function') {
    return new Map(
      algorithms.map((alg) => [alg, toCryptoKey.call(secretKey, params(alg), false, ['verify'])]),
    );
  }
  return Promise.all(
    algorithms.map((alg) =>
      webcrypto.subtle.importKey('raw', bytes, params(alg), false, ['verify']),
    ),
  ).then((keys) => new Map(algorithms.map((alg, index) => [alg, keys[index] as CryptoKey])));
}

function stringList(name: string, value: unknown): string | string[] {
  if (typeof value === 'string' && value !== '') return value;
  if (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((v) => typeof v === 'string' && v !== '')
  ) {
    return [...(value as string[])];
  }
  return check.fail(name, 'a non-empty string or list of strings', value);
}

function localKeys(value: unknown): JWTVerifyGetKey | KeyObject | CryptoKey {
  if (value instanceof KeyObject) {
    if (value.type !== 'public') {
      check.fail(
        'keys',
        value.type === 'secret'
          ? 'a public key (use `secret` for HS*)'
          : 'a public key, not a private one',
        value.type,
      );
    }
    return value;
  }
  if (isCryptoKey(value)) {
    if (value.type !== 'public') check.fail('keys', 'a public CryptoKey', value.type);
    return value;
  }
  if (typeof value !== 'object' || value === null) {
    return check.fail('keys', 'a JWK, a JWK set, a public KeyObject or CryptoKey', value);
  }
  const list = Array.isArray((value as { keys?: unknown }).keys)
    ? ((value as { keys: unknown[] }).keys as unknown[])
    : [value];
  for (const key of list) {
    if (typeof key !== 'object' || key === null || typeof (key as JWK).kty !== 'string') {
      check.fail('keys', 'JWKs (objects with a kty)', key);
    }
    const jwk = key as JWK;
    if (jwk.kty === 'oct')
      check.fail('keys', 'public keys (use `secret` for HS*)', 'a symmetric JWK');
    if (jwk.d !== undefined) check.fail('keys', 'public keys, not private ones', 'a JWK with "d"');
  }
  try {
    return createLocalJWKSet({ keys: list as JWK[] });
  } catch (error) {
    return check.fail('keys', 'a valid JWK set', error instanceof Error ? error.message : error);
  }
}

const invalid = (message: string): Result<never, JwtError> =>
  err(SecurityErrors.SECURITY_INVALID_TOKEN({ message, captureStack: false }));

const CLAIM_MESSAGES: Readonly<Record<string, string>> = {
  nbf: 'The token is not valid yet',
  iss: 'The token has the wrong issuer',
  aud: 'The token has the wrong audience',
  iat: 'The token is too old or issued in the future',
  sub: 'The token has no subject',
};

/** One error per outcome; the client learns what was wrong, never a stack or a key. */
function tokenError(error: unknown): JwtError {
  // Only what our own key resolver throws is a 503: an attacker cannot make a token raise it.
  if (SecurityErrors.SECURITY_JWKS_UNAVAILABLE.is(error)) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const fresh = (
    factory:
      | typeof SecurityErrors.SECURITY_INVALID_TOKEN
      | typeof SecurityErrors.SECURITY_TOKEN_EXPIRED,
    message: string,
  ): JwtError => factory({ message, captureStack: false });
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return fresh(SecurityErrors.SECURITY_TOKEN_EXPIRED, 'The token expired');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const claim = String((error as { claim?: unknown }).claim);
      const reason = (error as { reason?: unknown }).reason;
      return fresh(
        SecurityErrors.SECURITY_INVALID_TOKEN,
        reason === 'missing'
          ? 'The token lacks a required claim'
          : (CLAIM_MESSAGES[claim] ?? 'A claim of the token is not accepted'),
      );
    }
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return fresh(SecurityErrors.SECURITY_INVALID_TOKEN, 'The token signature does not verify');
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return fresh(SecurityErrors.SECURITY_INVALID_TOKEN, 'The token algorithm is not accepted');
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return fresh(SecurityErrors.SECURITY_INVALID_TOKEN, 'No known key matches the token');
    default:
      return fresh(SecurityErrors.SECURITY_INVALID_TOKEN, 'The token is malformed');
  }
}

function scopesOf(claims: JWTPayload): readonly string[] {
  const scope = claims.scope;
  if (typeof scope === 'string') return Object.freeze(scope.split(' ').filter(isScopeToken));
  const scp = claims.scp;
  if (typeof scp === 'string') return Object.freeze(scp.split(' ').filter(isScopeToken));
  if (Array.isArray(scp)) return Object.freeze(scp.filter(isScopeToken));
  return Object.freeze([]);
}

/**
 * Verifies bearer JWTs with jose against a remote JWKS (cached, refreshed on an unknown `kid`
 * at most once per cooldown, with a deadline), local public keys, or a shared secret. Safe by
 * construction: an algorithm allow-list (never `none`, never HS* with a public key),
 * `iss` and `aud` required, `exp` required by default, a clock tolerance and a size limit.
 *
 * @throws `SECURITY_INVALID_OPTIONS` for a missing issuer or audience, no key source or two,
 * an algorithm that does not fit the keys, a private key, or a secret that is too short.
 * @example
 * const jwt = createJwtVerifier({
 *   jwks: 'https://idp.example.com/.well-known/jwks.json',
 *   issuer: 'https://idp.example.com/',
 *   audience: 'https://api.example.com',
 * });
 * declare const token: string;
 * const verified = await jwt.verify(token);
 * if (verified.ok) console.log(verified.value.actor.id, verified.value.actor.scopes);
 */
export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  const given = check.object<JwtVerifierOptions>('options', options);
  const issuer = stringList('issuer', given.issuer);
  const audience = stringList('audience', given.audience);
  const sources = (['jwks', 'keys', 'secret'] as const).filter((name) => given[name] !== undefined);
  if (sources.length !== 1) {
    check.fail(
      'jwks',
      'exactly one of jwks, keys or secret',
      sources.length === 0 ? undefined : sources.join(' and '),
    );
  }
  const symmetric = given.secret !== undefined;
  const algorithms =
    given.algorithms === undefined
      ? symmetric
        ? ['HS256']
        : [...ASYMMETRIC]
      : [
          ...(Array.isArray(given.algorithms)
            ? given.algorithms
            : check.fail('algorithms', 'a list of JWS algorithms', given.algorithms)),
        ];
  if (algorithms.length === 0) check.fail('algorithms', 'at least one algorithm', algorithms);
  for (const alg of algorithms) {
    if (typeof alg !== 'string' || alg.toLowerCase() === 'none') {
      check.fail('algorithms', 'JWS algorithms (never "none")', alg);
    }
    const allowed = symmetric ? SYMMETRIC : ASYMMETRIC;
    if (!allowed.includes(alg)) {
      check.fail(
        'algorithms',
        symmetric
          ? 'HS256, HS384 or HS512 with a secret'
          : 'asymmetric algorithms with public keys (never HS* with an RSA or EC key)',
        alg,
      );
    }
  }

  let jwks: RemoteJwks | undefined;
  let key: JWTVerifyGetKey | KeyObject | CryptoKey;
  // Set while the secret's CryptoKeys are being imported (Node < 22.10 imports only
  // asynchronously); a verification started meanwhile waits for it.
  let keyReady: Promise<void> | undefined;
  if (given.jwks !== undefined) {
    const source = given.jwks;
    jwks =
      typeof source === 'string' || source instanceof URL
        ? remoteJwks({ url: source, ...(given.now === undefined ? {} : { now: given.now }) })
        : source;
    if (typeof jwks?.getKey !== 'function') check.fail('jwks', 'a URL or a remoteJwks()', source);
    key = jwks.getKey;
  } else if (given.keys !== undefined) {
    key = localKeys(given.keys);
  } else {
    const secret = given.secret;
    const bytes =
      typeof secret === 'string'
        ? Buffer.from(secret, 'utf8')
        : secret instanceof Uint8Array
          ? new Uint8Array(secret)
          : check.fail('secret', 'text or bytes', secret);
    const needed = Math.max(...algorithms.map((alg) => HS_MIN_BYTES[alg] ?? 32));
    if (bytes.byteLength < needed) {
      check.fail(
        'secret',
        `at least ${needed} bytes for ${algorithms.join(', ')}`,
        `${bytes.byteLength} bytes`,
      );
    }
    // Given bytes, jose imports them as a CryptoKey on every call (nearly half of an HS256
    // verification's cost): imported once here, with jose's own parameters, one key per
    // algorithm (a key is bound to its hash). An HMAC key, so jose still refuses any
    // asymmetric algorithm with it.
    const imported = hmacKeys(bytes, algorithms);
    const useKeys = (keys: ReadonlyMap<string, CryptoKey>): JWTVerifyGetKey | CryptoKey => {
      const only = keys.get(algorithms[0] as string) as CryptoKey;
      // jose checks the header's alg against the allow-list before it asks for a key.
      return keys.size === 1 ? only : (header) => keys.get(header.alg) as CryptoKey;
    };
    if (imported instanceof Map) {
      key = useKeys(imported);
    } else {
      key = () => Promise.reject(new Error('The secret is not imported yet'));
      keyReady = imported.then((keys) => {
        key = useKeys(keys);
        keyReady = undefined;
      });
      // Awaited by the first verifications; a failure is theirs to report, not unhandled.
      keyReady.catch(() => undefined);
    }
  }

  const clockTolerance = check.duration('clockTolerance', given.clockTolerance, 30_000);
  const maxTokenBytes = check.integer('maxTokenBytes', given.maxTokenBytes, 8192, {
    min: 64,
    max: 1_048_576,
  });
  const maxAge =
    given.maxAge === undefined
      ? undefined
      : check.duration('maxAge', given.maxAge, 0, { min: 1000 });
  const required = given.requiredClaims ?? ['exp'];
  if (
    !Array.isArray(required) ||
    !required.every((claim) => typeof claim === 'string' && claim !== '')
  ) {
    check.fail('requiredClaims', 'a list of claim names', required);
  }
  const typ =
    given.typ === undefined ? undefined : check.string('typ', given.typ, '', { nonEmpty: true });
  const actorType = check.string('actorType', given.actorType, 'user', { nonEmpty: true });
  const tierClaim =
    given.tierClaim === undefined
      ? undefined
      : check.string('tierClaim', given.tierClaim, '', { nonEmpty: true });
  const toActor = check.fn<NonNullable<JwtVerifierOptions['toActor']>>('toActor', given.toActor);
  const now = check.fn<() => number>('now', given.now);

  const verifyOptions: JWTVerifyOptions = Object.freeze({
    algorithms,
    issuer,
    audience,
    clockTolerance: clockTolerance / 1000,
    requiredClaims: [...new Set(['sub', ...required])],
    ...(maxAge === undefined ? {} : { maxTokenAge: maxAge / 1000 }),
    ...(typ === undefined ? {} : { typ }),
  });
  const optionsAt =
    now === undefined
      ? () => verifyOptions
      : () => ({ ...verifyOptions, currentDate: new Date(now()) });

  const actorFrom = (
    payload: JWTPayload,
    header: JWTHeaderParameters,
  ): SecurityActor | undefined => {
    let id: unknown;
    let type = actorType;
    let scopes: readonly string[];
    let tier: unknown;
    if (toActor === undefined) {
      id = payload.sub;
      scopes = scopesOf(payload);
      tier = tierClaim === undefined ? undefined : payload[tierClaim];
    } else {
      const made = toActor(payload, header);
      if (made === undefined) return undefined;
      id = made.id;
      type = typeof made.type === 'string' && made.type !== '' ? made.type : actorType;
      scopes = Object.freeze((Array.isArray(made.scopes) ? made.scopes : []).filter(isScopeToken));
      tier = made.tier;
    }
    if (!isPrintable(id, 256) || id === '') return undefined;
    // The payload is jose's own fresh object: frozen, not copied.
    Object.freeze(payload);
    // Built property by property (no spread of a conditional object per token), in the
    // order the type declares.
    const actor: Mutable<SecurityActor> = { id, type, scopes, via: 'jwt' };
    if (isPrintable(tier, 64)) actor.tier = tier;
    if (typeof payload.iss === 'string') actor.issuer = payload.iss;
    actor.claims = payload;
    return Object.freeze(actor);
  };

  type Verified = Awaited<ReturnType<typeof jwtVerify>>;
  /** jose's verification, or why the token is refused before it (never a promise for that). */
  const started = (token: unknown): Promise<Verified> | Result<never, JwtError> => {
    if (typeof token !== 'string' || token === '') return invalid('The token is malformed');
    // Measured before anything is decoded: a megabyte of base64 costs nothing here.
    if (token.length > maxTokenBytes) {
      return invalid(`The token is larger than ${maxTokenBytes} bytes`);
    }
    if (keyReady !== undefined) return keyReady.then(() => jwtVerify(token, key, optionsAt()));
    return typeof key === 'function'
      ? jwtVerify(token, key, optionsAt())
      : jwtVerify(token, key, optionsAt());
  };
  const noCaller = (): Result<never, JwtError> => invalid('The token names no caller');
  const accept = (verified: Verified): Result<VerifiedJwt, JwtError> => {
    const actor = actorFrom(verified.payload, verified.protectedHeader);
    if (actor === undefined) return noCaller();
    return ok({ payload: verified.payload, header: verified.protectedHeader, actor });
  };
  const acceptActor = (verified: Verified): Result<SecurityActor, JwtError> => {
    const actor = actorFrom(verified.payload, verified.protectedHeader);
    return actor === undefined ? noCaller() : ok(actor);
  };
  const refuse = (error: unknown): Result<never, JwtError> => err(tokenError(error));

  const checkJwt: JwtCheck = (token, done) => {
    const verifying = started(token);
    if (!(verifying instanceof Promise)) return done(verifying);
    return verifying.then(
      (verified) => done(acceptActor(verified)),
      (error: unknown) => done(refuse(error)),
    );
  };

  const verifier: JwtVerifier = {
    jwks,
    verify(token: unknown): Promise<Result<VerifiedJwt, JwtError>> {
      const verifying = started(token);
      return verifying instanceof Promise
        ? verifying.then(accept, refuse)
        : Promise.resolve(verifying);
    },
  };
  Object.defineProperty(verifier, JWT_CHECK, { value: checkJwt });
  return Object.freeze(verifier);
}
