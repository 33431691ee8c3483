import { Buffer } from 'node:buffer';
import { err, ok, optionChecks, type Result, withDeadline } from '@prod/core';
import {
  createLocalJWKSet,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWSHeaderParameters,
  type JWTVerifyGetKey,
} from 'jose';
import { type SecurityError, SecurityErrors } from './errors.js';

/** Why the keys of a remote JWKS could not be had. */
export type JwksError = SecurityError<'SECURITY_JWKS_UNAVAILABLE'>;

/** Options of {@link remoteJwks}. */
export interface RemoteJwksOptions {
  /**
   * The JWKS URL (`https://idp.example.com/.well-known/jwks.json`). `http:` only for a loopback
   * host (tests, a sidecar).
   */
  readonly url: string | URL;
  /** How long fetched keys are used before they are fetched again, in ms. Default 600 000. */
  readonly cacheMaxAge?: number;
  /**
   * The least time between two fetches caused by tokens whose `kid` is unknown, in ms: a flood
   * of made-up `kid`s costs one fetch per cooldown. Default 30 000.
   */
  readonly cooldown?: number;
  /** How long a fetch may take (connecting, headers and body), in ms. Default 5000. */
  readonly timeout?: number;
  /**
   * How long past `cacheMaxAge` keys are still used while the JWKS cannot be fetched, in ms (an
   * identity provider's outage then does not log everyone out). Default 300 000; 0 never.
   */
  readonly staleIfError?: number;
  /** The largest JWKS body accepted, in bytes. Default 512 KiB. */
  readonly maxBytes?: number;
  /** Headers sent with the fetch. */
  readonly headers?: Readonly<Record<string, string>>;
  /** The fetch implementation. Default the global `fetch`. */
  readonly fetch?: typeof fetch;
  /** The clock, in epoch ms. Default `Date.now`. */
  readonly now?: () => number;
}

/** What {@link RemoteJwks.status} tells (for a health check or a dashboard). */
export interface RemoteJwksStatus {
  /** Fetches attempted so far. */
  readonly fetches: number;
  /** When keys were last fetched (epoch ms), if ever. */
  readonly fetchedAt: number | undefined;
  /** How many keys the last good fetch held. */
  readonly keys: number;
  /** Why the last fetch failed, when it did. */
  readonly lastError: JwksError | undefined;
  /** The earliest time (epoch ms) the next fetch may start. */
  readonly nextFetchAt: number;
}

/** A remote JWK set, cached: made by {@link remoteJwks}, used by `createJwtVerifier`. */
export interface RemoteJwks {
  readonly url: string;
  /**
   * The key resolver for jose's `jwtVerify`: the key of the token's `kid`, fetching the set
   * when it is missing, stale, or lacks that `kid` (once per cooldown). Throws a
   * `SECURITY_JWKS_UNAVAILABLE` JwksError when the set cannot be fetched.
   */
  readonly getKey: JWTVerifyGetKey;
  /**
   * Fetches the set now (joining a fetch in flight), whatever the cooldown: warm the cache at
   * start, before a readiness probe says ready.
   *
   * @returns `Ok`; `Err` `SECURITY_JWKS_UNAVAILABLE`.
   */
  refresh(): Promise<Result<void, JwksError>>;
  status(): RemoteJwksStatus;
}

const check = optionChecks(SecurityErrors.SECURITY_INVALID_OPTIONS);
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
// After a failed fetch the next one waits 1 s, then 2, 4... up to the cooldown.
const FIRST_BACKOFF_MS = 1000;

type LocalSet = ReturnType<typeof createLocalJWKSet>;

function jwksUrl(value: unknown): URL {
  let url: URL | undefined;
  try {
    url = value instanceof URL ? new URL(value.href) : new URL(String(value));
  } catch {
    check.fail('url', 'an absolute https URL', value);
  }
  const parsed = url as URL;
  const insecureOk = parsed.protocol === 'http:' && LOOPBACK.has(parsed.hostname);
  if (parsed.protocol !== 'https:' && !insecureOk) {
    check.fail('url', 'an https URL (http only for a loopback host)', value);
  }
  if (parsed.username !== '' || parsed.password !== '') {
    check.fail('url', 'a URL without credentials (send them in headers)', parsed.origin);
  }
  return parsed;
}

async function readLimited(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) throw new Error(`the JWKS is larger than ${maxBytes} bytes`);
  const reader = response.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new Error(`the JWKS is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A remote JWKS, fetched with a deadline and cached: keys are reused for `cacheMaxAge`, a
 * token with an unknown `kid` fetches the set again at most once per `cooldown` (so random
 * `kid`s cannot turn into a request storm), concurrent requests share one fetch, failures back
 * off (1 s, 2 s, 4 s... up to the cooldown), and an unreachable, hanging or broken endpoint is
 * a typed `SECURITY_JWKS_UNAVAILABLE` (503) within `timeout`, never a 401 and never a hang.
 *
 * Why not jose's `createRemoteJWKSet`: it fetches again on every request while the endpoint is
 * failing (no backoff after a failed fetch), drops the keys as soon as they are stale, and
 * reports an outage as an error a caller has to tell from a bad token.
 *
 * @throws `SECURITY_INVALID_OPTIONS` for a URL that is not https (or loopback http).
 * @example
 * const jwks = remoteJwks({ url: 'https://idp.example.com/.well-known/jwks.json' });
 * const warmed = await jwks.refresh(); // at start: readiness waits for the keys
 * if (!warmed.ok) console.warn(warmed.error.message);
 */
export function remoteJwks(options: RemoteJwksOptions): RemoteJwks {
  const given = check.object<RemoteJwksOptions>('options', options);
  const url = jwksUrl(given.url);
  const cacheMaxAge = check.duration('cacheMaxAge', given.cacheMaxAge, 600_000, { min: 1000 });
  const cooldown = check.duration('cooldown', given.cooldown, 30_000);
  const timeout = check.duration('timeout', given.timeout, 5000, { min: 1 });
  const staleIfError = check.duration('staleIfError', given.staleIfError, 300_000);
  const maxBytes = check.integer('maxBytes', given.maxBytes, 512 * 1024, { min: 64 });
  const headers = {
    accept: 'application/jwk-set+json, application/json',
    ...check.object<Record<string, string>>('headers', given.headers),
  };
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string') check.fail(`headers.${name}`, 'a string', value);
  }
  const fetchImpl = check.fn<typeof fetch>('fetch', given.fetch) ?? globalThis.fetch;
  const now = check.fn<() => number>('now', given.now) ?? Date.now;
  const href = url.href;

  let local: LocalSet | undefined;
  let keyCount = 0;
  let fetchedAt: number | undefined;
  let nextFetchAt = Number.NEGATIVE_INFINITY;
  let failures = 0;
  let fetches = 0;
  let lastError: JwksError | undefined;
  let pending: Promise<Result<void, JwksError>> | undefined;

  const unavailable = (message: string, cause?: unknown): JwksError =>
    SecurityErrors.SECURITY_JWKS_UNAVAILABLE({
      message,
      retryAfterMs: Math.max(1000, nextFetchAt - now()),
      ...(cause === undefined ? {} : { cause }),
      captureStack: false,
    });

  const download = async (signal: AbortSignal): Promise<{ set: LocalSet; count: number }> => {
    const response = await fetchImpl(href, { headers, signal, redirect: 'manual' });
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      throw new Error(`the JWKS endpoint answered ${response.status}`);
    }
    const text = await readLimited(response, maxBytes);
    const json = JSON.parse(text) as JSONWebKeySet;
    if (typeof json !== 'object' || json === null || !Array.isArray(json.keys)) {
      throw new Error('the JWKS endpoint answered something that is not a JWK set');
    }
    // Only public verification keys: a symmetric or private key in a published set is the
    // identity provider's mistake, and must not become something we verify with.
    const keys = json.keys.filter(
      (key) =>
        typeof key === 'object' &&
        key !== null &&
        key.kty !== 'oct' &&
        !('d' in key) &&
        (key.use === undefined || key.use === 'sig'),
    );
    return { set: createLocalJWKSet({ keys }), count: keys.length };
  };

  const attempt = async (): Promise<Result<void, JwksError>> => {
    fetches += 1;
    const outcome = await withDeadline(download, { timeoutMs: timeout });
    const at = now();
    if (outcome.status === 'settled') {
      local = outcome.value.set;
      keyCount = outcome.value.count;
      fetchedAt = at;
      failures = 0;
      lastError = undefined;
      nextFetchAt = at + cooldown;
      return ok(undefined);
    }
    failures += 1;
    nextFetchAt = at + Math.min(cooldown, FIRST_BACKOFF_MS * 2 ** Math.min(failures - 1, 20));
    lastError =
      outcome.status === 'timeout'
        ? unavailable(`The JWKS at ${url.origin} did not answer within ${timeout} ms`)
        : unavailable(`The JWKS at ${url.origin} could not be fetched`, outcome.error);
    return err(lastError);
  };

  const refresh = (): Promise<Result<void, JwksError>> => {
    pending ??= attempt().finally(() => {
      pending = undefined;
    });
    return pending;
  };

  const usable = (at: number): boolean =>
    local !== undefined && fetchedAt !== undefined && at - fetchedAt < cacheMaxAge + staleIfError;
  const mayFetch = (at: number): boolean => pending !== undefined || at >= nextFetchAt;

  const getKey = async (
    header: JWSHeaderParameters,
    token: FlattenedJWSInput,
  ): Promise<Awaited<ReturnType<LocalSet>>> => {
    const at = now();
    if (local === undefined || fetchedAt === undefined || at - fetchedAt >= cacheMaxAge) {
      const refreshed = mayFetch(at) ? await refresh() : undefined;
      if (!usable(now())) {
        throw refreshed !== undefined && !refreshed.ok
          ? refreshed.error
          : (lastError ?? unavailable(`The JWKS at ${url.origin} is not available`));
      }
    }
    try {
      return await (local as LocalSet)(header, token);
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ERR_JWKS_NO_MATCHING_KEY' || !mayFetch(now())) {
        throw error;
      }
      // A kid we have not seen: the provider may have rotated its keys since the last fetch.
      const refreshed = await refresh();
      if (!refreshed.ok) throw refreshed.error;
      return (local as LocalSet)(header, token);
    }
  };

  return Object.freeze({
    url: href,
    getKey: getKey as JWTVerifyGetKey,
    refresh,
    status: (): RemoteJwksStatus => ({
      fetches,
      fetchedAt,
      keys: keyCount,
      lastError,
      nextFetchAt,
    }),
  });
}
