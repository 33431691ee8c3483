import { optionChecks } from '@prod/core';
import { CacheErrors } from './errors.js';
import {
  COMMIT,
  FILE_TAG,
  GET_OR_LOCK,
  LOCK,
  type LuaScript,
  RENEW,
  UNLOCK,
} from './internal/lua.js';
import type { BusListener, CacheStore, LockAttempt, StoredValue, StoreWrite } from './store.js';

/**
 * The part of an ioredis client (`Redis`, a Sentinel-backed `Redis`, or `Cluster`) that the
 * store needs, typed loosely so that any ioredis 5 or 6 client fits without this package
 * importing ioredis.
 */
export interface RedisClientLike {
  readonly status: string;
  readonly options: object;
  duplicate(...args: never[]): unknown;
  pipeline(...args: never[]): unknown;
  get(...args: never[]): Promise<unknown>;
  mget(...args: never[]): Promise<unknown>;
  evalsha(...args: never[]): Promise<unknown>;
  on(...args: never[]): unknown;
}

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /**
   * An ioredis client (`new Redis(url)`, a Sentinel client, or `new Cluster(nodes)`). Used as
   * it is when created with `enableOfflineQueue: false` (recommended); otherwise the store
   * opens a duplicate of it with the offline queue off, so that no command waits in a queue
   * while Redis is away. The bus always has a connection of its own (a duplicate). The store
   * closes only the connections it opened.
   */
  readonly client: RedisClientLike;
  /** Prepended to every key and to the bus channel. Default `'cache:'`. */
  readonly prefix?: string;
  /** The pub/sub channel of the invalidation bus. Default `<prefix>#bus`. */
  readonly channel?: string;
  /** Keys per `SCAN` step and per `UNLINK` batch of `clear` and `deleteTags`. Default 500. */
  readonly batchSize?: number;
}

type Reply = [Error | null, unknown][] | null;

interface Pipeline {
  set(...args: unknown[]): Pipeline;
  unlink(...args: unknown[]): Pipeline;
  srem(...args: unknown[]): Pipeline;
  eval(...args: unknown[]): Pipeline;
  publish(channel: string, message: string): Pipeline;
  exec(): Promise<Reply>;
}

/** What the store calls on a client: the ioredis commands it uses, typed for this file. */
interface Client {
  readonly status: string;
  readonly isCluster?: boolean;
  readonly options: { readonly enableOfflineQueue?: boolean };
  get(key: string): Promise<string | null>;
  getBuffer(key: string): Promise<Buffer | null>;
  mget(...keys: string[]): Promise<(string | null)[]>;
  mgetBuffer(...keys: string[]): Promise<(Buffer | null)[]>;
  set(...args: unknown[]): Promise<unknown>;
  unlink(...keys: string[]): Promise<number>;
  smembers(key: string): Promise<string[]>;
  srem(key: string, ...members: string[]): Promise<number>;
  publish(channel: string, message: string): Promise<number>;
  scan(cursor: string, ...args: unknown[]): Promise<[string, string[]]>;
  evalsha(sha: string, keys: number, ...args: unknown[]): Promise<unknown>;
  eval(source: string, keys: number, ...args: unknown[]): Promise<unknown>;
  evalshaBuffer(sha: string, keys: number, ...args: unknown[]): Promise<unknown>;
  evalBuffer(source: string, keys: number, ...args: unknown[]): Promise<unknown>;
  pipeline(): Pipeline;
  subscribe(channel: string): Promise<unknown>;
  duplicate(...args: unknown[]): Client;
  nodes?(role: 'master'): Client[];
  on(event: string, listener: (...args: never[]) => void): unknown;
  disconnect(): void;
}

const check = optionChecks(CacheErrors.CACHE_INVALID_OPTIONS);
const FENCE_LIFE = 10;
const NEEDED = [
  'duplicate',
  'pipeline',
  'get',
  'getBuffer',
  'mget',
  'mgetBuffer',
  'evalsha',
  'eval',
  'on',
];

/**
 * The shared tier on Redis through ioredis: a single server, Sentinel, or a Cluster.
 *
 * Details:
 * - One round trip per call: `getMany` is one `MGET` and `set` of many entries one pipeline
 *   on a single server; on a Cluster, where multi-key commands need one slot, they are sent
 *   together to every node at once. The keys of one entry (value, lock, fencing counter) share
 *   a hash tag, `prefix{key}`, so each lock script runs on one slot.
 * - Tags are Redis sets (`prefix#t:{tag}`) that live as long as their longest-lived member;
 *   `deleteTags` deletes their members (a hard delete) and removes them from the set.
 * - `clear(prefix)` walks the keys with `SCAN` (every master of a Cluster) and `UNLINK`s them.
 * - The bus is pub/sub on `channel`, on a connection of its own that ioredis resubscribes
 *   after a reconnect; messages are published after the write, in the same pipeline or
 *   script.
 *
 * @returns a {@link CacheStore}. Throws `CACHE_INVALID_OPTIONS` when `client` is not an ioredis
 * client or an option is bad.
 * @example
 * declare const client: RedisClientLike; // new Redis(process.env.REDIS_URL, { enableOfflineQueue: false })
 * const cache = createCache({ namespace: 'notes', l2: redisStore({ client, prefix: 'notes-api:' }) });
 */
export function redisStore(options: RedisStoreOptions): CacheStore {
  const given = check.object<RedisStoreOptions>('options', options);
  const raw = given.client as unknown as Client | undefined;
  if (
    typeof raw !== 'object' ||
    raw === null ||
    !NEEDED.every((name) => typeof (raw as unknown as Record<string, unknown>)[name] === 'function')
  ) {
    check.fail('client', 'an ioredis client (Redis or Cluster)', raw);
  }
  const source = raw as Client;
  const prefix = check.string('prefix', given.prefix, 'cache:');
  const channel = check.string('channel', given.channel, `${prefix}#bus`, { nonEmpty: true });
  const batch = check.integer('batchSize', given.batchSize, 500, { min: 1, max: 100_000 });
  const cluster = source.isCluster === true;
  const owned: Client[] = [];
  const quiet = (client: Client): Client => {
    // Our own connections report through the cache (l2 errors, bus state), not as
    // ioredis' "Unhandled error event" lines.
    client.on('error', () => {});
    owned.push(client);
    return client;
  };
  const client =
    source.options?.enableOfflineQueue === false
      ? source
      : quiet(
          cluster
            ? source.duplicate([], { enableOfflineQueue: false, lazyConnect: false })
            : source.duplicate({ enableOfflineQueue: false, lazyConnect: false }),
        );

  const valueKey = (key: string): string => `${prefix}{${key}}`;
  const lockKey = (key: string): string => `${prefix}{${key}}:l`;
  const fenceKey = (key: string): string => `${prefix}{${key}}:f`;
  const tagKey = (tag: string): string => `${prefix}#t:{${tag}}`;

  const run = async (lua: LuaScript, binary: boolean, args: unknown[]): Promise<unknown> => {
    try {
      return await (binary
        ? client.evalshaBuffer(lua.sha, lua.keys, ...args)
        : client.evalsha(lua.sha, lua.keys, ...args));
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return binary
        ? client.evalBuffer(lua.source, lua.keys, ...args)
        : client.eval(lua.source, lua.keys, ...args);
    }
  };
  const ttlArgs = (ttlMs: number): string[] =>
    Number.isFinite(ttlMs) ? ['PX', String(Math.max(1, Math.ceil(ttlMs)))] : [];
  const ttlArg = (ttlMs: number): string =>
    Number.isFinite(ttlMs) ? String(Math.max(1, Math.ceil(ttlMs))) : '0';
  const fileArgs = (tag: string, one: StoreWrite): unknown[] => [
    FILE_TAG.source,
    1,
    tagKey(tag),
    valueKey(one.key),
    ttlArg(one.ttlMs),
  ];
  const exec = async (pipeline: Pipeline): Promise<void> => {
    const replies = await pipeline.exec();
    for (const [error] of replies ?? []) if (error) throw error;
  };
  const publish = async (message: string | undefined): Promise<void> => {
    if (message !== undefined) await client.publish(channel, message);
  };
  const unlinkAll = async (keys: readonly string[], on: Client = client): Promise<void> => {
    for (let at = 0; at < keys.length; at += batch) {
      const slice = keys.slice(at, at + batch);
      if (!cluster) await on.unlink(...slice);
      else {
        // One slot per command on a Cluster: single-key UNLINKs, all in flight at once.
        await Promise.all(slice.map((key) => on.unlink(key)));
      }
    }
  };
  const toStored = (value: unknown): StoredValue | undefined =>
    value === null || value === undefined ? undefined : (value as StoredValue);

  const listeners = new Set<BusListener>();
  let subscriber: Client | undefined;
  let connected = false;
  const setConnected = (next: boolean): void => {
    if (connected === next) return;
    connected = next;
    for (const listener of listeners) listener.state(next);
  };
  const openSubscriber = (): void => {
    // The offline queue on: SUBSCRIBE is sent as soon as the connection is up.
    const settings = { enableOfflineQueue: true, lazyConnect: false };
    const sub = quiet(cluster ? source.duplicate([], settings) : source.duplicate(settings));
    subscriber = sub;
    sub.on('message', (from: string, message: string) => {
      if (from !== channel) return;
      for (const listener of listeners) listener.message(message);
    });
    sub.on('ready', () => {
      // ioredis resubscribes on reconnect; the subscription itself confirms the bus is back.
      if (subscriber === sub)
        sub.subscribe(channel).then(
          () => setConnected(true),
          () => {},
        );
    });
    for (const event of ['close', 'end', 'reconnecting'] as const) {
      sub.on(event, () => {
        if (subscriber === sub) setConnected(false);
      });
    }
    sub.subscribe(channel).then(
      () => setConnected(true),
      () => {},
    );
  };
  const closeSubscriber = (): void => {
    const sub = subscriber;
    subscriber = undefined;
    connected = false;
    sub?.disconnect();
  };

  return {
    kind: cluster ? 'redis-cluster' : 'redis',
    async get(key, read) {
      return toStored(
        read?.binary === true
          ? await client.getBuffer(valueKey(key))
          : await client.get(valueKey(key)),
      );
    },
    async getMany(keys, read) {
      if (keys.length === 0) return [];
      const binary = read?.binary === true;
      if (!cluster) {
        const names = keys.map(valueKey);
        const values = binary ? await client.mgetBuffer(...names) : await client.mget(...names);
        return values.map(toStored);
      }
      const values = await Promise.all(
        keys.map((key) => (binary ? client.getBuffer(valueKey(key)) : client.get(valueKey(key)))),
      );
      return values.map(toStored);
    },
    async set(writes, message) {
      if (writes.length === 0) return publish(message);
      if (!cluster) {
        const pipeline = client.pipeline();
        for (const one of writes) {
          pipeline.set(valueKey(one.key), one.value, ...ttlArgs(one.ttlMs));
          for (const tag of one.tags ?? []) pipeline.eval(...fileArgs(tag, one));
        }
        if (message !== undefined) pipeline.publish(channel, message);
        return exec(pipeline);
      }
      await Promise.all(
        writes.flatMap((one) => [
          client.set(valueKey(one.key), one.value, ...ttlArgs(one.ttlMs)),
          ...(one.tags ?? []).map((tag) => {
            const [lua, keys, ...args] = fileArgs(tag, one) as [string, number, ...unknown[]];
            return client.eval(lua, keys, ...args);
          }),
        ]),
      );
      // After every write has landed: a cache told to drop its copy must read the new value.
      return publish(message);
    },
    async delete(keys, message) {
      if (!cluster && keys.length > 0 && keys.length <= batch && message !== undefined) {
        const pipeline = client.pipeline().unlink(...keys.map(valueKey));
        return exec(pipeline.publish(channel, message));
      }
      await unlinkAll(keys.map(valueKey));
      return publish(message);
    },
    async deleteTags(tags, message) {
      for (const tag of tags) {
        const set = tagKey(tag);
        const members = await client.smembers(set);
        if (members.length === 0) continue;
        await unlinkAll(members);
        // SREM, not DEL: a key filed under the tag meanwhile keeps its filing.
        for (let at = 0; at < members.length; at += batch) {
          await client.srem(set, ...members.slice(at, at + batch));
        }
      }
      return publish(message);
    },
    async clear(keyPrefix, message) {
      const pattern =
        keyPrefix === '' ? `${escapeGlob(prefix)}*` : `${escapeGlob(`${prefix}{${keyPrefix}`)}*`;
      const nodes = cluster && client.nodes !== undefined ? client.nodes('master') : [client];
      await Promise.all(
        nodes.map(async (node) => {
          let cursor = '0';
          do {
            const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', batch);
            cursor = next;
            if (keys.length > 0) {
              if (cluster) {
                // Keys found on one node may sit in different slots: one UNLINK each,
                // pipelined on that node's own connection.
                const pipeline = node.pipeline();
                for (const key of keys) pipeline.unlink(key);
                await exec(pipeline);
              } else await node.unlink(...keys);
            }
          } while (cursor !== '0');
        }),
      );
      return publish(message);
    },
    async getOrLock(key, leaseMs, read): Promise<LockAttempt> {
      const reply = (await run(GET_OR_LOCK, read?.binary === true, [
        valueKey(key),
        lockKey(key),
        fenceKey(key),
        String(Math.max(0, Math.ceil(leaseMs))),
        String(Math.ceil(leaseMs * FENCE_LIFE) || 1),
      ])) as [number, unknown] | [number];
      if (reply[0] === 1) return { value: reply[1] as StoredValue };
      if (reply[0] === 2) return { token: Number(reply[1]) };
      return {};
    },
    async lock(key, leaseMs) {
      const token = Number(
        await run(LOCK, false, [
          lockKey(key),
          fenceKey(key),
          String(Math.max(1, Math.ceil(leaseMs))),
          String(Math.ceil(leaseMs * FENCE_LIFE)),
        ]),
      );
      return token > 0 ? token : undefined;
    },
    async renewLock(key, token, leaseMs) {
      const done = await run(RENEW, false, [
        lockKey(key),
        String(token),
        String(Math.max(1, Math.ceil(leaseMs))),
      ]);
      return Number(done) === 1;
    },
    async commit(key, token, one, message) {
      // Tags first: an entry must never be readable without being filed under its tags.
      if ((one.tags?.length ?? 0) > 0) {
        if (!cluster) {
          const pipeline = client.pipeline();
          for (const tag of one.tags ?? []) pipeline.eval(...fileArgs(tag, one));
          await exec(pipeline);
        } else {
          await Promise.all(
            (one.tags ?? []).map((tag) => {
              const [lua, keys, ...args] = fileArgs(tag, one) as [string, number, ...unknown[]];
              return client.eval(lua, keys, ...args);
            }),
          );
        }
      }
      const done = await run(COMMIT, false, [
        valueKey(key),
        lockKey(key),
        fenceKey(key),
        String(token),
        one.value,
        ttlArg(one.ttlMs),
        channel,
        message ?? '',
      ]);
      return Number(done) === 1;
    },
    async unlock(key, token) {
      await run(UNLOCK, false, [lockKey(key), String(token)]);
    },
    subscribe(listener) {
      listeners.add(listener);
      if (subscriber === undefined) openSubscriber();
      else if (connected) queueMicrotask(() => listener.state(true));
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) closeSubscriber();
      };
    },
    async close() {
      listeners.clear();
      closeSubscriber();
      for (const one of owned.splice(0)) one.disconnect();
    },
  };
}

const escapeGlob = (text: string): string => text.replace(/[*?[\]\\]/g, '\\$&');
