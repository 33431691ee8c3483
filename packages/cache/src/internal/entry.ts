import type { Result } from '@prod/core';
import { jsonSerializer, parseJson, type Serializer } from '../serializer.js';
import type { StoredValue } from '../store.js';

/** What an entry holds besides its value. Times are epoch milliseconds. */
export interface EntryMeta {
  /** Fresh until then; stale (served under stale-while-revalidate or grace) after. */
  readonly freshUntil: number;
  /** Served at once (and reloaded in the background) until then. */
  readonly swrUntil: number;
  /** Gone after then (fresh + max(stale-while-revalidate, grace)). */
  readonly staleUntil: number;
  /** When the value was loaded or set. */
  readonly createdAt: number;
  /** How long the loader took, for probabilistic early refresh (0 for `set`). */
  readonly loadMs: number;
  /** The value is a "not found" (negative caching): `null` or `undefined`. */
  readonly negative: 0 | 1 | 2;
  readonly tags: readonly string[] | undefined;
}

/** One L1 entry: the value (by reference) and its metadata. */
export class L1Entry implements EntryMeta {
  /** A resolved promise of the value, made at the first hit and reused by every later one. */
  resolvedValue: Promise<unknown> | undefined = undefined;
  /** A resolved promise of `ok(value)`, for `getOrSet` hits. */
  resolvedResult: Promise<Result<unknown>> | undefined = undefined;
  /** Loader failures: do not call it again before then (grace backoff). */
  retryAt = 0;
  /** A resolved promise of `ok(checkedValue)`, for `getOrSet` hits with a schema. */
  resolvedChecked: Promise<Result<unknown>> | undefined = undefined;
  /** The schema the value was last checked against, and what it made of it. */
  checkedWith: unknown = undefined;
  checkedValue: unknown = undefined;

  constructor(
    readonly value: unknown,
    readonly freshUntil: number,
    readonly swrUntil: number,
    readonly staleUntil: number,
    readonly createdAt: number,
    readonly loadMs: number,
    readonly negative: 0 | 1 | 2,
    readonly tags: readonly string[] | undefined,
    /** When this process put it in L1, for the disconnected-bus cap. */
    readonly storedAt: number,
    /** The invalidation sequence number when it was put in L1, for tag invalidations. */
    readonly storedSeq: number,
    /** The L1 copy is dropped then (`l1Ttl`), even if the entry is still fresh. */
    readonly l1Until: number,
  ) {}
}

/** The envelope in the shared tier: a JSON header line, then the serialized value. */
export interface Decoded extends EntryMeta {
  readonly value: unknown;
}

/** Header line, then the serialized value (any serializer). */
const VERSION = 1;
/** One JSON array: the header's fields, then the value (the JSON serializer). */
const JSON_VERSION = 2;
const JSON_PREFIX = `[${JSON_VERSION},`;
const NEWLINE = 0x0a;

/**
 * Encodes an entry for the shared tier. `payload` is the serializer's output (undefined for a
 * negative entry).
 */
export function encodeEntry(
  meta: EntryMeta,
  serializer: Serializer,
  payload: string | Uint8Array | undefined,
): StoredValue {
  if (serializer === jsonSerializer && typeof payload === 'string') {
    // JSON in JSON: the header and the value in one array, read back with one JSON.parse.
    const head = JSON.stringify([
      JSON_VERSION,
      serializer.id,
      meta.freshUntil,
      meta.swrUntil,
      meta.staleUntil,
      meta.createdAt,
      meta.loadMs,
      meta.negative,
      meta.tags ?? 0,
    ]);
    return `${head.slice(0, -1)},${payload}]`;
  }
  const header = JSON.stringify([
    VERSION,
    serializer.id,
    meta.freshUntil,
    meta.swrUntil,
    meta.staleUntil,
    meta.createdAt,
    meta.loadMs,
    meta.negative,
    meta.tags ?? 0,
  ]);
  if (payload === undefined || typeof payload === 'string') return `${header}\n${payload ?? ''}`;
  const head = Buffer.from(`${header}\n`, 'utf8');
  return Buffer.concat([head, payload]);
}

/** The size in bytes of what {@link encodeEntry} makes of `payload`, for the size limit. */
export function payloadBytes(payload: string | Uint8Array): number {
  return typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.byteLength;
}

const isTime = (value: unknown): value is number =>
  typeof value === 'number' && (Number.isFinite(value) || value === Number.POSITIVE_INFINITY);

/**
 * Decodes an envelope, or undefined for anything that is not one of ours in this serializer's
 * format (a corrupt or foreign value, another serializer, a value the serializer rejects):
 * such an entry is a miss, never an error and never a crash.
 */
export function decodeEntry(stored: StoredValue, serializer: Serializer): Decoded | undefined {
  if (typeof stored === 'string' && stored.startsWith(JSON_PREFIX)) {
    if (serializer !== jsonSerializer) return undefined;
    let parsed: unknown;
    try {
      parsed = parseJson(stored);
    } catch {
      return undefined;
    }
    if (!Array.isArray(parsed) || parsed.length !== 10) return undefined;
    return checkHeader(parsed.slice(0, 9), serializer, () => parsed[9]);
  }
  let headerText: string;
  let payload: string | Uint8Array;
  if (typeof stored === 'string') {
    const at = stored.indexOf('\n');
    if (at < 0) return undefined;
    headerText = stored.slice(0, at);
    payload = stored.slice(at + 1);
  } else {
    const bytes = Buffer.isBuffer(stored)
      ? stored
      : Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
    const at = bytes.indexOf(NEWLINE);
    if (at < 0) return undefined;
    headerText = bytes.toString('utf8', 0, at);
    payload = bytes.subarray(at + 1);
  }
  let header: unknown;
  try {
    header = JSON.parse(headerText);
  } catch {
    return undefined;
  }
  if (!Array.isArray(header) || header.length !== 9 || header[0] !== VERSION) return undefined;
  return checkHeader(header, serializer, () => serializer.deserialize(payload));
}

/** Checks a header's fields; `read` gives the value (and may throw: then a miss). */
function checkHeader(
  header: readonly unknown[],
  serializer: Serializer,
  read: () => unknown,
): Decoded | undefined {
  const [, id, freshRaw, swrRaw, staleRaw, createdAt, loadMs, negative, tags] = header;
  if (id !== serializer.id) return undefined;
  // JSON has no Infinity: an entry that never expires has `null` times.
  const freshUntil = freshRaw === null ? Number.POSITIVE_INFINITY : freshRaw;
  const swrUntil = swrRaw === null ? Number.POSITIVE_INFINITY : swrRaw;
  const staleUntil = staleRaw === null ? Number.POSITIVE_INFINITY : staleRaw;
  if (
    !isTime(freshUntil) ||
    !isTime(swrUntil) ||
    !isTime(staleUntil) ||
    !isTime(createdAt) ||
    !isTime(loadMs)
  ) {
    return undefined;
  }
  if (negative !== 0 && negative !== 1 && negative !== 2) return undefined;
  if (tags !== 0 && !(Array.isArray(tags) && tags.every((tag) => typeof tag === 'string'))) {
    return undefined;
  }
  let value: unknown;
  if (negative === 0) {
    try {
      value = read();
    } catch {
      return undefined;
    }
  } else {
    value = negative === 1 ? null : undefined;
  }
  return {
    value,
    freshUntil,
    swrUntil,
    staleUntil,
    createdAt,
    loadMs,
    negative,
    tags: tags === 0 ? undefined : (tags as string[]),
  };
}
