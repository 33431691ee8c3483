import { err, ok, optionChecks, type ProdError, type Result } from '@prod/core';
import { ConfigErrors } from '../errors.js';
import { listen, type RedisCommandClient, type RedisSubscriberClient } from '../internal/redis.js';
import { type FlagDefinition, flagDefinitionSchema } from './flag-definition.js';
import type { FlagSource, FlagUsageStore } from './types.js';

/** Options of {@link redisFlagStore}. */
export interface RedisFlagStoreOptions {
  /** An ioredis client for commands. */
  readonly client: RedisCommandClient;
  /** A connection for pub/sub. Default `client.duplicate()`, closed by `stop()`. */
  readonly subscriber?: RedisSubscriberClient;
  /** Prefix of every key and of the channel. Default `'flags:'`. */
  readonly prefix?: string;
}

/**
 * Flag definitions in Redis, shared by every instance: each keeps them in memory (evaluation
 * makes no round trip) and reloads them when a change is published. Reads for stale-flag
 * reports are recorded there too, so `stale()` sees every instance.
 */
export interface RedisFlagStore extends FlagSource {
  readonly usage: FlagUsageStore;
  /** Stores a definition and tells every instance. @returns `Ok`, `Err` `CONFIG_FLAG_INVALID` or `CONFIG_FLAG_STORE_FAILED`. */
  set(key: string, definition: FlagDefinition): Promise<Result<void, ProdError>>;
  /** Removes a definition. @returns `Ok` or `Err` `CONFIG_FLAG_STORE_FAILED`. */
  remove(key: string): Promise<Result<void, ProdError>>;
  /** The kill switch, for every instance at once: the flag serves its code default (`DISABLED`). */
  kill(key: string): Promise<Result<void, ProdError>>;
  /** Lifts the kill switch. */
  revive(key: string): Promise<Result<void, ProdError>>;
}

const check = optionChecks(ConfigErrors.CONFIG_INVALID_OPTIONS);
const KEY = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$/;
const MAX_DEFINITION_BYTES = 256 * 1024;

/**
 * A flag store on Redis: `<prefix>definitions` (a hash of JSON definitions), `<prefix>killed`
 * (a set), `<prefix>usage` (a hash of last read times) and the channel `<prefix>changed`.
 *
 * @example
 * declare const redis: RedisFlagStoreOptions['client'];
 * const store = redisFlagStore({ client: redis, prefix: 'notes:flags:' });
 * const flags = createFlags({ 'notes.search': flag.boolean(false) }, { source: store });
 * await store.set('notes.search', { rules: [{ rollout: 10, variant: 'on' }] });
 */
export function redisFlagStore(options: RedisFlagStoreOptions): RedisFlagStore {
  check.object('options', options);
  const client = options.client;
  if (typeof client?.hgetall !== 'function' || typeof client.multi !== 'function') {
    check.fail('client', 'an ioredis client', client);
  }
  const prefix = check.string('prefix', options.prefix, 'flags:');
  const keys = {
    definitions: `${prefix}definitions`,
    killed: `${prefix}killed`,
    usage: `${prefix}usage`,
    since: `${prefix}since`,
    channel: `${prefix}changed`,
  };
  const listeners = new Set<(changed: readonly string[] | undefined) => void>();
  const errorListeners = new Set<(error: ProdError) => void>();
  let view: ReadonlyMap<string, unknown> = new Map();
  let raw = new Map<string, string>();
  let subscriber: RedisSubscriberClient | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  let generation = 0;
  let owned = false;

  const failed = (what: string, error: unknown): ProdError =>
    ConfigErrors.CONFIG_FLAG_STORE_FAILED({
      message: `flag store ${prefix}: ${what} failed: ${error instanceof Error ? error.message : String(error)}`,
      cause: error,
    });

  const load = async (): Promise<string[]> => {
    const mine = ++generation;
    const [definitions, killed] = await Promise.all([
      client.hgetall(keys.definitions),
      client.smembers(keys.killed),
    ]);
    if (mine !== generation) return [];
    const next = new Map<string, string>();
    for (const [key, text] of Object.entries(definitions)) next.set(key, text);
    const dead = new Set(killed);
    for (const key of dead) if (!next.has(key)) next.set(key, '{}');
    const nextView = new Map<string, unknown>();
    for (const [key, text] of next) {
      let value: unknown = text;
      if (text.length <= MAX_DEFINITION_BYTES) {
        try {
          value = JSON.parse(text) as unknown;
        } catch {
          // Left as text: the flags refuse it with PARSE_ERROR and keep what they had.
        }
      }
      if (dead.has(key))
        value = { ...(typeof value === 'object' && value !== null ? value : {}), enabled: false };
      nextView.set(key, value);
    }
    const changed: string[] = [];
    const marks = new Map<string, string>(
      [...next].map(([k, t]) => [k, `${dead.has(k) ? 'x' : ''}${t}`]),
    );
    for (const [key, mark] of marks) if (raw.get(key) !== mark) changed.push(key);
    for (const key of raw.keys()) if (!marks.has(key)) changed.push(key);
    raw = marks;
    view = nextView;
    return changed;
  };

  const notify = (changed: readonly string[]): void => {
    if (changed.length === 0) return;
    for (const listener of [...listeners]) listener(changed);
  };

  const write = async (
    commands: (string | number)[][],
    what: string,
  ): Promise<Result<void, ProdError>> => {
    try {
      await client.multi([...commands, ['publish', keys.channel, what]]).exec();
      return ok();
    } catch (error) {
      return err(failed(what, error));
    }
  };

  const validKey = (key: string): ProdError | undefined =>
    typeof key === 'string' && KEY.test(key)
      ? undefined
      : ConfigErrors.CONFIG_FLAG_INVALID({
          message: 'a flag key is 1-200 letters, digits and ._:/-',
          details: { key: String(key).slice(0, 200) },
        });

  const usage: FlagUsageStore = {
    async recordReads(read, at) {
      if (read.length === 0) return;
      await client
        .multi([['hset', keys.usage, ...read.flatMap((key) => [key, String(at)])]])
        .exec();
    },
    async lastReads(wanted) {
      const out = new Map<string, number>();
      if (wanted.length === 0) return out;
      const values = await client.hmget(keys.usage, ...wanted);
      wanted.forEach((key, i) => {
        const at = Number(values[i]);
        if (values[i] !== null && Number.isFinite(at)) out.set(key, at);
      });
      return out;
    },
    async trackingSince() {
      const now = Date.now();
      await client.multi([['set', keys.since, String(now), 'NX']]).exec();
      const since = Number(await client.get(keys.since));
      return Number.isFinite(since) ? since : now;
    },
  };

  return {
    name: `redis:${prefix}`,
    usage,
    definitions: () => view,
    subscribe(listener, onError) {
      listeners.add(listener);
      if (onError !== undefined) errorListeners.add(onError);
      return () => {
        listeners.delete(listener);
        if (onError !== undefined) errorListeners.delete(onError);
      };
    },
    async start() {
      try {
        owned = options.subscriber === undefined;
        subscriber = options.subscriber ?? client.duplicate();
        if (owned) subscriber.on('error', () => undefined);
        // Subscribe first: a change published during the first load is not lost.
        unlisten = await listen(subscriber, keys.channel, () => {
          load().then(notify, (error: unknown) => {
            // The definitions already loaded stay in use.
            for (const listener of [...errorListeners]) listener(failed('reload', error));
          });
        });
        await load();
        await usage.trackingSince();
        return ok();
      } catch (error) {
        await unlisten?.().catch(() => undefined);
        if (owned) await subscriber?.quit().catch(() => undefined);
        unlisten = undefined;
        subscriber = undefined;
        return err(failed('start', error));
      }
    },
    async stop() {
      await unlisten?.();
      unlisten = undefined;
      if (owned) await subscriber?.quit().catch(() => undefined);
      subscriber = undefined;
    },
    async set(key, definition) {
      const bad = validKey(key);
      if (bad !== undefined) return err(bad);
      const parsed = flagDefinitionSchema.safeParse(definition);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        return err(
          ConfigErrors.CONFIG_FLAG_INVALID({
            message: `flag ${key}: ${issue?.path.join('.') || 'definition'}: ${issue?.message ?? 'invalid'}`,
            details: { key },
          }),
        );
      }
      const text = JSON.stringify(definition);
      if (text.length > MAX_DEFINITION_BYTES) {
        return err(
          ConfigErrors.CONFIG_FLAG_INVALID({
            message: `flag ${key}: the definition is over ${MAX_DEFINITION_BYTES} bytes`,
            details: { key },
          }),
        );
      }
      return write([['hset', keys.definitions, key, text]], key);
    },
    async remove(key) {
      const bad = validKey(key);
      if (bad !== undefined) return err(bad);
      return write([['hdel', keys.definitions, key]], key);
    },
    async kill(key) {
      const bad = validKey(key);
      if (bad !== undefined) return err(bad);
      return write([['sadd', keys.killed, key]], key);
    },
    async revive(key) {
      const bad = validKey(key);
      if (bad !== undefined) return err(bad);
      return write([['srem', keys.killed, key]], key);
    },
  };
}
