import { err, ok, optionChecks, type ProdError, type Result } from '@prod/core';
import { ConfigErrors } from '../errors.js';
import { parseConfigText } from '../internal/read-file.js';
import { listen, type RedisCommandClient, type RedisSubscriberClient } from '../internal/redis.js';
import type { RuntimeSource } from '../types.js';

/** Options of {@link redisSource}. */
export interface RedisSourceOptions {
  /** An ioredis client for commands. */
  readonly client: RedisCommandClient;
  /** A connection for pub/sub. Default `client.duplicate()`, closed by `stop()`. */
  readonly subscriber?: RedisSubscriberClient;
  /** The key holding the values as a JSON object. */
  readonly key: string;
  /** The channel announcing changes. Default `<key>:changed`. */
  readonly channel?: string;
  /** Largest value accepted, in bytes. Default 1 MiB. */
  readonly maxBytes?: number;
}

/** A {@link RuntimeSource} on Redis, which can also publish new values to every instance. */
export interface RedisSource extends RuntimeSource {
  /**
   * Stores `values` (a JSON object) under the key and announces it on the channel, in one
   * MULTI: every instance watching the key re-reads and validates it.
   *
   * @returns `Ok`, or `Err` `CONFIG_SOURCE_FAILED` when Redis refused or did not answer.
   */
  publish(values: Readonly<Record<string, unknown>>): Promise<Result<void, ProdError>>;
}

const check = optionChecks(ConfigErrors.CONFIG_INVALID_OPTIONS);

/**
 * A runtime source on Redis shared by every instance: the values live in one key as JSON,
 * and a message on the channel makes each instance read them again. Each instance validates
 * on its own: an invalid value is rejected by all, which keep their configuration.
 *
 * @example
 * declare const redis: Parameters<typeof redisSource>[0]['client'];
 * declare const config: { watch(source: RedisSource): Promise<unknown> };
 * const shared = redisSource({ client: redis, key: 'notes:config' });
 * await config.watch(shared);
 * await shared.publish({ log: { level: 'debug' } });
 */
export function redisSource(options: RedisSourceOptions): RedisSource {
  check.object('options', options);
  const client = options.client;
  if (typeof client?.get !== 'function' || typeof client.multi !== 'function') {
    check.fail('client', 'an ioredis client', client);
  }
  const key = check.string('key', options.key, '', { nonEmpty: true });
  const channel = check.string('channel', options.channel, `${key}:changed`, { nonEmpty: true });
  const maxBytes = check.integer('maxBytes', options.maxBytes, 1024 * 1024, { min: 1 });
  if (options.subscriber !== undefined && typeof options.subscriber.subscribe !== 'function') {
    check.fail('subscriber', 'an ioredis connection for pub/sub', options.subscriber);
  }
  const name = `redis:${key}`;
  let subscriber: RedisSubscriberClient | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  let owned = false;
  let generation = 0;

  const read = async (): Promise<unknown> => {
    const text = await client.get(key);
    if (text === null) return {};
    if (Buffer.byteLength(text) > maxBytes) {
      throw ConfigErrors.CONFIG_SOURCE_FAILED({
        message: `${name}: the value is over the limit of ${maxBytes} bytes`,
      });
    }
    const parsed = parseConfigText(text, 'json');
    if (!parsed.ok)
      throw ConfigErrors.CONFIG_SOURCE_FAILED({ message: `${name}: ${parsed.reason}` });
    return parsed.value;
  };

  return {
    name,
    async start(sink) {
      owned = options.subscriber === undefined;
      subscriber = options.subscriber ?? client.duplicate();
      if (owned) subscriber.on('error', () => undefined);
      // Subscribe before the first read, so a change published in between is not missed.
      unlisten = await listen(subscriber, channel, () => {
        const mine = ++generation;
        read().then(
          (values) => {
            // A slower, older read must not undo a newer one.
            if (mine === generation) sink.update(values);
          },
          (error: unknown) => sink.fail(error),
        );
      });
      sink.update(await read());
    },
    async stop() {
      await unlisten?.();
      unlisten = undefined;
      if (owned) await subscriber?.quit().catch(() => undefined);
      subscriber = undefined;
    },
    async publish(values) {
      let text: string;
      try {
        text = JSON.stringify(values);
      } catch (error) {
        return err(
          ConfigErrors.CONFIG_SOURCE_FAILED({
            message: `${name}: values are not JSON`,
            cause: error,
          }),
        );
      }
      if (typeof values !== 'object' || values === null || Array.isArray(values)) {
        return err(
          ConfigErrors.CONFIG_SOURCE_FAILED({ message: `${name}: values must be an object` }),
        );
      }
      try {
        await client
          .multi([
            ['set', key, text],
            ['publish', channel, String(Date.now())],
          ])
          .exec();
        return ok();
      } catch (error) {
        return err(
          ConfigErrors.CONFIG_SOURCE_FAILED({
            message: `${name}: publish failed: ${error instanceof Error ? error.message : String(error)}`,
            cause: error,
          }),
        );
      }
    },
  };
}
