import { Buffer } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { type ErrorFactory, err, ok, optionChecks, type Result, withDeadline } from '@prod/core';
import { hmacHex, safeEqual, type TokenFormat, tokenFormat } from '@prod/crypto';
import { LRUCache } from 'lru-cache';
import type { SecurityActor } from './actor.js';
import { type ApiKeyError, type SecurityError, SecurityErrors } from './errors.js';
import { API_KEY_CHECK, type ApiKeyCheck } from './internal/api-key-check.js';
import { isPrintable, isScopeToken } from './internal/syntax.js';
import type { ApiKeyInfo, ApiKeyRecord, ApiKeyStore } from './key-store.js';
import { memoryKeyStore } from './memory-key-store.js';
import type { RevocationChannel } from './revocation-channel.js';

/** A server secret: text (its UTF-8 bytes) or bytes, at least 32 bytes. */
export type ServerSecret = string | Uint8Array;

/** Options of {@link createApiKeys}. */
export interface ApiKeysOptions {
  /**
   * The server secret keys are hashed with (HMAC-SHA-256), at least 32 bytes, from your secret
   * store. Give a list to rotate: the first hashes new keys, the others still find the keys
   * issued under them (one lookup for all, while the list is short).
   */
  readonly secret: ServerSecret | readonly ServerSecret[];
  /**
   * What every key starts with, before `_`: 2-24 lower-case letters, digits and inner `_`
   * (`acme_live`). Tells people and secret scanners what a leaked key is. Default `prod`.
   */
  readonly prefix?: string;
  /** Where keys are kept. Default `memoryKeyStore()` (this process only). */
  readonly store?: ApiKeyStore;
  /**
   * How long a lookup is reused, in ms: the bound on how late another instance sees a
   * revocation (without a revocation channel). Default 30 000; 0 looks every request up.
   */
  readonly cacheTtl?: number;
  /** Cached lookups at most. Default 10 000. */
  readonly cacheSize?: number;
  /** How long a store lookup may take before the request is answered 503. Default 2000 ms. */
  readonly lookupTimeout?: number;
  /** Revocation notices between instances (`redisRevocationChannel`): revocations apply at once. */
  readonly revocations?: RevocationChannel;
  /** Told when a revocation notice cannot be published (the cache TTL still bounds it). */
  readonly onError?: (error: unknown) => void;
  /** The clock (epoch ms) for expiry, revocation times and the cache. Default `Date.now`. */
  readonly now?: () => number;
}

/** What {@link ApiKeys.issue} takes. */
export interface IssueApiKeyInput {
  /** Who the key acts for: a user or service id (1-256 printable characters). */
  readonly owner: string;
  /** What it may do (`notes:write`): scope tokens, at most 100. Default none. */
  readonly scopes?: readonly string[];
  /** The caller's tier for @prod/ratelimit (1-64 printable characters). */
  readonly tier?: string;
  /** A label for people (1-256 printable characters). */
  readonly name?: string;
  /** When it stops working: a Date or epoch ms, in the future. */
  readonly expiresAt?: Date | number;
  /** Or: for how long from now, in ms. */
  readonly expiresIn?: number;
  /**
   * A key to register instead of a fresh one: a key kept in configuration or a secret store
   * (`API_KEY=prod_...`). It must have this format (prefix, length, checksum). Default: a new
   * random key.
   */
  readonly token?: string;
}

type StoreError = SecurityError<'SECURITY_KEY_STORE_UNAVAILABLE'>;
type LookupError = SecurityError<'SECURITY_KEY_NOT_FOUND' | 'SECURITY_KEY_STORE_UNAVAILABLE'>;

/** A key just issued: show `token` once, to its owner; it is never stored. */
export interface IssuedApiKey {
  readonly token: string;
  readonly key: ApiKeyInfo;
}

/** API keys: issue, verify, list, revoke. Made by {@link createApiKeys}. */
export interface ApiKeys {
  /** The token format (its `pattern` finds leaked keys in text, for secret scanning). */
  readonly format: TokenFormat;
  /**
   * Issues a key for `input.owner`.
   *
   * @returns `Ok({ token, key })`; `Err` `SECURITY_INVALID_INPUT` (nothing stored) or
   * `SECURITY_KEY_STORE_UNAVAILABLE`.
   */
  issue(
    input: IssueApiKeyInput,
  ): Promise<
    Result<IssuedApiKey, SecurityError<'SECURITY_INVALID_INPUT' | 'SECURITY_KEY_STORE_UNAVAILABLE'>>
  >;
  /**
   * Checks a key as a client sent it: format and checksum first (a typo or a made-up key costs
   * no lookup), then its keyed hash in the cache or the store, compared in constant time, then
   * revocation and expiry.
   *
   * @returns `Ok(actor)`; `Err` `SECURITY_INVALID_TOKEN`, `SECURITY_TOKEN_REVOKED`,
   * `SECURITY_TOKEN_EXPIRED` or `SECURITY_KEY_STORE_UNAVAILABLE`.
   */
  verify(key: unknown): Promise<Result<SecurityActor, ApiKeyError>>;
  /** @returns `Ok(info)`; `Err` `SECURITY_KEY_NOT_FOUND` or `SECURITY_KEY_STORE_UNAVAILABLE`. */
  get(id: string): Promise<Result<ApiKeyInfo, LookupError>>;
  /** The keys of an owner, newest first. @returns `Err` `SECURITY_KEY_STORE_UNAVAILABLE`. */
  list(owner: string): Promise<Result<ApiKeyInfo[], StoreError>>;
  /**
   * Revokes a key: refused from now on by this instance, by the others within `cacheTtl` (at
   * once with a revocation channel). Revoking twice keeps the first time.
   *
   * @returns `Ok(info)`; `Err` `SECURITY_KEY_NOT_FOUND` or `SECURITY_KEY_STORE_UNAVAILABLE`.
   */
  revoke(id: string): Promise<Result<ApiKeyInfo, LookupError>>;
  /** Whether `value` has this format's prefix (so a bearer token is an API key, not a JWT). */
  looksLike(value: string): boolean;
  /** Stops listening to revocation notices. */
  close(): void;
}

interface CacheEntry {
  /** The stored key, or undefined for a hash no key has. */
  readonly record: ApiKeyRecord | undefined;
  readonly actor: SecurityActor | undefined;
  readonly until: number;
}

const check = optionChecks(SecurityErrors.SECURITY_INVALID_OPTIONS);
const MIN_SECRET_BYTES = 32;
const MAX_SCOPES = 100;

function secretBytes(index: number, value: unknown): Buffer {
  const bytes =
    typeof value === 'string'
      ? Buffer.from(value, 'utf8')
      : value instanceof Uint8Array
        ? Buffer.from(value)
        : undefined;
  if (bytes === undefined || bytes.length < MIN_SECRET_BYTES) {
    check.fail(
      index === 0 ? 'secret' : `secret[${index}]`,
      'at least 32 bytes of text or bytes',
      value,
    );
  }
  return bytes as Buffer;
}

function formatOf(prefix: string): TokenFormat {
  try {
    return tokenFormat({ prefix });
  } catch {
    return check.fail('prefix', '2-24 lower-case letters, digits and inner underscores', prefix);
  }
}

const fail = <TCode extends string>(factory: ErrorFactory<TCode>, message: string) =>
  err(factory({ message, captureStack: false }));

const infoOf = (record: ApiKeyRecord): ApiKeyInfo => {
  const { hash: _hash, ...info } = record;
  return Object.freeze(info);
};

function actorOf(record: ApiKeyRecord): SecurityActor {
  return Object.freeze({
    id: record.owner,
    type: 'api-key',
    scopes: record.scopes,
    ...(record.tier === undefined ? {} : { tier: record.tier }),
    via: 'api-key' as const,
    keyId: record.id,
  });
}

/**
 * API keys in GitHub's style on @prod/crypto's token format (`prod_` + 32 random base62
 * characters + a CRC-32 checksum): a leaked key is recognisable, a mistyped one is refused
 * before any lookup. The store keeps only an HMAC-SHA-256 of each key under a server secret,
 * so a stolen table cannot be used or checked offline without the secret. Lookups are cached
 * for `cacheTtl` (10 000 at most), which bounds how late another instance sees a revocation.
 *
 * @throws `SECURITY_INVALID_OPTIONS` for a secret under 32 bytes, a bad prefix or store.
 * @example
 * const apiKeys = createApiKeys({ secret: 'a-long-random-server-secret-from-config' });
 * const issued = await apiKeys.issue({ owner: 'user-42', scopes: ['notes:write'], tier: 'pro' });
 * if (issued.ok) {
 *   console.log('show once:', issued.value.token);
 *   const actor = await apiKeys.verify(issued.value.token);
 *   console.log(actor.ok && actor.value.id); // 'user-42'
 * }
 */
export function createApiKeys(options: ApiKeysOptions): ApiKeys {
  const given = check.object<ApiKeysOptions>('options', options);
  const secretList: readonly unknown[] = Array.isArray(given.secret)
    ? given.secret
    : [given.secret];
  if (secretList.length === 0 || secretList.length > 4) {
    check.fail('secret', 'a secret, or a list of 1 to 4 while rotating', given.secret);
  }
  const secrets = secretList.map((value, index) => secretBytes(index, value));
  const prefix = check.string('prefix', given.prefix, 'prod', { nonEmpty: true });
  const format = formatOf(prefix);
  const store = given.store ?? memoryKeyStore();
  for (const method of ['insert', 'findByHash', 'get', 'listByOwner', 'revoke'] as const) {
    if (typeof store?.[method] !== 'function')
      check.fail('store', `an ApiKeyStore (${method})`, store);
  }
  const cacheTtl = check.duration('cacheTtl', given.cacheTtl, 30_000);
  const cacheSize = check.integer('cacheSize', given.cacheSize, 10_000, {
    min: 1,
    max: 10_000_000,
  });
  const lookupTimeout = check.duration('lookupTimeout', given.lookupTimeout, 2000, { min: 1 });
  const onError = check.fn<(error: unknown) => void>('onError', given.onError);
  const now = check.fn<() => number>('now', given.now) ?? Date.now;
  const revocations = given.revocations;
  if (
    revocations !== undefined &&
    (typeof revocations?.publish !== 'function' || typeof revocations.subscribe !== 'function')
  ) {
    check.fail('revocations', 'a RevocationChannel ({ publish, subscribe })', revocations);
  }
  const head = `${prefix}_`;

  // Known keys and unknown hashes are kept apart, so a flood of made-up keys (the checksum is
  // not a secret: anyone can compute one) cannot evict the keys of real clients.
  const known = new LRUCache<string, CacheEntry>({ max: cacheSize });
  const unknown = new LRUCache<string, CacheEntry>({ max: Math.min(cacheSize, 10_000) });
  const inflight = new Map<string, Promise<Result<CacheEntry, StoreError>>>();
  // Bumped by every eviction: a lookup that started before a revocation may carry the key as
  // it was, so its answer serves the requests that waited for it but is not cached.
  let generation = 0;

  const hashesOf = (token: string): string[] => secrets.map((secret) => hmacHex(secret, token));

  const decide = (entry: CacheEntry, at: number): Result<SecurityActor, ApiKeyError> => {
    const record = entry.record;
    if (record === undefined || entry.actor === undefined) {
      return fail(SecurityErrors.SECURITY_INVALID_TOKEN, 'The API key is not valid');
    }
    if (record.revokedAt !== undefined && record.revokedAt <= at) {
      return fail(SecurityErrors.SECURITY_TOKEN_REVOKED, 'The API key was revoked');
    }
    if (record.expiresAt !== undefined && record.expiresAt <= at) {
      return fail(SecurityErrors.SECURITY_TOKEN_EXPIRED, 'The API key expired');
    }
    return ok(entry.actor);
  };

  const storeFailure = (cause: unknown, timedOut: boolean): StoreError =>
    SecurityErrors.SECURITY_KEY_STORE_UNAVAILABLE({
      message: timedOut
        ? `The API key store did not answer within ${lookupTimeout} ms`
        : 'The API key store failed',
      retryAfterMs: 1000,
      cause,
      captureStack: false,
    });

  const lookup = (cacheKey: string, token: string): Promise<Result<CacheEntry, StoreError>> => {
    let pending = inflight.get(cacheKey);
    if (pending !== undefined) return pending;
    const startedIn = generation;
    const hashes = hashesOf(token);
    pending = withDeadline(() => store.findByHash(hashes), { timeoutMs: lookupTimeout })
      .then((outcome): Result<CacheEntry, StoreError> => {
        if (outcome.status === 'timeout') return err(storeFailure(undefined, true));
        if (outcome.status === 'threw') return err(storeFailure(outcome.error, false));
        const found = outcome.value;
        // The store matched by an indexed hash; this comparison is the one that decides, and it
        // takes the same time wherever two hashes differ. A store that matched loosely (a
        // prefix, a case-insensitive index) lets nothing in.
        const matched =
          found === undefined ? undefined : hashes.find((hash) => safeEqual(hash, found.hash));
        const record = matched === undefined ? undefined : found;
        const entry: CacheEntry = {
          record,
          actor: record === undefined ? undefined : actorOf(record),
          until: now() + cacheTtl,
        };
        if (cacheTtl > 0 && startedIn === generation) {
          (record === undefined ? unknown : known).set(cacheKey, entry);
        }
        return ok(entry);
      })
      .finally(() => inflight.delete(cacheKey));
    inflight.set(cacheKey, pending);
    return pending;
  };

  const malformed = (): Result<never, ApiKeyError> =>
    fail(SecurityErrors.SECURITY_INVALID_TOKEN, 'The API key is malformed');

  const checkKey: ApiKeyCheck = (token) => {
    // Length and prefix first: nothing longer than a key is ever hashed.
    if (typeof token !== 'string' || token.length !== format.length || !token.startsWith(head)) {
      return malformed();
    }
    const cacheKey = hmacHex(secrets[0] as Buffer, token);
    const at = now();
    // Only keys that passed the checksum are ever cached, so a hit needs no second check.
    const cached = known.get(cacheKey) ?? unknown.get(cacheKey);
    if (cached !== undefined && cached.until > at) return decide(cached, at);
    // The alphabet and checksum before the store is asked: a typo costs no lookup.
    if (!format.parse(token).ok) return malformed();
    return lookup(cacheKey, token).then((found) => (found.ok ? decide(found.value, now()) : found));
  };

  const evict = (keyId: string): void => {
    generation += 1;
    for (const [cacheKey, entry] of known.entries()) {
      if (entry.record?.id === keyId) known.delete(cacheKey);
    }
  };
  const unsubscribe = revocations?.subscribe(evict);

  const viaStore = async <TValue>(
    work: () => Promise<TValue>,
  ): Promise<Result<TValue, StoreError>> => {
    const outcome = await withDeadline(work, { timeoutMs: lookupTimeout });
    if (outcome.status === 'settled') return ok(outcome.value);
    return err(
      storeFailure(
        outcome.status === 'threw' ? outcome.error : undefined,
        outcome.status === 'timeout',
      ),
    );
  };

  const invalidInput = (message: string): Result<never, SecurityError<'SECURITY_INVALID_INPUT'>> =>
    err(SecurityErrors.SECURITY_INVALID_INPUT({ message, captureStack: false }));

  const apiKeys: ApiKeys = {
    format,
    async issue(input) {
      if (typeof input !== 'object' || input === null)
        return invalidInput('input must be an object');
      const { owner, tier, name, expiresAt, expiresIn } = input;
      const scopes = input.scopes ?? [];
      if (!isPrintable(owner, 256) || owner.length === 0) {
        return invalidInput('owner must be 1-256 printable characters');
      }
      if (!Array.isArray(scopes) || scopes.length > MAX_SCOPES || !scopes.every(isScopeToken)) {
        return invalidInput(`scopes must be at most ${MAX_SCOPES} scope tokens`);
      }
      if (tier !== undefined && !isPrintable(tier, 64)) {
        return invalidInput('tier must be 1-64 printable characters');
      }
      if (name !== undefined && !isPrintable(name, 256)) {
        return invalidInput('name must be 1-256 printable characters');
      }
      const createdAt = now();
      let expiry: number | undefined;
      if (expiresAt !== undefined && expiresIn !== undefined) {
        return invalidInput('give expiresAt or expiresIn, not both');
      }
      if (expiresAt !== undefined) {
        expiry = expiresAt instanceof Date ? expiresAt.getTime() : expiresAt;
      } else if (expiresIn !== undefined) {
        expiry = typeof expiresIn === 'number' ? createdAt + expiresIn : Number.NaN;
      }
      if (expiry !== undefined && (!Number.isSafeInteger(expiry) || expiry <= createdAt)) {
        return invalidInput('the expiry must be a time in the future');
      }
      let issued: { readonly token: string; readonly hint: string };
      if (input.token === undefined) issued = format.generate();
      else {
        const parsed = format.parse(input.token);
        if (!parsed.ok)
          return invalidInput(`token must be a ${prefix} key (prefix, length and checksum)`);
        issued = { token: input.token as string, hint: parsed.value.hint };
        // Registering the same configured key on every start is idempotent.
        const existing = await viaStore(() => store.findByHash(hashesOf(issued.token)));
        if (!existing.ok) return existing;
        if (existing.value !== undefined) {
          if (existing.value.revokedAt !== undefined) return invalidInput('this key was revoked');
          return ok({ token: issued.token, key: infoOf(existing.value) });
        }
      }
      const { token, hint } = issued;
      const record: ApiKeyRecord = Object.freeze({
        id: randomUUID(),
        hash: hmacHex(secrets[0] as Buffer, token),
        hint,
        owner,
        ...(name === undefined ? {} : { name }),
        scopes: Object.freeze([...new Set(scopes)]),
        ...(tier === undefined ? {} : { tier }),
        createdAt,
        ...(expiry === undefined ? {} : { expiresAt: expiry }),
      });
      const stored = await viaStore(() => store.insert(record));
      return stored.ok ? ok({ token, key: infoOf(record) }) : stored;
    },
    async verify(key) {
      return checkKey(key);
    },
    async get(id) {
      if (typeof id !== 'string')
        return fail(SecurityErrors.SECURITY_KEY_NOT_FOUND, 'No such API key');
      const found = await viaStore(() => store.get(id));
      if (!found.ok) return found;
      return found.value === undefined
        ? fail(SecurityErrors.SECURITY_KEY_NOT_FOUND, 'No such API key')
        : ok(infoOf(found.value));
    },
    async list(owner) {
      if (typeof owner !== 'string') return ok([]);
      const found = await viaStore(() => store.listByOwner(owner));
      return found.ok ? ok(found.value.map(infoOf)) : found;
    },
    async revoke(id) {
      if (typeof id !== 'string')
        return fail(SecurityErrors.SECURITY_KEY_NOT_FOUND, 'No such API key');
      const revoked = await viaStore(() => store.revoke(id, now()));
      if (!revoked.ok) return revoked;
      if (revoked.value === undefined)
        return fail(SecurityErrors.SECURITY_KEY_NOT_FOUND, 'No such API key');
      evict(id);
      if (revocations !== undefined) {
        await revocations.publish(id).catch((error: unknown) => onError?.(error));
      }
      return ok(infoOf(revoked.value));
    },
    looksLike: (value) => value.startsWith(head),
    close() {
      unsubscribe?.();
    },
  };
  Object.defineProperty(apiKeys, API_KEY_CHECK, { value: checkKey });
  return Object.freeze(apiKeys);
}
