import { redisTestUrl } from '@prod/testing';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';

const redis = await redisTestUrl();

describe.skipIf(!redis.available)('redisTestUrl (skipped: Redis not reachable)', () => {
  it('hands out distinct random prefixes and cleans only its own keys', async () => {
    const other = await redisTestUrl();
    expect(other.keyPrefix).not.toBe(redis.keyPrefix);
    expect(redis.keyPrefix).toMatch(/^test:[0-9a-f]{12}:$/);
    const client = new Redis(redis.url);
    try {
      await client.set(`${redis.keyPrefix}a`, '1');
      await client.set(`${redis.keyPrefix}b`, '2');
      await client.set(`${other.keyPrefix}a`, '3');
      await redis.cleanup();
      expect(await client.exists(`${redis.keyPrefix}a`, `${redis.keyPrefix}b`)).toBe(0);
      expect(await client.get(`${other.keyPrefix}a`)).toBe('3');
      await other.cleanup();
      expect(await client.exists(`${other.keyPrefix}a`)).toBe(0);
    } finally {
      client.disconnect();
    }
  });
});

describe('redisTestUrl against a port nothing listens on', () => {
  const savedCi = process.env.CI;
  afterEach(() => {
    if (savedCi === undefined) delete process.env.CI;
    else process.env.CI = savedCi;
  });

  it('throws under CI=true instead of skipping', async () => {
    process.env.CI = 'true';
    await expect(redisTestUrl({ url: 'redis://127.0.0.1:1', timeoutMs: 300 })).rejects.toThrow(
      /refusing to skip under CI=true/,
    );
  });

  it('reports unavailable locally, with one warning line (captured here)', async () => {
    process.env.CI = 'false';
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const target = await redisTestUrl({ url: 'redis://127.0.0.1:1', timeoutMs: 300 });
    expect(target.available).toBe(false);
    // One line per service and process: none when the real Redis was already found missing.
    if (redis.available) {
      expect(warn).toHaveBeenCalledOnce();
      expect(String(warn.mock.calls[0]?.[0])).toMatch(
        /Redis at redis:\/\/127\.0\.0\.1:1 is not reachable/,
      );
    }
  });
});
