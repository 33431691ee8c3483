import { Buffer } from 'node:buffer';
import { err, type MaybePromise, ok, optionChecks, type ProdError, type Result } from '@prod/core';
import { CryptoErrors } from './errors.js';
import { hmac } from './hmac.js';
import type { BytesLike } from './internal/bytes.js';
import { toBytes } from './internal/bytes.js';
import { safeEqual } from './safe-equal.js';

/**
 * Remembers signatures already accepted, so a captured webhook cannot be delivered twice
 * within the window. Share one across instances (Redis `SET key 1 PX ttl NX`) to cover a
 * replay sent to another instance.
 */
export interface ReplayStore {
  /** Remembers `key` for `ttlMs`: true when it was new, false when it was already there. */
  remember(key: string, ttlMs: number): MaybePromise<boolean>;
}

/** Options of {@link memoryReplayStore}. */
export interface MemoryReplayStoreOptions {
  /** Entries kept at most; the oldest go first. Default 100,000. */
  readonly maxEntries?: number;
  /** Clock in milliseconds. Default `Date.now`. */
  readonly now?: () => number;
}

/** Options of {@link createWebhookSigner}. */
export interface WebhookSignerOptions {
  /**
   * The signing secret, or several while rotating: signing uses every one (one `v1=` each),
   * verification accepts any. At least 32 bytes each.
   */
  readonly secrets: BytesLike | readonly BytesLike[];
  /** How far a timestamp may be from now, in ms. Default 300,000 (5 minutes). */
  readonly tolerance?: number;
  /** Where accepted signatures are remembered for `2 x tolerance`; none by default. */
  readonly replay?: ReplayStore;
  /** Clock in milliseconds. Default `Date.now`. */
  readonly now?: () => number;
}

/** A signed webhook's header value and its parts. */
export interface WebhookSignature {
  /** `t=<unix seconds>,v1=<hex HMAC-SHA256>` (one `v1` per secret). */
  readonly header: string;
  /** Unix seconds. */
  readonly timestamp: number;
}

/** Signs and verifies webhooks (the Stripe scheme: HMAC-SHA256 over `<t>.<payload>`). */
export interface WebhookSigner {
  /** Signs a payload (the exact bytes you send) at `timestamp` (default now, in unix seconds). */
  sign(payload: BytesLike, options?: { readonly timestamp?: number }): WebhookSignature;
  /**
   * Verifies a payload (the exact bytes received, before any JSON parsing) against its header.
   *
   * @returns `Ok({ timestamp })`; `Err` `CRYPTO_SIGNATURE_INVALID` (malformed header, no
   * matching signature), `CRYPTO_SIGNATURE_EXPIRED` (outside the tolerance) or
   * `CRYPTO_REPLAYED` (seen already, with a replay store).
   */
  verify(
    payload: BytesLike,
    header: string | undefined,
  ): Promise<Result<{ readonly timestamp: number }, ProdError>>;
}

const check = optionChecks(CryptoErrors.CRYPTO_INVALID_OPTIONS);
const MAX_HEADER = 4096;
const MAX_SIGNATURES = 8;
const HEX_SIGNATURE = /^[0-9a-f]{64}$/;

/**
 * An in-process {@link ReplayStore}: enough for one instance; use a shared store (Redis) for
 * several.
 */
export function memoryReplayStore(options: MemoryReplayStoreOptions = {}): ReplayStore {
  const maxEntries = check.integer('maxEntries', options.maxEntries, 100_000, { min: 1 });
  const now = check.fn<() => number>('now', options.now) ?? Date.now;
  const seen = new Map<string, number>();
  return {
    remember(key, ttlMs) {
      const at = now();
      const expires = seen.get(key);
      if (expires !== undefined && expires > at) return false;
      seen.delete(key);
      seen.set(key, at + ttlMs);
      if (seen.size > maxEntries) {
        // Insertion order is expiry order (one ttl per store): drop the oldest first.
        for (const [oldest, until] of seen) {
          if (seen.size <= maxEntries && until > at) break;
          seen.delete(oldest);
        }
      }
      return true;
    },
  };
}

function invalid(message: string): ProdError {
  return CryptoErrors.CRYPTO_SIGNATURE_INVALID({ message, captureStack: false });
}

/**
 * Creates a webhook signer/verifier: `Webhook-Signature: t=1700000000,v1=5257a8...`.
 *
 * @throws `CRYPTO_INVALID_OPTIONS` for a missing or short secret, or a bad tolerance.
 * @example
 * declare const rawBody: string;
 * declare const header: string | undefined;
 * const webhooks = createWebhookSigner({ secrets: 'whsec_a-long-random-secret-of-32-bytes+', replay: memoryReplayStore() });
 * const { header: sent } = webhooks.sign(rawBody);
 * const verified = await webhooks.verify(rawBody, header);
 * if (!verified.ok) console.log(verified.error.code); // CRYPTO_SIGNATURE_INVALID, _EXPIRED, CRYPTO_REPLAYED
 */
export function createWebhookSigner(options: WebhookSignerOptions): WebhookSigner {
  const given = check.object<WebhookSignerOptions>('options', options);
  const list = Array.isArray(given.secrets) ? given.secrets : [given.secrets];
  const secrets = list.map((secret) => toBytes(secret));
  if (
    secrets.length === 0 ||
    secrets.some((secret) => secret === undefined || secret.length < 32)
  ) {
    check.fail(
      'secrets',
      'one or more secrets of at least 32 bytes',
      given.secrets === undefined ? undefined : 'a short or missing secret',
    );
  }
  const tolerance = check.duration('tolerance', given.tolerance, 300_000, { min: 1 });
  const now = check.fn<() => number>('now', given.now) ?? Date.now;
  const replay = given.replay;
  if (replay !== undefined && typeof replay?.remember !== 'function') {
    check.fail('replay', 'a ReplayStore ({ remember(key, ttlMs) })', replay);
  }
  const keys = secrets as Uint8Array[];
  const signed = (timestamp: number, payload: Uint8Array, key: Uint8Array): Buffer =>
    hmac(key, Buffer.concat([Buffer.from(`${timestamp}.`, 'utf8'), payload]));

  return {
    sign(payload, signOptions = {}) {
      const data = toBytes(payload);
      if (data === undefined)
        throw CryptoErrors.CRYPTO_INVALID_INPUT('the payload must be a string or bytes');
      const timestamp = signOptions.timestamp ?? Math.floor(now() / 1000);
      if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
        throw CryptoErrors.CRYPTO_INVALID_INPUT('timestamp must be unix seconds');
      }
      const signatures = keys.map((key) => `v1=${signed(timestamp, data, key).toString('hex')}`);
      return { header: [`t=${timestamp}`, ...signatures].join(','), timestamp };
    },
    async verify(payload, header) {
      const data = toBytes(payload);
      if (data === undefined || typeof header !== 'string' || header.length > MAX_HEADER) {
        return err(invalid('missing or malformed signature header'));
      }
      let timestamp: number | undefined;
      const candidates: Buffer[] = [];
      for (const part of header.split(',')) {
        const at = part.indexOf('=');
        const name = part.slice(0, at).trim();
        const value = part.slice(at + 1).trim();
        if (name === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
        else if (name === 'v1' && HEX_SIGNATURE.test(value) && candidates.length < MAX_SIGNATURES) {
          candidates.push(Buffer.from(value, 'hex'));
        }
      }
      if (timestamp === undefined || candidates.length === 0) {
        return err(invalid('missing or malformed signature header'));
      }
      let matched: Buffer | undefined;
      for (const key of keys) {
        const expected = signed(timestamp, data, key);
        for (const candidate of candidates) {
          if (safeEqual(expected, candidate)) matched = candidate;
        }
      }
      if (matched === undefined) return err(invalid('no signature matches the payload'));
      if (Math.abs(now() - timestamp * 1000) > tolerance) {
        return err(
          CryptoErrors.CRYPTO_SIGNATURE_EXPIRED({
            message: 'the signature timestamp is outside the tolerance window',
            details: { timestamp },
            captureStack: false,
          }),
        );
      }
      if (replay !== undefined) {
        const fresh = await replay.remember(`webhook:${matched.toString('hex')}`, 2 * tolerance);
        if (!fresh) {
          return err(
            CryptoErrors.CRYPTO_REPLAYED({
              message: 'this webhook was already received',
              captureStack: false,
            }),
          );
        }
      }
      return ok({ timestamp });
    },
  };
}
