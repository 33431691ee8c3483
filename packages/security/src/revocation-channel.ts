import { optionChecks } from '@prod/core';
import { SecurityErrors } from './errors.js';

/**
 * How instances tell each other that an API key was revoked, so that each drops its cached
 * lookup at once instead of within its cache TTL. A notice only evicts a cache entry: the next
 * request looks the key up in the store again, so a forged notice can cost a lookup, never let
 * a key in or shut one out.
 */
export interface RevocationChannel {
  /** Tells every subscribed instance (this one included) that `keyId` was revoked. */
  publish(keyId: string): Promise<void>;
  /** Calls `onRevoked` for every notice; returns how to stop. */
  subscribe(onRevoked: (keyId: string) => void): () => void;
}

/** The slice of an ioredis client that publishes (any client with `publish` fits). */
export interface RedisPublisher {
  publish(channel: string, message: string): Promise<unknown>;
}

/** The slice of an ioredis client in subscriber mode (a `duplicate()` of the main one). */
export interface RedisSubscriber {
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  off(event: 'message', listener: (channel: string, message: string) => void): unknown;
}

/** Options of {@link redisRevocationChannel}. */
export interface RedisRevocationChannelOptions {
  /** A client that publishes (your usual ioredis client). */
  readonly publisher: RedisPublisher;
  /** A client dedicated to pub/sub (`publisher.duplicate()`): a subscribed client does nothing else. */
  readonly subscriber: RedisSubscriber;
  /** Default `prod:security:api-key-revoked`. Prefix it per service when instances share Redis. */
  readonly channel?: string;
  /** Told when subscribing fails (the cache TTL still bounds revocation then). */
  readonly onError?: (error: unknown) => void;
}

const check = optionChecks(SecurityErrors.SECURITY_INVALID_OPTIONS);
const KEY_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Revocation notices over Redis pub/sub (ioredis 5 or 6, typed structurally). Pub/sub delivers
 * to the instances connected at that moment: one that is disconnected misses the notice and
 * drops its entry when the cache TTL passes, which is the bound the cache guarantees anyway.
 *
 * @example
 * declare const redis: RedisPublisher & { duplicate(): RedisSubscriber };
 * const apiKeys = createApiKeys({
 *   secret: 'a-long-random-server-secret-from-config',
 *   revocations: redisRevocationChannel({ publisher: redis, subscriber: redis.duplicate() }),
 * });
 */
export function redisRevocationChannel(options: RedisRevocationChannelOptions): RevocationChannel {
  const given = check.object<RedisRevocationChannelOptions>('options', options);
  if (typeof given.publisher?.publish !== 'function') {
    check.fail('publisher', 'a Redis client with publish()', given.publisher);
  }
  const subscriber = given.subscriber;
  if (typeof subscriber?.subscribe !== 'function' || typeof subscriber.on !== 'function') {
    check.fail('subscriber', 'a Redis client with subscribe() and on()', subscriber);
  }
  const channel = check.string('channel', given.channel, 'prod:security:api-key-revoked', {
    nonEmpty: true,
  });
  const onError = check.fn<(error: unknown) => void>('onError', given.onError);
  return {
    async publish(keyId) {
      await given.publisher.publish(channel, keyId);
    },
    subscribe(onRevoked) {
      const listener = (from: string, message: string): void => {
        if (from === channel && typeof message === 'string' && KEY_ID.test(message)) {
          onRevoked(message);
        }
      };
      subscriber.on('message', listener);
      subscriber.subscribe(channel).catch((error: unknown) => onError?.(error));
      return () => {
        subscriber.off('message', listener);
        subscriber.unsubscribe(channel).catch(() => {});
      };
    },
  };
}
