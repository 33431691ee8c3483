import { randomBytes } from 'node:crypto';
import { err, isProdError, ok, type ProdError, type Result } from '@prod/core';
import type { CircuitBreakerOptions } from '@prod/errors';
import { LRUCache } from 'lru-cache';
import { CacheErrors } from '../errors.js';
import type { Serializer } from '../serializer.js';
import type { CacheStore, StoreReadOptions, StoreWrite } from '../store.js';
import type {
  CacheEvents,
  CacheMetricsTarget,
  CacheStats,
  GetOrSetOptions,
  Loader,
  LoaderContext,
  LoaderSettings,
  Schema,
} from '../types.js';
import { coarseNow } from './clock.js';
import { Emitter } from './emitter.js';
import {
  type Decoded,
  decodeEntry,
  type EntryMeta,
  encodeEntry,
  L1Entry,
  payloadBytes,
} from './entry.js';
import { keyProblem, wellFormed } from './keys.js';
import { FAILED, L2Guard } from './l2-guard.js';
import { Counters, registerMetrics } from './metrics.js';
import { check, checkTags, type Resolved } from './options.js';
import { prefixedStore } from './prefixed-store.js';
import { type Checked, checkSchema } from './schema.js';
import { inLoadSpan } from './tracing.js';

/** The settings of a cache, checked by `createCache`. */
export interface CoreSettings {
  readonly name: string;
  /** The cache's namespace and a colon (`notes:`), or `''`: what L2 and the bus add to keys. */
  readonly rootPrefix: string;
  readonly l1:
    | {
        readonly maxEntries: number;
        readonly maxBytes: number | undefined;
        readonly disconnectedTtl: number;
      }
    | undefined;
  readonly store: CacheStore | undefined;
  readonly l2Timeout: number;
  readonly breaker: CircuitBreakerOptions;
  readonly bus: boolean;
  readonly serializer: Serializer;
  readonly maxKeyLength: number;
  readonly maxValueSize: number;
  readonly defaults: Resolved;
  readonly metrics: CacheMetricsTarget | undefined;
  readonly tracing: boolean;
  readonly traceKeys: boolean;
}

/** A value ready to be stored: its serialized form and the copy L1 keeps. */
interface Prepared {
  readonly payload: string | Uint8Array | undefined;
  readonly bytes: number;
  readonly value: unknown;
}

/** A stale value that may stand in: from L1 or L2. */
interface Stale extends EntryMeta {
  /** What a caller is answered (the schema's output, when there is a schema). */
  readonly value: unknown;
  /** What is stored, for the loader's `stale` (the value itself without a schema). */
  readonly raw?: unknown;
}

/** Timings of an entry. */
type Timings = Pick<EntryMeta, 'freshUntil' | 'swrUntil' | 'staleUntil'>;

/**
 * One load of one key in this process: every concurrent `getOrSet` of the key awaits the same
 * promise. `deliver` settles it (once); the load may go on after that (stale-while-revalidate,
 * a soft timeout) until it has stored its value.
 */
class Flight {
  readonly promise: Promise<Result<unknown>>;
  private settle!: (result: Result<unknown>) => void;
  delivered = false;
  constructor() {
    this.promise = new Promise((resolve) => {
      this.settle = resolve;
    });
  }
  deliver(result: Result<unknown>): void {
    if (this.delivered) return;
    this.delivered = true;
    this.settle(result);
  }
}

type Outcome =
  | { readonly kind: 'ok'; readonly value: unknown }
  | { readonly kind: 'error'; readonly error: unknown }
  | { readonly kind: 'soft' }
  | { readonly kind: 'hard' };

const SOFT: Outcome = Object.freeze({ kind: 'soft' });
const HARD: Outcome = Object.freeze({ kind: 'hard' });

/** Bounds of the maps that remember recent invalidations (for loads and reads in flight). */
const MAX_MARKS = 10_000;

const OK_VOID: Result<void> = Object.freeze(ok());

/** Waits for `settled`, or for one of two deadlines (ms from now; Infinity: none). */
function race(settled: Promise<Outcome>, softMs: number, hardMs: number): Promise<Outcome> {
  if (softMs === Number.POSITIVE_INFINITY && hardMs === Number.POSITIVE_INFINITY) return settled;
  return new Promise((resolve) => {
    const timers: ReturnType<typeof setTimeout>[] = [];
    const done = (outcome: Outcome): void => {
      for (const timer of timers) clearTimeout(timer);
      resolve(outcome);
    };
    if (softMs < hardMs && Number.isFinite(softMs))
      timers.push(setTimeout(done, Math.max(0, softMs), SOFT));
    if (Number.isFinite(hardMs)) timers.push(setTimeout(done, Math.max(0, hardMs), HARD));
    settled.then(done);
  });
}

/**
 * The machinery behind a cache and all its namespace views: L1, the guarded L2, the bus,
 * single-flight loads, and the counters.
 */
export class CacheCore {
  readonly id = randomBytes(8).toString('hex');
  readonly counters = new Counters();
  readonly events = new Emitter<CacheEvents>();
  readonly l1: LRUCache<string, L1Entry> | undefined;
  readonly store: CacheStore | undefined;
  readonly guard: L2Guard | undefined;
  readonly settings: CoreSettings;
  private readonly serializer: Serializer;
  private readonly rootPrefix: string;
  private readonly readOptions: StoreReadOptions;
  private readonly flights = new Map<string, Flight>();
  private readonly reads = new Map<string, Promise<Decoded | undefined>>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly loaders = new Set<AbortController>();
  /** Bumped by every invalidation this process sees; loads and reads remember it at start. */
  private seq = 0;
  /** Loads and reads started before this are treated as invalidated (after a clear). */
  private floor = 0;
  private readonly keyMarks = new Map<string, number>();
  private readonly tagMarks = new Map<string, number>();
  /** Tagged L1 entries stored before this are treated as invalidated (the tag map overflowed). */
  private tagFloor = 0;
  private readonly busEnabled: boolean;
  private busConnected = false;
  private busEverConnected = false;
  private busDownSince = Date.now();
  private readonly disconnectedTtl: number;
  private readonly unsubscribe: (() => void) | undefined;
  private readonly unregister: (() => void) | undefined;
  private closed = false;

  constructor(settings: CoreSettings) {
    this.settings = settings;
    this.serializer = settings.serializer;
    this.readOptions = settings.serializer.binary === true ? { binary: true } : {};
    const l1 = settings.l1;
    this.disconnectedTtl = l1?.disconnectedTtl ?? Number.POSITIVE_INFINITY;
    this.l1 =
      l1 === undefined
        ? undefined
        : new LRUCache<string, L1Entry>({
            max: l1.maxEntries,
            ...(l1.maxBytes === undefined
              ? {}
              : { maxSize: l1.maxBytes, maxEntrySize: l1.maxBytes }),
          });
    // Keys are kept without the cache's own namespace (L1, flights, marks): only L2 and the bus
    // see it, so a hit builds no string.
    this.rootPrefix = settings.rootPrefix;
    this.store =
      settings.store === undefined ? undefined : prefixedStore(settings.store, settings.rootPrefix);
    this.guard =
      settings.store === undefined
        ? undefined
        : new L2Guard(settings.l2Timeout, settings.breaker, this.counters, (operation, error) =>
            this.events.emit('l2Error', { error, operation }),
          );
    this.guard?.breaker.on('stateChange', ({ from, to }) =>
      this.events.emit('circuit', { from, to }),
    );
    this.unsubscribe =
      settings.store !== undefined && settings.bus
        ? settings.store.subscribe({
            message: (text) => this.onMessage(text),
            state: (connected) => this.onBusState(connected),
          })
        : undefined;
    this.busEnabled = this.unsubscribe !== undefined;
    this.unregister =
      settings.metrics === undefined
        ? undefined
        : registerMetrics(settings.metrics, {
            name: settings.name,
            counters: this.counters,
            l1Size: () => this.l1?.size ?? 0,
            circuitOpen: () =>
              this.guard === undefined ? undefined : this.guard.breaker.state === 'closed' ? 0 : 1,
            busConnected: () => (this.busEnabled ? (this.busConnected ? 1 : 0) : undefined),
          });
  }

  // --- L1 -------------------------------------------------------------------------------

  /** The L1 entry of `full` if it may still be used (fresh or stale), else drops it. */
  private l1Entry(full: string, now: number): L1Entry | undefined {
    const l1 = this.l1;
    if (l1 === undefined) return undefined;
    const entry = l1.get(full);
    if (entry === undefined) return undefined;
    if (
      now >= entry.staleUntil ||
      now >= entry.l1Until ||
      (entry.tags !== undefined && this.tagsChanged(entry.tags, entry.storedSeq)) ||
      (this.busEnabled &&
        !this.busConnected &&
        now - Math.max(entry.storedAt, this.busDownSince) > this.disconnectedTtl)
    ) {
      l1.delete(full);
      return undefined;
    }
    return entry;
  }

  private putL1(
    full: string,
    meta: Timings & EntryMeta,
    value: unknown,
    now: number,
    l1Ttl: number,
    bytes: number,
  ): L1Entry | undefined {
    const l1 = this.l1;
    if (l1 === undefined) return undefined;
    const entry = new L1Entry(
      value,
      meta.freshUntil,
      meta.swrUntil,
      meta.staleUntil,
      meta.createdAt,
      meta.loadMs,
      meta.negative,
      meta.tags,
      now,
      this.seq,
      now + l1Ttl,
    );
    if (this.settings.l1?.maxBytes !== undefined) l1.set(full, entry, { size: Math.max(1, bytes) });
    else l1.set(full, entry);
    return entry;
  }

  private dropPrefix(prefix: string): void {
    const l1 = this.l1;
    if (l1 === undefined) return;
    if (prefix === '') {
      l1.clear();
      return;
    }
    for (const key of [...l1.keys()]) if (key.startsWith(prefix)) l1.delete(key);
  }

  // --- invalidation marks ---------------------------------------------------------------

  private markKey(full: string): void {
    this.seq += 1;
    // Re-inserted, so the map stays in the order of the marks (the oldest first).
    this.keyMarks.delete(full);
    this.keyMarks.set(full, this.seq);
    if (this.keyMarks.size > MAX_MARKS)
      this.floor = Math.max(this.floor, forgetOldest(this.keyMarks));
  }

  private markTag(tag: string): void {
    this.seq += 1;
    this.tagMarks.delete(tag);
    this.tagMarks.set(tag, this.seq);
    if (this.tagMarks.size > MAX_MARKS) {
      const forgotten = forgetOldest(this.tagMarks);
      this.tagFloor = Math.max(this.tagFloor, forgotten);
      this.floor = Math.max(this.floor, forgotten);
    }
  }

  private keyChanged(full: string, since: number): boolean {
    return since < this.floor || (this.keyMarks.get(full) ?? 0) > since;
  }

  private tagsChanged(tags: readonly string[], since: number): boolean {
    if (since < this.tagFloor) return true;
    for (const tag of tags) if ((this.tagMarks.get(tag) ?? 0) > since) return true;
    return false;
  }

  // --- the bus --------------------------------------------------------------------------

  private message(op: 'd', keys: readonly string[]): string | undefined;
  private message(op: 't', tags: readonly string[]): string | undefined;
  private message(op: 'c', prefix: string): string | undefined;
  private message(op: 'd' | 't' | 'c', payload: readonly string[] | string): string | undefined {
    if (!this.busEnabled) return undefined;
    const root = this.rootPrefix;
    // On the wire keys are whole (namespace included): caches of other namespaces share the bus.
    if (op === 'c') return JSON.stringify({ i: this.id, o: op, p: root + (payload as string) });
    const items =
      op === 'd' && root !== '' ? (payload as readonly string[]).map((key) => root + key) : payload;
    return JSON.stringify({ i: this.id, o: op, k: items });
  }

  private onMessage(text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof message !== 'object' || message === null) return;
    const { i, o, k, p } = message as { i?: unknown; o?: unknown; k?: unknown; p?: unknown };
    if (i === this.id) return;
    this.counters.busReceived += 1;
    const root = this.rootPrefix;
    if (o === 'c') {
      if (typeof p !== 'string') return;
      // A clear of this namespace, of one under it, or of one above it (all of ours).
      const local = p.startsWith(root) ? p.slice(root.length) : root.startsWith(p) ? '' : undefined;
      if (local === undefined) return;
      this.seq += 1;
      this.floor = this.seq;
      this.dropPrefix(local);
      return;
    }
    if (!Array.isArray(k)) return;
    for (const item of k) {
      if (typeof item !== 'string') continue;
      if (o === 'd') {
        if (!item.startsWith(root)) continue;
        const local = item.slice(root.length);
        this.markKey(local);
        this.l1?.delete(local);
        this.wake(local);
      } else if (o === 't') this.markTag(item);
    }
  }

  private onBusState(connected: boolean): void {
    if (this.closed || connected === this.busConnected) return;
    this.busConnected = connected;
    if (connected) {
      // Invalidations published while we were away are lost: start L1 afresh.
      if (this.busEverConnected) {
        this.seq += 1;
        this.floor = this.seq;
        this.l1?.clear();
      }
      this.busEverConnected = true;
    } else this.busDownSince = Date.now();
    this.events.emit('bus', { connected });
  }

  private wake(full: string): void {
    const set = this.waiters.get(full);
    if (set === undefined) return;
    for (const waiter of [...set]) waiter();
  }

  /** Resolves after `ms`, or sooner when another instance writes `full` (its bus message). */
  private waitFor(full: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiters.get(full);
      if (set === undefined) {
        set = new Set();
        this.waiters.set(full, set);
      }
      const waiters = set;
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0 && this.waiters.get(full) === waiters) this.waiters.delete(full);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiters.add(done);
    });
  }

  // --- values ---------------------------------------------------------------------------

  /** Serializes, checks the size and makes the copy L1 keeps; an `Err` writes nothing. */
  prepare(value: unknown, negative: 0 | 1 | 2): Result<Prepared, ProdError> {
    if (negative !== 0) return ok({ payload: undefined, bytes: 1, value });
    let payload: string | Uint8Array;
    try {
      payload = this.serializer.serialize(value);
    } catch (cause) {
      return err(
        CacheErrors.CACHE_NOT_SERIALIZABLE({
          message: `the value cannot be serialized: ${cause instanceof Error ? cause.message : String(cause)}`,
          cause,
        }),
      );
    }
    if (typeof payload !== 'string' && !(payload instanceof Uint8Array)) {
      return err(
        CacheErrors.CACHE_NOT_SERIALIZABLE('the serializer returned neither text nor bytes'),
      );
    }
    const bytes = payloadBytes(payload);
    if (bytes > this.settings.maxValueSize) {
      return err(
        CacheErrors.CACHE_VALUE_TOO_LARGE({
          message: `the serialized value is ${bytes} bytes, over maxValueSize (${this.settings.maxValueSize})`,
          details: { bytes, maxValueSize: this.settings.maxValueSize },
        }),
      );
    }
    let copy: unknown;
    try {
      // L1 keeps what the serializer makes of the value, as L2 would give it back: whichever
      // tier answers, the value is the same, and later changes to the caller's object do not
      // reach the cache.
      copy = this.serializer.deserialize(payload);
    } catch (cause) {
      return err(
        CacheErrors.CACHE_NOT_SERIALIZABLE({
          message: 'the serializer cannot read back what it wrote',
          cause,
        }),
      );
    }
    return ok({ payload, bytes, value: copy });
  }

  private timings(now: number, r: Resolved, negative: boolean): Timings {
    if (negative) {
      const until = now + r.negativeTtl;
      return { freshUntil: until, swrUntil: until, staleUntil: until };
    }
    const ttl =
      r.jitter > 0 && Number.isFinite(r.ttl) ? r.ttl * (1 - r.jitter * Math.random()) : r.ttl;
    const freshUntil = now + ttl;
    return {
      freshUntil,
      swrUntil: freshUntil + r.swr,
      staleUntil: freshUntil + Math.max(r.swr, r.grace),
    };
  }

  private toWrite(
    full: string,
    meta: Timings & EntryMeta,
    payload: string | Uint8Array | undefined,
    now: number,
  ): StoreWrite {
    return {
      key: full,
      value: encodeEntry(meta, this.serializer, payload),
      ttlMs: meta.staleUntil - now,
      ...(meta.tags === undefined ? {} : { tags: meta.tags }),
    };
  }

  private track(promise: Promise<unknown>): void {
    this.pending.add(promise);
    promise.then(
      () => this.pending.delete(promise),
      () => this.pending.delete(promise),
    );
  }

  /** Checks a value against a schema (when there is one); the value to return, or a mismatch. */
  private checked(value: unknown, schema: Schema | undefined): Checked | Promise<Checked> {
    return schema === undefined ? { ok: true, value } : checkSchema(schema, value);
  }

  // --- reads ----------------------------------------------------------------------------

  /**
   * Reads `full` from L2 (one read per key at a time), decodes it, and puts it in L1 unless
   * the key was invalidated meanwhile. Undefined for a miss, an expired entry or a failure.
   */
  private readL2(full: string, l1Ttl: number): Promise<Decoded | undefined> {
    let read = this.reads.get(full);
    if (read === undefined) {
      read = this.fetchL2(full, l1Ttl);
      this.reads.set(full, read);
      const started = read;
      started.then(() => {
        if (this.reads.get(full) === started) this.reads.delete(full);
      });
    }
    return read;
  }

  private async fetchL2(full: string, l1Ttl: number): Promise<Decoded | undefined> {
    const store = this.store;
    const guard = this.guard;
    if (store === undefined || guard === undefined) return undefined;
    const since = this.seq;
    const stored = await guard.call('get', () => store.get(full, this.readOptions));
    if (stored === FAILED || stored === undefined) return undefined;
    return this.accept(full, stored, since, l1Ttl);
  }

  private accept(
    full: string,
    stored: string | Uint8Array,
    since: number,
    l1Ttl: number,
  ): Decoded | undefined {
    const decoded = decodeEntry(stored, this.serializer);
    if (decoded === undefined) return undefined;
    const now = Date.now();
    if (now >= decoded.staleUntil) return undefined;
    if (
      this.l1 !== undefined &&
      !this.keyChanged(full, since) &&
      (decoded.tags === undefined || !this.tagsChanged(decoded.tags, since))
    ) {
      this.putL1(
        full,
        decoded,
        decoded.value,
        now,
        l1Ttl,
        typeof stored === 'string' ? stored.length : stored.byteLength,
      );
    }
    return decoded;
  }

  async get(full: string, key: string, schema: Schema | undefined): Promise<unknown> {
    const now = Date.now();
    const entry = this.l1Entry(full, now);
    if (entry !== undefined && now < entry.freshUntil) {
      if (schema === undefined) {
        this.counters.l1Hits += 1;
        return entry.value;
      }
      const value = await this.checkEntry(entry, schema, full, key, 'l1');
      if (value !== MISS) {
        this.counters.l1Hits += 1;
        return value;
      }
    }
    if (this.l1 !== undefined) this.counters.l1Misses += 1;
    if (this.store === undefined) return undefined;
    const decoded = await this.readL2(full, this.settings.defaults.l1Ttl);
    if (decoded === undefined || Date.now() >= decoded.freshUntil) {
      this.counters.l2Misses += 1;
      return undefined;
    }
    const checked = await this.checked(decoded.value, schema);
    if (!checked.ok) {
      this.counters.l2Misses += 1;
      this.events.emit('schemaMismatch', { key, level: 'l2' });
      return undefined;
    }
    this.counters.l2Hits += 1;
    return checked.value;
  }

  /**
   * `getOrSet` with per-call options on a fresh L1 hit: what a hit needs of the options is read
   * here (`forceFresh`, `schema`, `earlyRefresh`), so a hit does not pay for checking them all.
   * Undefined when the call needs the full path (a miss, a stale entry, any of those three
   * set), which checks every option.
   */
  quickHit(
    full: string,
    options: GetOrSetOptions<Schema | undefined>,
  ): Promise<Result<unknown>> | undefined {
    if (
      this.settings.defaults.earlyRefresh !== 0 ||
      typeof options !== 'object' ||
      options === null
    ) {
      return undefined;
    }
    if (
      (options.forceFresh !== undefined && options.forceFresh !== false) ||
      options.schema !== undefined ||
      (options.earlyRefresh !== undefined && options.earlyRefresh !== 0)
    ) {
      return undefined;
    }
    const now = coarseNow();
    const entry = this.l1Entry(full, now);
    if (entry === undefined || now >= entry.freshUntil) return undefined;
    this.counters.l1Hits += 1;
    entry.resolvedResult ??= Promise.resolve(ok(entry.value));
    return entry.resolvedResult;
  }

  /** A fresh L1 hit of `full` without a schema, or {@link MISS}: the synchronous fast path. */
  hit(full: string): L1Entry | undefined {
    const now = coarseNow();
    const entry = this.l1Entry(full, now);
    if (entry !== undefined && now < entry.freshUntil) {
      this.counters.l1Hits += 1;
      return entry;
    }
    return undefined;
  }

  private async checkEntry(
    entry: L1Entry,
    schema: Schema,
    full: string,
    key: string,
    level: 'l1' | 'l2',
  ): Promise<unknown> {
    if (entry.checkedWith === schema) return entry.checkedValue;
    const checked = await checkSchema(schema, entry.value);
    if (!checked.ok) {
      this.l1?.delete(full);
      this.events.emit('schemaMismatch', { key, level });
      return MISS;
    }
    entry.checkedWith = schema;
    entry.checkedValue = checked.value;
    entry.resolvedChecked = undefined;
    return checked.value;
  }

  async has(full: string): Promise<boolean> {
    const now = Date.now();
    const entry = this.l1Entry(full, now);
    if (entry !== undefined && now < entry.freshUntil) return true;
    if (this.store === undefined) return false;
    const decoded = await this.readL2(full, this.settings.defaults.l1Ttl);
    return decoded !== undefined && Date.now() < decoded.freshUntil;
  }

  async getMany(
    fulls: readonly string[],
    keys: readonly string[],
    schema: Schema | undefined,
  ): Promise<unknown[]> {
    const now = Date.now();
    const values = new Array<unknown>(fulls.length);
    const missing: number[] = [];
    for (let at = 0; at < fulls.length; at += 1) {
      const full = fulls[at] as string;
      const entry = this.l1Entry(full, now);
      if (entry !== undefined && now < entry.freshUntil) {
        const value =
          schema === undefined
            ? entry.value
            : await this.checkEntry(entry, schema, full, keys[at] as string, 'l1');
        if (value !== MISS) {
          this.counters.l1Hits += 1;
          values[at] = value;
          continue;
        }
      }
      if (this.l1 !== undefined) this.counters.l1Misses += 1;
      missing.push(at);
    }
    const store = this.store;
    const guard = this.guard;
    if (missing.length === 0 || store === undefined || guard === undefined) return values;
    const since = this.seq;
    const wanted = missing.map((at) => fulls[at] as string);
    const stored = await guard.call('getMany', () => store.getMany(wanted, this.readOptions));
    if (stored === FAILED) {
      this.counters.l2Misses += missing.length;
      return values;
    }
    const l1Ttl = this.settings.defaults.l1Ttl;
    for (let i = 0; i < missing.length; i += 1) {
      const at = missing[i] as number;
      const one = stored[i];
      const decoded =
        one === undefined ? undefined : this.accept(fulls[at] as string, one, since, l1Ttl);
      if (decoded === undefined || Date.now() >= decoded.freshUntil) {
        this.counters.l2Misses += 1;
        continue;
      }
      const checked = await this.checked(decoded.value, schema);
      if (!checked.ok) {
        this.counters.l2Misses += 1;
        this.events.emit('schemaMismatch', { key: keys[at] as string, level: 'l2' });
        continue;
      }
      this.counters.l2Hits += 1;
      values[at] = checked.value;
    }
    return values;
  }

  // --- writes ---------------------------------------------------------------------------

  private closedError(): ProdError {
    return CacheErrors.CACHE_CLOSED('the cache is closed');
  }

  private l2Failed(operation: string): ProdError {
    return CacheErrors.CACHE_L2_UNAVAILABLE({
      message: `L2 ${operation} failed: done in this process's L1 only`,
      details: { operation },
    });
  }

  /** `set` and `setMany`: every entry is checked before anything is written. */
  async setMany(
    entries: readonly { full: string; value: unknown; r: Resolved }[],
  ): Promise<Result<void, ProdError>> {
    if (this.closed) return err(this.closedError());
    const prepared: Prepared[] = [];
    for (const [index, entry] of entries.entries()) {
      const negative = entry.value === null ? 1 : entry.value === undefined ? 2 : 0;
      const one = this.prepare(entry.value, negative);
      if (!one.ok) {
        if (entries.length === 1) return one;
        return err(withIndex(one.error, index));
      }
      prepared.push(one.value);
    }
    const now = Date.now();
    const writes: StoreWrite[] = [];
    for (const [index, entry] of entries.entries()) {
      const ready = prepared[index] as Prepared;
      const negative = entry.value === null ? 1 : entry.value === undefined ? 2 : 0;
      const meta = {
        ...this.timings(now, entry.r, false),
        createdAt: now,
        loadMs: 0,
        negative,
        tags: entry.r.tags,
      } as const;
      this.markKey(entry.full);
      this.putL1(entry.full, meta, ready.value, now, entry.r.l1Ttl, ready.bytes);
      if (this.store !== undefined) writes.push(this.toWrite(entry.full, meta, ready.payload, now));
    }
    const store = this.store;
    const guard = this.guard;
    if (store === undefined || guard === undefined) return OK_VOID;
    const keys = entries.map((entry) => entry.full);
    const done = guard.call('set', () => store.set(writes, this.message('d', keys)));
    this.track(done);
    return (await done) === FAILED ? err(this.l2Failed('set')) : OK_VOID;
  }

  async delete(fulls: readonly string[]): Promise<Result<void, ProdError>> {
    if (this.closed) return err(this.closedError());
    for (const full of fulls) {
      this.markKey(full);
      this.l1?.delete(full);
    }
    const store = this.store;
    const guard = this.guard;
    if (store === undefined || guard === undefined || fulls.length === 0) return OK_VOID;
    const done = guard.call('delete', () => store.delete(fulls, this.message('d', fulls)));
    this.track(done);
    return (await done) === FAILED ? err(this.l2Failed('delete')) : OK_VOID;
  }

  async invalidateTags(tags: readonly string[]): Promise<Result<void, ProdError>> {
    if (this.closed) return err(this.closedError());
    for (const tag of tags) this.markTag(tag);
    const store = this.store;
    const guard = this.guard;
    if (store === undefined || guard === undefined || tags.length === 0) return OK_VOID;
    const done = guard.call('deleteTags', () => store.deleteTags(tags, this.message('t', tags)));
    this.track(done);
    return (await done) === FAILED ? err(this.l2Failed('deleteTags')) : OK_VOID;
  }

  async clear(prefix: string): Promise<Result<void, ProdError>> {
    if (this.closed) return err(this.closedError());
    this.seq += 1;
    this.floor = this.seq;
    this.dropPrefix(prefix);
    const store = this.store;
    const guard = this.guard;
    if (store === undefined || guard === undefined) return OK_VOID;
    const done = guard.call('clear', () => store.clear(prefix, this.message('c', prefix)));
    this.track(done);
    return (await done) === FAILED ? err(this.l2Failed('clear')) : OK_VOID;
  }

  // --- getOrSet -------------------------------------------------------------------------

  /**
   * The synchronous part of `getOrSet`: a fresh L1 hit answers a resolved promise reused for
   * every hit of the entry (no allocation); everything else goes to the flight of the key.
   */
  getOrSet(
    full: string,
    key: string,
    loader: Loader<unknown>,
    r: Resolved,
  ): Promise<Result<unknown>> {
    let entry: L1Entry | undefined;
    if (this.l1 !== undefined && !r.forceFresh) {
      const now = coarseNow();
      entry = this.l1Entry(full, now);
      const unchecked =
        entry !== undefined && r.schema !== undefined && entry.checkedWith !== r.schema;
      if (entry !== undefined && !unchecked) {
        const value = r.schema === undefined ? entry.value : entry.checkedValue;
        if (now < entry.freshUntil) {
          this.counters.l1Hits += 1;
          if (
            r.earlyRefresh > 0 &&
            entry.loadMs > 0 &&
            now - entry.loadMs * r.earlyRefresh * Math.log(Math.random()) >= entry.freshUntil
          ) {
            this.refresh(full, key, loader, r, entry);
          }
          return this.resolved(entry, r.schema, value);
        }
        if (now < entry.swrUntil) {
          this.counters.l1Misses += 1;
          this.served(key, 'swr');
          if (now >= entry.retryAt) this.refresh(full, key, loader, r, entry);
          return this.resolved(entry, r.schema, value);
        }
        if (now < entry.retryAt) {
          // A load failed a moment ago and the grace value stood in: keep serving it until
          // the backoff passes instead of calling a failing loader again.
          this.counters.l1Misses += 1;
          this.served(key, 'grace');
          return this.resolved(entry, r.schema, value);
        }
      }
      // An entry not yet checked against this schema is counted by `run`, once checked.
      if (!unchecked) this.counters.l1Misses += 1;
    }
    const flight = this.flights.get(full);
    if (flight !== undefined && !r.forceFresh) {
      this.counters.coalesced += 1;
      return flight.promise;
    }
    if (this.closed) return Promise.resolve(err(this.closedError()));
    // Checked here, off the hit path: a key with a lone surrogate is never in L1.
    if (!wellFormed(key))
      return Promise.resolve(err(keyProblem(key, Number.POSITIVE_INFINITY) as ProdError));
    const created = new Flight();
    this.flights.set(full, created);
    this.run(created, full, key, loader, r, entry).then(
      () => this.land(full, created),
      (error: unknown) => {
        // A bug of ours: never leave the callers waiting.
        this.land(full, created);
        created.deliver(
          err(
            CacheErrors.CACHE_LOADER_FAILED({
              message: 'the cache failed to load the key',
              cause: error,
            }),
          ),
        );
      },
    );
    return created.promise;
  }

  private resolved(
    entry: L1Entry,
    schema: Schema | undefined,
    value: unknown,
  ): Promise<Result<unknown>> {
    if (schema === undefined) {
      entry.resolvedResult ??= Promise.resolve(ok(value));
      return entry.resolvedResult;
    }
    entry.resolvedChecked ??= Promise.resolve(ok(value));
    return entry.resolvedChecked;
  }

  private land(full: string, flight: Flight): void {
    if (this.flights.get(full) === flight) this.flights.delete(full);
  }

  /**
   * Answers the flight with its final result and takes it off the map at once: a call made
   * after this must see the cache as it now is, not join a load that is over.
   */
  private finish(full: string, flight: Flight, result: Result<unknown>): void {
    flight.deliver(result);
    this.land(full, flight);
  }

  private served(key: string, reason: 'swr' | 'grace' | 'timeout'): void {
    if (reason === 'swr') this.counters.staleSwr += 1;
    else if (reason === 'grace') this.counters.staleGrace += 1;
    else this.counters.staleTimeout += 1;
    if (this.events.has('stale')) this.events.emit('stale', { key, reason });
  }

  /** Reloads in the background (stale-while-revalidate, early refresh): one load per key. */
  private refresh(
    full: string,
    key: string,
    loader: Loader<unknown>,
    r: Resolved,
    entry: L1Entry,
  ): void {
    if (this.flights.has(full) || this.closed) return;
    const flight = new Flight();
    // Callers that reach the flight meanwhile get the value they would have got from L1.
    flight.deliver(ok(entry.value));
    this.flights.set(full, flight);
    this.background(flight, full, key, loader, r, entry).then(
      () => this.land(full, flight),
      () => this.land(full, flight),
    );
  }

  private async background(
    flight: Flight,
    full: string,
    key: string,
    loader: Loader<unknown>,
    r: Resolved,
    stale: Stale,
  ): Promise<void> {
    const since = this.seq;
    let token: number | undefined;
    const store = this.store;
    const guard = this.guard;
    if (r.distributedLock && store !== undefined && guard !== undefined) {
      // Another instance refreshing the key will publish its value: do not load twice.
      const locked = await guard.call('lock', () => store.lock(full, r.lockLease));
      if (locked === undefined) return;
      if (locked !== FAILED) token = locked;
    }
    await this.load(flight, full, key, loader, r, stale, since, token);
  }

  private async run(
    flight: Flight,
    full: string,
    key: string,
    loader: Loader<unknown>,
    r: Resolved,
    l1: L1Entry | undefined,
  ): Promise<void> {
    const since = this.seq;
    let stale: Stale | undefined;
    if (l1 !== undefined && !r.forceFresh) {
      if (r.schema === undefined) stale = l1;
      else {
        const value = await this.checkEntry(l1, r.schema, full, key, 'l1');
        const now = Date.now();
        if (value === MISS || now >= l1.freshUntil) this.counters.l1Misses += 1;
        if (value !== MISS) {
          stale = { ...metaOf(l1), value, raw: l1.value };
          // An entry that only needed its first check against this schema: answer it like a hit.
          if (now < l1.freshUntil) {
            this.counters.l1Hits += 1;
            this.finish(full, flight, ok(value));
            return;
          }
          if (now < l1.swrUntil || now < l1.retryAt) {
            this.served(key, now < l1.swrUntil ? 'swr' : 'grace');
            flight.deliver(ok(value));
            if (now >= l1.swrUntil) return;
          }
        }
      }
    }
    const store = this.store;
    const guard = this.guard;
    if (store !== undefined && guard !== undefined && !r.forceFresh) {
      if (r.distributedLock) return this.runLocked(flight, full, key, loader, r, stale, since);
      const found = await this.readL2(full, r.l1Ttl);
      const usable = found === undefined ? undefined : await this.usable(found, r.schema, key);
      if (usable !== undefined) {
        const now = Date.now();
        if (now < usable.freshUntil) {
          this.counters.l2Hits += 1;
          this.finish(full, flight, ok(usable.value));
          return;
        }
        if (now < usable.swrUntil) {
          this.served(key, 'swr');
          flight.deliver(ok(usable.value));
        }
        stale = usable;
      }
      this.counters.l2Misses += 1;
    }
    await this.load(flight, full, key, loader, r, stale, since, undefined);
  }

  /** A decoded L2 entry that passes the schema (as a stale candidate), or undefined. */
  private async usable(
    decoded: Decoded,
    schema: Schema | undefined,
    key: string,
  ): Promise<Stale | undefined> {
    if (schema === undefined) return decoded;
    const checked = await checkSchema(schema, decoded.value);
    if (!checked.ok) {
      this.events.emit('schemaMismatch', { key, level: 'l2' });
      return undefined;
    }
    return { ...decoded, value: checked.value, raw: decoded.value };
  }

  /**
   * `getOrSet` with the distributed lock: read the key and, on a miss, lock it in the same
   * round trip. The holder loads and commits with its fencing token; the others wait for its
   * bus message (or poll) and read the value instead of loading.
   */
  private async runLocked(
    flight: Flight,
    full: string,
    key: string,
    loader: Loader<unknown>,
    r: Resolved,
    l1Stale: Stale | undefined,
    since: number,
  ): Promise<void> {
    const store = this.store as CacheStore;
    const guard = this.guard as L2Guard;
    const started = performance.now();
    const deadline = started + Math.min(r.lockWait, r.hardTimeout);
    let stale = l1Stale;
    let delay = 5;
    let counted = false;
    for (;;) {
      const attempt = await guard.call('getOrLock', () =>
        store.getOrLock(full, r.lockLease, this.readOptions),
      );
      if (attempt === FAILED) break;
      if (attempt.token !== undefined) {
        if (!counted) this.counters.l2Misses += 1;
        return this.load(flight, full, key, loader, r, stale, since, attempt.token);
      }
      if (attempt.value !== undefined) {
        const decoded = this.accept(full, attempt.value, since, r.l1Ttl);
        const found = decoded === undefined ? undefined : await this.usable(decoded, r.schema, key);
        const now = Date.now();
        if (found !== undefined && now < found.freshUntil) {
          this.counters.l2Hits += 1;
          this.finish(full, flight, ok(found.value));
          return;
        }
        if (!counted) {
          this.counters.l2Misses += 1;
          counted = true;
        }
        if (found !== undefined) {
          stale = found;
          if (now < found.swrUntil) {
            this.served(key, 'swr');
            flight.deliver(ok(found.value));
          }
        }
        // Stale or unreadable: whoever takes the lock refreshes it.
        const token = await guard.call('lock', () => store.lock(full, r.lockLease));
        if (token === FAILED) break;
        if (token !== undefined)
          return this.load(flight, full, key, loader, r, stale, since, token);
        // Someone else is refreshing: a caller already served stale is done.
        if (flight.delivered) return;
      } else if (!counted) {
        this.counters.l2Misses += 1;
        counted = true;
      }
      const left = deadline - performance.now();
      if (left <= 0) break;
      await this.waitFor(full, Math.min(delay, left));
      delay = Math.min(delay * 2, 100);
    }
    if (performance.now() - started >= r.hardTimeout) {
      return this.timedOut(flight, key, stale);
    }
    // L2 unreachable, or the holder took longer than lockWait: load here.
    const hardLeft = r.hardTimeout - (performance.now() - started);
    return this.load(
      flight,
      full,
      key,
      loader,
      { ...r, hardTimeout: hardLeft },
      stale,
      since,
      undefined,
    );
  }

  private timedOut(flight: Flight, key: string, stale: Stale | undefined): void {
    if (stale !== undefined && Date.now() < stale.staleUntil) {
      this.served(key, 'timeout');
      flight.deliver(ok(stale.value));
      return;
    }
    flight.deliver(
      err(
        CacheErrors.CACHE_LOADER_TIMEOUT({
          message: `loading ${JSON.stringify(key.slice(0, 64))} timed out`,
          captureStack: false,
        }),
      ),
    );
  }

  /**
   * Runs the loader with its soft and hard timeouts in a `cache.load` span, answers the
   * flight, and stores the value (under the lock's fencing token when there is one).
   */
  private async load(
    flight: Flight,
    full: string,
    key: string,
    loader: Loader<unknown>,
    r: Resolved,
    stale: Stale | undefined,
    since: number,
    token: number | undefined,
  ): Promise<void> {
    const store = this.store;
    const guard = this.guard;
    const controller = new AbortController();
    this.loaders.add(controller);
    let settings: LoaderSettings | undefined;
    let skipped = false;
    const context: LoaderContext<unknown> = {
      key,
      signal: controller.signal,
      stale: stale === undefined ? undefined : 'raw' in stale ? stale.raw : stale.value,
      setOptions(next: LoaderSettings) {
        settings = { ...settings, ...next };
      },
      skip() {
        skipped = true;
      },
    };
    const createdAt = Date.now();
    const started = performance.now();
    this.counters.loads += 1;
    let renew: ReturnType<typeof setInterval> | undefined;
    if (token !== undefined && store !== undefined && guard !== undefined) {
      const held = token;
      // Keep the lease while the loader runs, so a slow load is not taken over halfway.
      renew = setInterval(
        () => {
          void guard.call('renewLock', () => store.renewLock(full, held, r.lockLease));
        },
        Math.max(1, r.lockLease / 2),
      );
      renew.unref?.();
    }
    const work = this.callLoader(loader, context, key).then(
      (value): Outcome => ({ kind: 'ok', value }),
      (error: unknown): Outcome => ({ kind: 'error', error }),
    );
    const canStale = stale !== undefined && Date.now() < stale.staleUntil;
    let outcome = await race(
      work,
      canStale ? r.softTimeout : Number.POSITIVE_INFINITY,
      r.hardTimeout,
    );
    if (outcome.kind === 'soft') {
      this.served(key, 'timeout');
      flight.deliver(ok(stale?.value));
      outcome = await race(
        work,
        Number.POSITIVE_INFINITY,
        r.hardTimeout - (performance.now() - started),
      );
    }
    if (outcome.kind === 'hard') {
      this.counters.loadTimeouts += 1;
      this.counters.durations.timeout.observe((performance.now() - started) / 1000);
      controller.abort(
        new DOMException(`The hard timeout of ${r.hardTimeout} ms passed`, 'TimeoutError'),
      );
      this.timedOut(flight, key, stale);
      // New callers must not join a load that may never end: they start their own.
      this.land(full, flight);
      if (renew !== undefined) clearInterval(renew);
      if (token !== undefined && store !== undefined && guard !== undefined) {
        const held = token;
        void guard.call('unlock', () => store.unlock(full, held));
      }
      token = undefined;
      renew = undefined;
      // The loader goes on in the background; what it finally returns is still cached.
      outcome = await work;
      if (outcome.kind !== 'ok') {
        this.loaders.delete(controller);
        return;
      }
    }
    if (renew !== undefined) clearInterval(renew);
    this.loaders.delete(controller);
    const seconds = (performance.now() - started) / 1000;
    const unlock = (): void => {
      if (token !== undefined && store !== undefined && guard !== undefined) {
        const held = token;
        this.track(guard.call('unlock', () => store.unlock(full, held)));
      }
    };
    if (outcome.kind === 'error') {
      this.counters.loadErrors += 1;
      this.counters.durations.error.observe(seconds);
      unlock();
      const error = isProdError(outcome.error)
        ? outcome.error
        : CacheErrors.CACHE_LOADER_FAILED({ message: 'the loader failed', cause: outcome.error });
      if (this.events.has('loaderError')) this.events.emit('loaderError', { key, error });
      const now = Date.now();
      if (stale !== undefined && now < stale.staleUntil && !flight.delivered) {
        this.served(key, 'grace');
        this.finish(full, flight, ok(stale.value));
        // Back off: serve the grace value without calling the loader again for a while.
        const entry =
          this.l1?.peek(full) ??
          (stale instanceof L1Entry
            ? undefined
            : this.putL1(full, stale, stale.value, now, r.l1Ttl, 1));
        if (entry !== undefined) entry.retryAt = now + r.graceBackoff;
        return;
      }
      this.finish(full, flight, err(error));
      return;
    }
    if (outcome.kind !== 'ok') return;
    this.counters.durations.ok.observe(seconds);
    const value = outcome.value;
    const negative = value === null ? 1 : value === undefined ? 2 : 0;
    let effective = r;
    if (settings !== undefined) {
      try {
        effective = adapt(r, settings, this.settings.maxKeyLength);
      } catch (error) {
        unlock();
        this.finish(full, flight, err(error as ProdError));
        return;
      }
    }
    if (skipped || (negative !== 0 && !(effective.negativeTtl > 0))) {
      unlock();
      this.finish(full, flight, ok(value));
      return;
    }
    const prepared = this.prepare(value, negative);
    if (!prepared.ok) {
      unlock();
      this.finish(full, flight, prepared);
      return;
    }
    // With a schema, callers get what it makes of the value, on a miss as on a hit.
    let answer = prepared.value.value;
    if (r.schema !== undefined && negative === 0) {
      const checked = await checkSchema(r.schema, answer);
      if (!checked.ok) {
        unlock();
        this.finish(
          full,
          flight,
          err(
            CacheErrors.CACHE_SCHEMA_MISMATCH({
              message: 'the loader returned a value its schema refuses',
              details: { key },
            }),
          ),
        );
        return;
      }
      answer = checked.value;
    }
    const tags = effective.tags;
    if (this.keyChanged(full, since) || (tags !== undefined && this.tagsChanged(tags, since))) {
      // Invalidated while loading: the value may predate the change. Answer it, keep nothing.
      unlock();
      this.finish(full, flight, ok(answer));
      return;
    }
    const now = Date.now();
    const meta = {
      ...this.timings(now, effective, negative !== 0),
      createdAt,
      loadMs: Math.round(seconds * 1000),
      negative,
      tags,
    } as const;
    const entry = this.putL1(
      full,
      meta,
      prepared.value.value,
      now,
      effective.l1Ttl,
      prepared.value.bytes,
    );
    if (entry !== undefined && r.schema !== undefined) {
      entry.checkedWith = r.schema;
      entry.checkedValue = answer;
    }
    this.finish(full, flight, ok(answer));
    if (store === undefined || guard === undefined) return;
    const write = this.toWrite(full, meta, prepared.value.payload, now);
    const message = this.message('d', [full]);
    const held = token;
    const done =
      held === undefined
        ? guard.call('set', () => store.set([write], message))
        : guard.call('commit', () => store.commit(full, held, write, message));
    this.track(done);
    await done;
  }

  private callLoader(
    loader: Loader<unknown>,
    context: LoaderContext<unknown>,
    key: string,
  ): Promise<unknown> {
    const invoke = (): Promise<unknown> => {
      try {
        return Promise.resolve(loader(context));
      } catch (error) {
        return Promise.reject(error);
      }
    };
    if (!this.settings.tracing) return invoke();
    return inLoadSpan(
      this.settings.traceKeys
        ? { 'cache.name': this.settings.name, 'cache.key': key }
        : { 'cache.name': this.settings.name },
      invoke,
    );
  }

  // --- lifecycle ------------------------------------------------------------------------

  stats(): CacheStats {
    const c = this.counters;
    return {
      name: this.settings.name,
      l1: { hits: c.l1Hits, misses: c.l1Misses, size: this.l1?.size ?? 0 },
      l2: {
        kind: this.store?.kind,
        hits: c.l2Hits,
        misses: c.l2Misses,
        errors: c.l2ErrorTotal,
        skipped: c.l2Skipped,
        circuit: this.guard?.breaker.state,
      },
      loads: {
        calls: c.loads,
        errors: c.loadErrors,
        timeouts: c.loadTimeouts,
        coalesced: c.coalesced,
      },
      stale: { swr: c.staleSwr, grace: c.staleGrace, timeout: c.staleTimeout },
      bus: { enabled: this.busEnabled, connected: this.busConnected, received: c.busReceived },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    this.unregister?.();
    for (const controller of this.loaders)
      controller.abort(CacheErrors.CACHE_CLOSED('the cache was closed'));
    for (const set of this.waiters.values()) for (const waiter of [...set]) waiter();
    if (this.pending.size > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.allSettled([...this.pending]),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, this.settings.l2Timeout);
        }),
      ]);
      clearTimeout(timer);
    }
  }
}

/**
 * Forgets the older half of a map of marks and returns the newest mark forgotten: whatever
 * started before it is treated as invalidated from then on (it may have missed one of them).
 */
function forgetOldest(marks: Map<string, number>): number {
  let forgotten = 0;
  let left = marks.size >> 1;
  for (const [name, mark] of marks) {
    if (left-- <= 0) break;
    marks.delete(name);
    forgotten = mark;
  }
  return forgotten;
}

/** Returned by schema checks of L1 entries for a mismatch. */
const MISS: unique symbol = Symbol('miss');

function metaOf(entry: L1Entry): EntryMeta & Timings {
  return {
    freshUntil: entry.freshUntil,
    swrUntil: entry.swrUntil,
    staleUntil: entry.staleUntil,
    createdAt: entry.createdAt,
    loadMs: entry.loadMs,
    negative: entry.negative,
    tags: entry.tags,
  };
}

/** Applies what a loader set with `ctx.setOptions`, checked like per-call options. */
function adapt(r: Resolved, settings: LoaderSettings, maxKeyLength: number): Resolved {
  return {
    ...r,
    ttl: check.duration('ttl', settings.ttl, r.ttl, {
      min: 0,
      exclusiveMin: true,
      allowInfinity: true,
    }),
    swr: check.duration('staleWhileRevalidate', settings.staleWhileRevalidate, r.swr, {
      allowInfinity: true,
    }),
    grace: check.duration('grace', settings.grace, r.grace, { allowInfinity: true }),
    tags: settings.tags === undefined ? r.tags : checkTags('tags', settings.tags, maxKeyLength),
  };
}

function withIndex(error: ProdError, index: number): ProdError {
  const factory = Object.values(CacheErrors).find((one) => one.code === error.code);
  if (factory === undefined) return error;
  return factory({
    message: `entries[${index}]: ${error.message}`,
    details: { ...error.details, index },
    cause: error,
  });
}
