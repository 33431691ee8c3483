import { err, isProdError, type MaybePromise, type ProdError, type Result } from '@prod/core';
import { type CircuitBreakerOptions, circuitBreaker } from '@prod/errors';
import { CacheErrors } from './errors.js';
import { CacheCore, type CoreSettings } from './internal/core.js';
import { keyProblem, wellFormed } from './internal/keys.js';
import {
  check,
  checkTags,
  DEFAULTS,
  type Resolved,
  resolve,
  resolveCall,
} from './internal/options.js';
import { isSchema } from './internal/schema.js';
import { stableKey } from './internal/stable-key.js';
import { jsonSerializer, type Serializer } from './serializer.js';
import type { CacheStore } from './store.js';
import type {
  Cache,
  CacheEvents,
  CacheMetricsTarget,
  CacheOptions,
  CacheStats,
  GetOptions,
  GetOrSetOptions,
  L1Options,
  L2Options,
  Loader,
  Schema,
  SetManyEntry,
  SetOptions,
  WrapOptions,
} from './types.js';

const STORE_METHODS = [
  'get',
  'getMany',
  'set',
  'delete',
  'deleteTags',
  'clear',
  'getOrLock',
  'lock',
  'renewLock',
  'commit',
  'unlock',
  'subscribe',
  'close',
] as const;

const MAX_VALUE_SIZE = 512 * 1024 * 1024;

function checkStore(value: unknown): CacheStore | undefined {
  if (value === undefined) return undefined;
  const store = value as Record<string, unknown> | null;
  if (
    typeof store !== 'object' ||
    store === null ||
    typeof store.kind !== 'string' ||
    !STORE_METHODS.every((name) => typeof store[name] === 'function')
  ) {
    check.fail('l2', 'a CacheStore (redisStore(), memoryStore() or your own)', value);
  }
  return value as CacheStore;
}

function checkSerializer(value: unknown): Serializer {
  if (value === undefined) return jsonSerializer;
  const serializer = value as Partial<Serializer> | null;
  if (
    typeof serializer !== 'object' ||
    serializer === null ||
    typeof serializer.id !== 'string' ||
    serializer.id === '' ||
    typeof serializer.serialize !== 'function' ||
    typeof serializer.deserialize !== 'function' ||
    (serializer.binary !== undefined && typeof serializer.binary !== 'boolean')
  ) {
    check.fail('serializer', 'a Serializer ({ id, serialize, deserialize, binary? })', value);
  }
  return value as Serializer;
}

const CACHE_LEVEL_ONLY = { tags: undefined, schema: undefined, forceFresh: undefined };

/**
 * Creates a cache: an in-process LRU (L1) by default, in front of a shared tier (L2, Redis
 * through `redisStore`) when you give one.
 *
 * When to use: one cache per kind of data (its namespace, TTL and policies), shared by the
 * whole process; `cache.namespace('drafts')` for sub-areas sharing its tiers.
 *
 * Details:
 * - L1 only (the default, no infrastructure), L2 only (`l1: false`), or both. With both, a
 *   write goes to L1 and L2 and a bus message tells other instances to drop their L1 copy.
 * - Every L2 call has a timeout (`l2Options.timeout`, 250 ms) and goes through a circuit
 *   breaker: with Redis down, reads answer from L1 or the loader, never hang, never throw,
 *   and each failure is an `l2Error` event with a `CACHE_L2_UNAVAILABLE` error.
 * - Values are stored as the serializer makes them (JSON by default, Buffers kept), and L1
 *   keeps the same copy, so whichever tier answers, the value is the same.
 *
 * Gotchas: values are shared by reference between callers of one process: treat what the
 * cache returns as read-only. `close()` does not close the store: close it after its caches.
 *
 * @returns a {@link Cache}. Throws `CACHE_INVALID_OPTIONS` for a bad option.
 * @example
 * const cache = createCache({ namespace: 'users', ttl: 60_000, staleWhileRevalidate: 30_000 });
 * const user = await cache.getOrSet('42', async () => ({ id: '42', name: 'Ada' }));
 * if (user.ok) console.log(user.value.name);
 */
export function createCache(options: CacheOptions = {}): Cache {
  const given = check.object<CacheOptions>('options', options);
  const namespace =
    given.namespace === undefined
      ? ''
      : check.string('namespace', given.namespace, '', { nonEmpty: true });
  const name = check.string('name', given.name, namespace === '' ? 'default' : namespace, {
    nonEmpty: true,
  });
  const maxKeyLength = check.integer('maxKeyLength', given.maxKeyLength, 1024, {
    min: 1,
    max: 1_000_000,
  });
  const maxValueSize = check.integer('maxValueSize', given.maxValueSize, 1_048_576, {
    min: 1,
    max: MAX_VALUE_SIZE,
  });
  if (!wellFormed(namespace))
    check.fail('namespace', 'text without unpaired surrogates', namespace);
  const store = checkStore(given.l2);
  let l1: CoreSettings['l1'];
  if (given.l1 === false) {
    if (store === undefined)
      check.fail('l1', 'an L1 unless an l2 is given (a cache needs a tier)', false);
    l1 = undefined;
  } else {
    const l1Options = check.object<L1Options>('l1', given.l1);
    l1 = {
      maxEntries: check.integer('l1.maxEntries', l1Options.maxEntries, 10_000, { min: 1 }),
      maxBytes:
        l1Options.maxBytes === undefined
          ? undefined
          : check.integer('l1.maxBytes', l1Options.maxBytes, 0, { min: 1 }),
      disconnectedTtl: check.duration('l1.disconnectedTtl', l1Options.disconnectedTtl, 5_000, {
        min: 1,
      }),
    };
  }
  const l2Options = check.object<L2Options>('l2Options', given.l2Options);
  const l2Timeout = check.duration('l2Options.timeout', l2Options.timeout, 250, { min: 1 });
  const breaker = check.object<CircuitBreakerOptions>(
    'l2Options.circuitBreaker',
    l2Options.circuitBreaker,
  );
  const defaults = resolve(
    DEFAULTS,
    { ...given, ...CACHE_LEVEL_ONLY } as unknown as GetOrSetOptions,
    maxKeyLength,
  );
  const rootPrefix = namespace === '' ? '' : `${namespace}:`;
  const settings: CoreSettings = {
    name,
    rootPrefix,
    l1,
    store,
    l2Timeout,
    breaker,
    bus: check.boolean('bus', given.bus, true),
    serializer: checkSerializer(given.serializer),
    maxKeyLength,
    maxValueSize,
    defaults,
    metrics:
      given.metrics === undefined
        ? undefined
        : check.object<CacheMetricsTarget>('metrics', given.metrics),
    tracing: check.boolean('tracing', given.tracing, true),
    traceKeys: check.boolean('traceKeys', given.traceKeys, false),
  };
  let core: CacheCore;
  try {
    // Without an L2 there is no breaker to build; its options are still checked now.
    if (store === undefined && l2Options.circuitBreaker !== undefined) circuitBreaker(breaker);
    core = new CacheCore(settings);
  } catch (error) {
    // The breaker checks its own options (ERRORS_INVALID_OPTIONS): report them as ours.
    if (isProdError(error, 'ERRORS_INVALID_OPTIONS')) {
      throw CacheErrors.CACHE_INVALID_OPTIONS({
        message: `option l2Options.circuitBreaker: ${error.message}`,
        details: { option: 'l2Options.circuitBreaker' },
        cause: error,
      });
    }
    throw error;
  }
  return new CacheView(core, namespace, rootPrefix, '');
}

class CacheView implements Cache {
  readonly name: string;
  private readonly maxKeyLength: number;
  private readonly defaults: Resolved;

  /**
   * @param path the namespace path (`app:users`)
   * @param prefix the whole key prefix (`app:users:`)
   * @param local the prefix below the cache's own namespace (`users:`): what L1 keys carry
   */
  constructor(
    private readonly core: CacheCore,
    private readonly path: string,
    readonly prefix: string,
    private readonly local: string,
  ) {
    this.name = core.settings.name;
    this.maxKeyLength = core.settings.maxKeyLength;
    this.defaults = core.settings.defaults;
  }

  get<TValue = unknown>(key: string): Promise<TValue | undefined>;
  get<TSchema extends Schema>(key: string, options: GetOptions<TSchema>): Promise<unknown>;
  get(key: string, options?: GetOptions<Schema | undefined>): Promise<unknown> {
    if (options === undefined && typeof key === 'string' && key.length <= this.maxKeyLength) {
      const entry = this.core.hit(this.local + key);
      if (entry !== undefined) {
        entry.resolvedValue ??= Promise.resolve(entry.value);
        return entry.resolvedValue;
      }
    }
    return this.slowGet(key, options);
  }

  private async slowGet(
    key: string,
    options: GetOptions<Schema | undefined> | undefined,
  ): Promise<unknown> {
    const schema = this.schemaOf(options);
    if (keyProblem(key, this.maxKeyLength) !== undefined) return undefined;
    return this.core.get(this.local + key, key, schema);
  }

  private schemaOf(options: GetOptions<Schema | undefined> | undefined): Schema | undefined {
    if (options === undefined) return undefined;
    if (typeof options !== 'object' || options === null)
      check.fail('options', 'an object', options);
    if (options.schema !== undefined && !isSchema(options.schema)) {
      check.fail('schema', 'a Standard Schema (zod, valibot...)', options.schema);
    }
    return options.schema;
  }

  getMany<TValue = unknown>(keys: readonly string[]): Promise<(TValue | undefined)[]>;
  getMany<TSchema extends Schema>(
    keys: readonly string[],
    options: GetOptions<TSchema>,
  ): Promise<unknown[]>;
  async getMany(
    keys: readonly string[],
    options?: GetOptions<Schema | undefined>,
  ): Promise<unknown[]> {
    const schema = this.schemaOf(options);
    if (!Array.isArray(keys)) check.fail('keys', 'an array of keys', keys);
    const fulls: string[] = [];
    const valid: string[] = [];
    const at: number[] = [];
    keys.forEach((key, index) => {
      if (keyProblem(key, this.maxKeyLength) !== undefined) return;
      fulls.push(this.local + key);
      valid.push(key);
      at.push(index);
    });
    const found = await this.core.getMany(fulls, valid, schema);
    const values = new Array<unknown>(keys.length);
    at.forEach((index, i) => {
      values[index] = found[i];
    });
    return values;
  }

  async has(key: string): Promise<boolean> {
    if (keyProblem(key, this.maxKeyLength) !== undefined) return false;
    return this.core.has(this.local + key);
  }

  private resolved(options: GetOrSetOptions<Schema | undefined> | undefined): Resolved | ProdError {
    return options === undefined
      ? this.defaults
      : resolveCall(this.defaults, options, this.maxKeyLength);
  }

  set(key: string, value: unknown, options?: SetOptions): Promise<Result<void, ProdError>> {
    const problem = keyProblem(key, this.maxKeyLength);
    if (problem !== undefined) return Promise.resolve(err(problem));
    const r = this.resolved(options);
    if (isProdError(r)) return Promise.resolve(err(r));
    return this.core.setMany([{ full: this.local + key, value, r }]);
  }

  setMany(entries: readonly SetManyEntry[]): Promise<Result<void, ProdError>> {
    if (!Array.isArray(entries)) {
      return Promise.resolve(
        err(
          CacheErrors.CACHE_INVALID_OPTIONS({
            message: 'setMany takes an array of { key, value, options? }',
          }),
        ),
      );
    }
    const ready: { full: string; value: unknown; r: Resolved }[] = [];
    for (const [index, entry] of entries.entries()) {
      if (typeof entry !== 'object' || entry === null) {
        return Promise.resolve(
          err(
            CacheErrors.CACHE_INVALID_OPTIONS({
              message: `entries[${index}] must be { key, value, options? }`,
              details: { index },
            }),
          ),
        );
      }
      const problem = keyProblem(entry.key, this.maxKeyLength);
      if (problem !== undefined) {
        return Promise.resolve(
          err(
            CacheErrors.CACHE_INVALID_KEY({
              message: `entries[${index}]: ${problem.message}`,
              details: { ...problem.details, index },
            }),
          ),
        );
      }
      const r = this.resolved(entry.options);
      if (isProdError(r)) return Promise.resolve(err(r));
      ready.push({ full: this.local + entry.key, value: entry.value, r });
    }
    return this.core.setMany(ready);
  }

  delete(key: string | readonly string[]): Promise<Result<void, ProdError>> {
    const keys = typeof key === 'string' ? [key] : key;
    if (!Array.isArray(keys)) {
      return Promise.resolve(
        err(CacheErrors.CACHE_INVALID_KEY('delete takes a key or an array of keys')),
      );
    }
    for (const one of keys) {
      const problem = keyProblem(one, this.maxKeyLength);
      if (problem !== undefined) return Promise.resolve(err(problem));
    }
    return this.core.delete(keys.map((one) => this.local + one));
  }

  getOrSet<TValue>(
    key: string,
    loader: Loader<TValue>,
    options?: GetOrSetOptions<Schema | undefined>,
  ): Promise<Result<TValue, ProdError>> {
    if (typeof key !== 'string' || key === '' || key.length > this.maxKeyLength) {
      return Promise.resolve(err(keyProblem(key, this.maxKeyLength) as ProdError));
    }
    if (typeof loader !== 'function') {
      return Promise.resolve(
        err(
          CacheErrors.CACHE_INVALID_OPTIONS({
            message: 'option loader must be a function',
            details: { option: 'loader' },
          }),
        ),
      );
    }
    if (options !== undefined) {
      const hit = this.core.quickHit(this.local + key, options);
      if (hit !== undefined) return hit as Promise<Result<TValue, ProdError>>;
    }
    const r = this.resolved(options);
    if (isProdError(r)) return Promise.resolve(err(r));
    return this.core.getOrSet(this.local + key, key, loader as Loader<unknown>, r) as Promise<
      Result<TValue, ProdError>
    >;
  }

  invalidateTags(tags: readonly string[]): Promise<Result<void, ProdError>> {
    let checked: readonly string[] | undefined;
    try {
      checked = checkTags('tags', tags, this.maxKeyLength);
    } catch (error) {
      return Promise.resolve(err(error as ProdError));
    }
    return this.core.invalidateTags(checked ?? []);
  }

  clear(namespace?: string): Promise<Result<void, ProdError>> {
    if (namespace === undefined) return this.core.clear(this.local);
    const problem = keyProblem(namespace, this.maxKeyLength);
    if (problem !== undefined) return Promise.resolve(err(problem));
    return this.core.clear(`${this.local}${namespace}:`);
  }

  namespace(name: string): Cache {
    if (
      typeof name !== 'string' ||
      name === '' ||
      name.length > this.maxKeyLength ||
      !wellFormed(name)
    ) {
      check.fail(
        'namespace',
        `a non-empty string of at most ${this.maxKeyLength} characters`,
        name,
      );
    }
    const full = this.path === '' ? name : `${this.path}:${name}`;
    return new CacheView(this.core, full, `${this.prefix}${name}:`, `${this.local}${name}:`);
  }

  wrap<TArgs extends readonly unknown[], TValue>(
    name: string,
    fn: (...args: TArgs) => MaybePromise<TValue>,
    options: WrapOptions<TArgs> = {},
  ): (...args: TArgs) => Promise<Result<TValue, ProdError>> {
    check.string('name', name, '', { nonEmpty: true });
    if (typeof fn !== 'function') check.fail('fn', 'a function', fn);
    const given = check.object<WrapOptions<TArgs>>('options', options);
    const keyOf = check.fn<(...args: TArgs) => string>('key', given.key);
    const tags = given.tags;
    const tagsOf = typeof tags === 'function' ? tags : undefined;
    const fixed = resolve(
      this.defaults,
      {
        ...given,
        key: undefined,
        tags: typeof tags === 'function' ? undefined : tags,
      } as GetOrSetOptions,
      this.maxKeyLength,
    );
    return (...args: TArgs): Promise<Result<TValue, ProdError>> => {
      let key: string;
      let r = fixed;
      try {
        key = `${name}:${keyOf === undefined ? stableKey(args) : keyOf(...args)}`;
        if (tagsOf !== undefined)
          r = { ...fixed, tags: checkTags('tags', tagsOf(...args), this.maxKeyLength) };
      } catch (error) {
        return Promise.resolve(
          err(
            isProdError(error)
              ? error
              : CacheErrors.CACHE_INVALID_KEY({
                  message: `wrap(${JSON.stringify(name)}): ${(error as Error).message}`,
                  cause: error,
                }),
          ),
        );
      }
      const problem = keyProblem(key, this.maxKeyLength);
      if (problem !== undefined) return Promise.resolve(err(problem));
      return this.core.getOrSet(this.local + key, key, () => fn(...args), r) as Promise<
        Result<TValue, ProdError>
      >;
    };
  }

  stats(): CacheStats {
    return this.core.stats();
  }

  on<TName extends keyof CacheEvents>(
    name: TName,
    listener: (event: CacheEvents[TName]) => void,
  ): () => void {
    return this.core.events.on(name, listener);
  }

  close(): Promise<void> {
    return this.core.close();
  }
}
