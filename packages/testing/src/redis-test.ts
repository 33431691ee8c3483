import { randomBytes } from 'node:crypto';
import { serviceUnavailable } from './service-unavailable.js';

/** Where an integration test may use Redis, isolated by a key prefix of its own. */
export interface RedisTestTarget {
  /** False when Redis did not answer (locally only: under CI=true that throws). */
  readonly available: boolean;
  readonly url: string;
  /** A random prefix (`test:<hex>:`); every key the test writes must start with it. */
  readonly keyPrefix: string;
  /** Deletes every key under `keyPrefix`. */
  cleanup(): Promise<void>;
}

/** Options for {@link redisTestUrl}. */
export interface RedisTestOptions {
  /** Default: `REDIS_TEST_URL`, else `redis://127.0.0.1:6379`. */
  readonly url?: string;
  /** How long to wait for PING. Default 1000 ms. */
  readonly timeoutMs?: number;
}

interface MinimalRedis {
  ping(): Promise<string>;
  scan(
    cursor: string,
    match: 'MATCH',
    pattern: string,
    count: 'COUNT',
    n: number,
  ): Promise<[string, string[]]>;
  del(...keys: string[]): Promise<number>;
  quit(): Promise<unknown>;
  disconnect(): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

async function connect(url: string, timeoutMs: number): Promise<MinimalRedis> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, {
    lazyConnect: false,
    enableOfflineQueue: true,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    retryStrategy: () => null,
  }) as unknown as MinimalRedis;
  // A dead server is reported by the PING below; without a listener ioredis would also print
  // "Unhandled error event" with a stack trace for every connection error.
  client.on('error', () => {});
  return client;
}

/**
 * Checks that Redis answers and hands out an isolated key prefix for one test file.
 *
 * @example
 * import { afterAll, describe, it } from 'vitest';
 * const redis = await redisTestUrl();
 * describe.skipIf(!redis.available)('cache on Redis (skipped: Redis not reachable)', () => {
 *   it('keeps entries under redis.keyPrefix', async () => {});
 * });
 * afterAll(() => redis.cleanup());
 */
export async function redisTestUrl(options: RedisTestOptions = {}): Promise<RedisTestTarget> {
  const url = options.url ?? process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';
  const timeoutMs = options.timeoutMs ?? 1000;
  const keyPrefix = `test:${randomBytes(6).toString('hex')}:`;
  let client: MinimalRedis | undefined;
  try {
    client = await connect(url, timeoutMs);
    await client.ping();
  } catch (error) {
    client?.disconnect();
    serviceUnavailable('Redis', url, error instanceof Error ? error.message : String(error));
    return { available: false, url, keyPrefix, cleanup: async () => {} };
  }
  const probe = client;
  return {
    available: true,
    url,
    keyPrefix,
    async cleanup() {
      let cursor = '0';
      do {
        const [next, keys] = await probe.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 500);
        cursor = next;
        if (keys.length > 0) await probe.del(...keys);
      } while (cursor !== '0');
      await probe.quit();
    },
  };
}
