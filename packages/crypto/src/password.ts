import { Buffer } from 'node:buffer';
import * as nodeCrypto from 'node:crypto';
import { err, ok, optionChecks, type ProdError, type Result } from '@prod/core';
import { CryptoErrors } from './errors.js';

/** The password hashing algorithms. */
export type PasswordAlgorithm = 'scrypt' | 'argon2id';

/** scrypt cost: N = 2^ln. OWASP's minimum (Password Storage Cheat Sheet): ln 17, r 8, p 1. */
export interface ScryptParams {
  readonly ln: number;
  readonly r: number;
  readonly p: number;
}

/** argon2id cost: memory in KiB, passes, lanes. OWASP's minimum: m 19456 (19 MiB), t 2, p 1. */
export interface Argon2Params {
  readonly m: number;
  readonly t: number;
  readonly p: number;
}

/** Options of {@link passwordHasher}. */
export interface PasswordHasherOptions {
  /** What new hashes use. Default `scrypt` (in node:crypto everywhere). */
  readonly algorithm?: PasswordAlgorithm;
  /** Default `{ ln: 17, r: 8, p: 1 }`. */
  readonly scrypt?: Partial<ScryptParams>;
  /** Default `{ m: 19456, t: 2, p: 1 }`. */
  readonly argon2?: Partial<Argon2Params>;
  /** Longest password accepted, in UTF-8 bytes (a bound on work per request). Default 1024. */
  readonly maxPasswordBytes?: number;
}

/** Hashes and verifies passwords as PHC strings (`$scrypt$ln=17,r=8,p=1$<salt>$<hash>`). */
export interface PasswordHasher {
  readonly algorithm: PasswordAlgorithm;
  /**
   * @returns `Ok(phc)`; `Err` `CRYPTO_INVALID_INPUT` (not a string, empty, too long) or
   * `CRYPTO_UNSUPPORTED` (argon2id with neither Node 24.7 nor `@node-rs/argon2`).
   */
  hash(password: string): Promise<Result<string, ProdError>>;
  /**
   * Checks a password against a stored PHC string (any algorithm and parameters we read), in
   * constant time.
   *
   * @returns `Ok(true | false)`; `Err` `CRYPTO_HASH_INVALID` (unreadable or out-of-bounds
   * parameters) or `CRYPTO_UNSUPPORTED`.
   */
  verify(phc: string, password: string): Promise<Result<boolean, ProdError>>;
  /**
   * Whether a stored hash should be replaced by a new one (other algorithm, other parameters,
   * unreadable): check it after a successful {@link PasswordHasher.verify}, then hash again.
   */
  needsRehash(phc: string): boolean;
}

type Argon2Backend = (
  password: Buffer,
  salt: Buffer,
  params: Argon2Params,
  length: number,
) => Promise<Buffer>;

interface NodeRsArgon2 {
  hashRaw(
    password: Buffer,
    options: {
      algorithm?: number;
      memoryCost?: number;
      timeCost?: number;
      parallelism?: number;
      outputLen?: number;
      salt?: Buffer;
      version?: number;
    },
  ): Promise<Buffer>;
}

type NodeArgon2 = (
  algorithm: 'argon2id',
  parameters: {
    message: Buffer;
    nonce: Buffer;
    parallelism: number;
    tagLength: number;
    memory: number;
    passes: number;
  },
  callback: (error: Error | null, result: Buffer) => void,
) => void;

const SALT_BYTES = 16;
const HASH_BYTES = 32;
const check = optionChecks(CryptoErrors.CRYPTO_INVALID_OPTIONS);

// Bounds on what a stored hash may ask for: a hostile or corrupted row must not make one
// verification take minutes or gigabytes. Weak parameters still verify (needsRehash says so).
const SCRYPT_BOUNDS = { ln: [1, 22], r: [1, 32], p: [1, 16] } as const;
const ARGON2_BOUNDS = { m: [8, 4 * 1024 * 1024], t: [1, 64], p: [1, 64] } as const;

let argon2Backend: Promise<Argon2Backend | undefined> | undefined;

/** The argon2id implementation: node:crypto's (Node 24.7+), else `@node-rs/argon2` if installed. */
function loadArgon2(): Promise<Argon2Backend | undefined> {
  argon2Backend ??= (async () => {
    const native = (nodeCrypto as unknown as { argon2?: NodeArgon2 }).argon2;
    if (typeof native === 'function') {
      return (password, salt, params, length) =>
        new Promise<Buffer>((resolve, reject) => {
          native(
            'argon2id',
            {
              message: password,
              nonce: salt,
              parallelism: params.p,
              tagLength: length,
              memory: params.m,
              passes: params.t,
            },
            (error, result) => (error ? reject(error) : resolve(Buffer.from(result))),
          );
        });
    }
    try {
      const module = (await import('@node-rs/argon2' as string)) as NodeRsArgon2 & {
        default?: NodeRsArgon2;
      };
      const lib = typeof module.hashRaw === 'function' ? module : module.default;
      if (lib === undefined || typeof lib.hashRaw !== 'function') return undefined;
      return (password, salt, params, length) =>
        lib.hashRaw(password, {
          algorithm: 2, // Algorithm.Argon2id
          version: 1, // Version.V0x13
          memoryCost: params.m,
          timeCost: params.t,
          parallelism: params.p,
          outputLen: length,
          salt,
        });
    } catch {
      return undefined;
    }
  })();
  return argon2Backend;
}

/** Whether argon2id is available here (Node 24.7+, or `@node-rs/argon2` installed). */
export async function argon2Available(): Promise<boolean> {
  return (await loadArgon2()) !== undefined;
}

const b64 = (bytes: Buffer): string => bytes.toString('base64').replace(/=+$/, '');
const B64 = /^[A-Za-z0-9+/]+$/;
const fromB64 = (text: string): Buffer | undefined =>
  B64.test(text) ? Buffer.from(text, 'base64') : undefined;

interface ParsedHash {
  readonly algorithm: PasswordAlgorithm;
  readonly params: ScryptParams | Argon2Params;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

function within(value: number, [min, max]: readonly [number, number]): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

function parseParams(text: string, names: readonly string[]): Record<string, number> | undefined {
  const out: Record<string, number> = {};
  const pairs = text.split(',');
  if (pairs.length !== names.length) return undefined;
  pairs.forEach((pair, index) => {
    const [name, value] = pair.split('=');
    if (
      name !== undefined &&
      name === names[index] &&
      value !== undefined &&
      /^\d{1,8}$/.test(value)
    ) {
      out[name] = Number(value);
    }
  });
  return Object.keys(out).length === names.length ? out : undefined;
}

/** Reads a PHC string; undefined when it is not one we can verify. */
function parsePhc(phc: unknown): ParsedHash | undefined {
  if (typeof phc !== 'string' || phc.length > 512) return undefined;
  const fields = phc.split('$');
  if (fields[0] !== '') return undefined;
  if (fields[1] === 'scrypt' && fields.length === 5) {
    const params = parseParams(fields[2] ?? '', ['ln', 'r', 'p']);
    const salt = fromB64(fields[3] ?? '');
    const hash = fromB64(fields[4] ?? '');
    if (params === undefined || salt === undefined || hash === undefined) return undefined;
    const { ln, r, p } = params as unknown as ScryptParams;
    if (
      !within(ln, SCRYPT_BOUNDS.ln) ||
      !within(r, SCRYPT_BOUNDS.r) ||
      !within(p, SCRYPT_BOUNDS.p)
    ) {
      return undefined;
    }
    if (salt.length < 4 || hash.length < 16 || hash.length > 64) return undefined;
    return { algorithm: 'scrypt', params: { ln, r, p }, salt, hash };
  }
  if (fields[1] === 'argon2id' && fields.length === 6 && fields[2] === 'v=19') {
    const params = parseParams(fields[3] ?? '', ['m', 't', 'p']);
    const salt = fromB64(fields[4] ?? '');
    const hash = fromB64(fields[5] ?? '');
    if (params === undefined || salt === undefined || hash === undefined) return undefined;
    const { m, t, p } = params as unknown as Argon2Params;
    if (!within(m, ARGON2_BOUNDS.m) || !within(t, ARGON2_BOUNDS.t) || !within(p, ARGON2_BOUNDS.p)) {
      return undefined;
    }
    if (m < 8 * p || salt.length < 4 || hash.length < 16 || hash.length > 64) return undefined;
    return { algorithm: 'argon2id', params: { m, t, p }, salt, hash };
  }
  return undefined;
}

function scrypt(
  password: Buffer,
  salt: Buffer,
  params: ScryptParams,
  length: number,
): Promise<Buffer> {
  const N = 2 ** params.ln;
  // Node's default maxmem (32 MiB) refuses N = 2^17, r = 8 (128 MiB): allow what the
  // parameters need, with room for the p blocks.
  const maxmem = 128 * N * params.r + 128 * params.r * params.p + 1024 * 1024;
  return new Promise((resolve, reject) => {
    nodeCrypto.scrypt(
      password,
      salt,
      length,
      { N, r: params.r, p: params.p, maxmem },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

/**
 * Creates a password hasher. scrypt by default (node:crypto, OWASP parameters N = 2^17,
 * r = 8, p = 1, with the `maxmem` they need); argon2id with `algorithm: 'argon2id'` where
 * available. Hashes are PHC strings carrying their parameters, so raising them later keeps
 * old hashes verifiable and {@link PasswordHasher.needsRehash} tells which to upgrade.
 *
 * @throws `CRYPTO_INVALID_OPTIONS` for parameters under a floor (scrypt ln < 14, argon2id
 * m < 7168 KiB: OWASP's weakest argon2id trade-off) or over the bounds we verify.
 * @example
 * declare const stored: string;
 * declare const attempt: string;
 * const passwords = passwordHasher();
 * const checked = await passwords.verify(stored, attempt);
 * if (checked.ok && checked.value && passwords.needsRehash(stored)) {
 *   const upgraded = await passwords.hash(attempt); // save upgraded.value
 * }
 */
export function passwordHasher(options: PasswordHasherOptions = {}): PasswordHasher {
  const given = check.object<PasswordHasherOptions>('options', options);
  const algorithm = check.oneOf('algorithm', given.algorithm, ['scrypt', 'argon2id'], 'scrypt');
  const scryptGiven = check.object<Partial<ScryptParams>>('scrypt', given.scrypt);
  const argonGiven = check.object<Partial<Argon2Params>>('argon2', given.argon2);
  const scryptParams: ScryptParams = {
    ln: check.integer('scrypt.ln', scryptGiven.ln, 17, { min: 14, max: SCRYPT_BOUNDS.ln[1] }),
    r: check.integer('scrypt.r', scryptGiven.r, 8, { min: 1, max: SCRYPT_BOUNDS.r[1] }),
    p: check.integer('scrypt.p', scryptGiven.p, 1, { min: 1, max: SCRYPT_BOUNDS.p[1] }),
  };
  const argonParams: Argon2Params = {
    m: check.integer('argon2.m', argonGiven.m, 19_456, { min: 7168, max: ARGON2_BOUNDS.m[1] }),
    t: check.integer('argon2.t', argonGiven.t, 2, { min: 1, max: ARGON2_BOUNDS.t[1] }),
    p: check.integer('argon2.p', argonGiven.p, 1, { min: 1, max: ARGON2_BOUNDS.p[1] }),
  };
  const maxBytes = check.integer('maxPasswordBytes', given.maxPasswordBytes, 1024, {
    min: 8,
    max: 64 * 1024,
  });

  const passwordBytes = (password: unknown): Result<Buffer, ProdError> => {
    if (typeof password !== 'string' || password.length === 0) {
      return err(CryptoErrors.CRYPTO_INVALID_INPUT('the password must be a non-empty string'));
    }
    // NFC, so the same password typed on two systems hashes the same (RFC 8265 OpaqueString).
    const bytes = Buffer.from(password.normalize('NFC'), 'utf8');
    if (bytes.length > maxBytes) {
      return err(CryptoErrors.CRYPTO_INVALID_INPUT(`the password is over ${maxBytes} bytes`));
    }
    return ok(bytes);
  };

  const unsupported = (): ProdError =>
    CryptoErrors.CRYPTO_UNSUPPORTED(
      'argon2id needs Node 24.7+ or the @node-rs/argon2 package (npm i @node-rs/argon2)',
    );

  const derive = async (
    parsedAlgorithm: PasswordAlgorithm,
    password: Buffer,
    salt: Buffer,
    params: ScryptParams | Argon2Params,
    length: number,
  ): Promise<Result<Buffer, ProdError>> => {
    try {
      if (parsedAlgorithm === 'scrypt') {
        return ok(await scrypt(password, salt, params as ScryptParams, length));
      }
      const backend = await loadArgon2();
      if (backend === undefined) return err(unsupported());
      return ok(await backend(password, salt, params as Argon2Params, length));
    } catch (cause) {
      return err(
        CryptoErrors.CRYPTO_HASH_INVALID({ message: 'the hash could not be computed', cause }),
      );
    }
  };

  return {
    algorithm,
    async hash(password) {
      const bytes = passwordBytes(password);
      if (!bytes.ok) return bytes;
      const salt = nodeCrypto.randomBytes(SALT_BYTES);
      const params = algorithm === 'scrypt' ? scryptParams : argonParams;
      const derived = await derive(algorithm, bytes.value, salt, params, HASH_BYTES);
      if (!derived.ok) return derived;
      const encoded =
        algorithm === 'scrypt'
          ? `$scrypt$ln=${scryptParams.ln},r=${scryptParams.r},p=${scryptParams.p}`
          : `$argon2id$v=19$m=${argonParams.m},t=${argonParams.t},p=${argonParams.p}`;
      return ok(`${encoded}$${b64(salt)}$${b64(derived.value)}`);
    },
    async verify(phc, password) {
      const parsed = parsePhc(phc);
      if (parsed === undefined) {
        return err(CryptoErrors.CRYPTO_HASH_INVALID('the stored hash is not a PHC string we read'));
      }
      const bytes = passwordBytes(password);
      // A password we would refuse to hash cannot match anything we hashed.
      if (!bytes.ok) return ok(false);
      const derived = await derive(
        parsed.algorithm,
        bytes.value,
        parsed.salt,
        parsed.params,
        parsed.hash.length,
      );
      if (!derived.ok) return derived;
      return ok(nodeCrypto.timingSafeEqual(derived.value, parsed.hash));
    },
    needsRehash(phc) {
      const parsed = parsePhc(phc);
      if (parsed === undefined || parsed.algorithm !== algorithm) return true;
      if (parsed.hash.length !== HASH_BYTES || parsed.salt.length < SALT_BYTES) return true;
      const wanted: Record<string, number> =
        algorithm === 'scrypt' ? { ...scryptParams } : { ...argonParams };
      const have = parsed.params as unknown as Record<string, number>;
      return Object.keys(wanted).some((name) => have[name] !== wanted[name]);
    },
  };
}

let defaultHasher: PasswordHasher | undefined;
const hasher = (): PasswordHasher => {
  defaultHasher ??= passwordHasher();
  return defaultHasher;
};

/** {@link PasswordHasher.hash} with the defaults (scrypt, OWASP parameters). */
export function hashPassword(password: string): Promise<Result<string, ProdError>> {
  return hasher().hash(password);
}

/** {@link PasswordHasher.verify} with the defaults (reads scrypt and argon2id hashes). */
export function verifyPassword(phc: string, password: string): Promise<Result<boolean, ProdError>> {
  return hasher().verify(phc, password);
}

/** {@link PasswordHasher.needsRehash} against the defaults (scrypt, OWASP parameters). */
export function needsRehash(phc: string): boolean {
  return hasher().needsRehash(phc);
}
