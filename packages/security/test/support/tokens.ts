// Keys and tokens for the JWT tests: real signatures made with jose, and hostile tokens built
// by hand where jose would refuse to make them.
import { Buffer } from 'node:buffer';
import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { exportJWK, type JWK, type JWTPayload, SignJWT } from 'jose';

export const ISSUER = 'https://idp.test/';
export const AUDIENCE = 'https://api.test';

export interface TestKey {
  readonly kid: string;
  readonly alg: 'ES256' | 'RS256';
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly jwk: JWK;
}

export async function ecKey(kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    kid,
    alg: 'ES256',
    privateKey,
    publicKey,
    jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' },
  };
}

let rsa: TestKey | undefined;
/** One RSA key for the whole run (generating one takes a while). */
export async function rsaKey(): Promise<TestKey> {
  if (rsa !== undefined) return rsa;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  rsa = {
    kid: 'rsa-1',
    alg: 'RS256',
    privateKey,
    publicKey,
    jwk: { ...(await exportJWK(publicKey)), kid: 'rsa-1', alg: 'RS256' },
  };
  return rsa;
}

export interface SignOptions {
  readonly claims?: JWTPayload;
  readonly kid?: string | null;
  readonly issuer?: string | null;
  readonly audience?: string | string[] | null;
  readonly subject?: string | null;
  /** Seconds from now; null for none. Default 3600. */
  readonly expiresIn?: number | null;
  readonly notBefore?: number;
  readonly typ?: string;
}

export async function sign(key: TestKey, options: SignOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ scope: 'notes:read notes:write', ...options.claims }).setIssuedAt(now);
  const kid = options.kid === undefined ? key.kid : options.kid;
  jwt.setProtectedHeader({
    alg: key.alg,
    ...(kid === null ? {} : { kid }),
    ...(options.typ === undefined ? {} : { typ: options.typ }),
  });
  if (options.issuer !== null) jwt.setIssuer(options.issuer ?? ISSUER);
  if (options.audience !== null) jwt.setAudience(options.audience ?? AUDIENCE);
  if (options.subject !== null) jwt.setSubject(options.subject ?? 'user-7');
  if (options.expiresIn !== null) jwt.setExpirationTime(now + (options.expiresIn ?? 3600));
  if (options.notBefore !== undefined) jwt.setNotBefore(now + options.notBefore);
  return jwt.sign(key.privateKey);
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

export function standardClaims(extra: JWTPayload = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return { iss: ISSUER, aud: AUDIENCE, sub: 'attacker', iat: now, exp: now + 3600, ...extra };
}

/** `alg: none`, no signature: the oldest trick. */
export function unsignedToken(claims: JWTPayload = standardClaims()): string {
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
}

/** HS256 signed with `secret` (the RSA public key's PEM, in the key-confusion attack). */
export function hmacToken(
  secret: string | Buffer,
  claims: JWTPayload = standardClaims(),
  kid?: string,
): string {
  const input = `${b64({ alg: 'HS256', typ: 'JWT', ...(kid === undefined ? {} : { kid }) })}.${b64(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** The token with one signature character changed. */
export function tamperSignature(token: string): string {
  const last = token.at(-2) === 'A' ? 'B' : 'A';
  return `${token.slice(0, -2)}${last}${token.at(-1)}`;
}

/** The token with its payload replaced by `claims`, the signature kept. */
export function swapPayload(token: string, claims: JWTPayload): string {
  const [header, , signature] = token.split('.');
  return `${header}.${b64(claims)}.${signature}`;
}
