import { type Cache, type CacheEvents, createCache, redisStore } from '@prod/cache';
import {
  type RedisServer,
  redisCommand,
  redisServerAvailable,
  startRedisServer,
} from '@prod/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A redis-server of this file's own on a spare port, killed and paused on purpose.
const available = await redisServerAvailable();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const L2_TIMEOUT = 100;
// What "answers within the L2 timeout" allows on a shared 2-core machine: the timeout plus
// scheduling slack, far below ioredis' own reconnect waits (seconds) or an endless hang.
const WITHIN = L2_TIMEOUT + 250;

/** Runs `work`, and says how long it took and whether it threw. */
async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

describe.skipIf(!available)('Redis goes away (skipped: no redis-server binary)', () => {
  let server: RedisServer;
  let client: Redis;
  let cache: Cache;
  const errors: CacheEvents['l2Error'][] = [];
  const circuit: string[] = [];
  const bus: boolean[] = [];

  beforeAll(async () => {
    server = await startRedisServer();
    client = new Redis(server.url, {
      enableOfflineQueue: false,
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      retryStrategy: () => 50,
    });
    client.on('error', () => {});
    await client.connect();
    cache = createCache({
      namespace: 'outage',
      jitter: 0,
      l1: { disconnectedTtl: 300 },
      l2: redisStore({ client, prefix: 'o:' }),
      l2Options: {
        timeout: L2_TIMEOUT,
        circuitBreaker: { consecutiveFailures: 3, halfOpenAfterMs: 300 },
      },
    });
    cache.on('l2Error', (event) => errors.push(event));
    cache.on('circuit', ({ to }) => circuit.push(to));
    cache.on('bus', ({ connected }) => bus.push(connected));
    for (let i = 0; i < 100 && !cache.stats().bus.connected; i += 1) await sleep(10);
  });
  afterAll(async () => {
    await cache?.close();
    client?.disconnect();
    await server?.stop();
  });

  it('keeps answering while the server is paused (a hang), each call within the L2 timeout', async () => {
    await cache.set('warm', 'in-l1');
    // The server stops answering for 1.5 s: commands sit unanswered on an open connection.
    await redisCommand(server, 'CLIENT', 'PAUSE', 1500, 'ALL');
    const calls: [string, () => Promise<unknown>][] = [
      ['get (L1 hit)', () => cache.get('warm')],
      ['get (L1 miss)', () => cache.get('cold')],
      ['getMany', () => cache.getMany(['warm', 'cold'])],
      ['getOrSet (miss)', () => cache.getOrSet('loaded', () => 'from-loader')],
      ['has', () => cache.has('cold2')],
    ];
    for (const [label, call] of calls) {
      const { ms } = await timed(call);
      expect(ms, label).toBeLessThan(WITHIN);
    }
    expect(await cache.get('warm')).toBe('in-l1');
    expect(await cache.getOrSet('loaded', () => 'again')).toEqual({
      ok: true,
      value: 'from-loader',
    });
    expect(errors.some((event) => event.error.code === 'CACHE_L2_UNAVAILABLE')).toBe(true);
    expect(errors[0]?.error.message).toMatch(/no answer in time/);
    await sleep(1_600); // the pause ends
    expect(await cache.set('after-pause', 1)).toEqual({ ok: true, value: undefined });
  });

  it('keeps answering once the server is killed, never throwing, and opens the circuit', async () => {
    await cache.set('warm2', 'kept');
    errors.length = 0;
    await server.kill();
    const writes = await timed(() => cache.set('during', 'local-only'));
    expect(writes.ms).toBeLessThan(WITHIN);
    expect(writes.value).toMatchObject({
      ok: false,
      error: { code: 'CACHE_L2_UNAVAILABLE', status: 503 },
    });
    // Written in L1 all the same: this process serves it.
    expect(await cache.get('during')).toBe('local-only');
    const deleted = await cache.delete('warm2');
    expect(deleted).toMatchObject({ ok: false, error: { code: 'CACHE_L2_UNAVAILABLE' } });
    expect(await cache.get('warm2')).toBeUndefined();
    for (let i = 0; i < 10; i += 1) {
      const { ms, value } = await timed(() => cache.getOrSet(`down-${i}`, () => `loaded-${i}`));
      expect(ms).toBeLessThan(WITHIN);
      expect(value).toEqual({ ok: true, value: `loaded-${i}` });
    }
    expect(await cache.invalidateTags(['x'])).toMatchObject({
      ok: false,
      error: { code: 'CACHE_L2_UNAVAILABLE' },
    });
    expect(await cache.clear()).toMatchObject({
      ok: false,
      error: { code: 'CACHE_L2_UNAVAILABLE' },
    });
    expect(circuit).toContain('open');
    const stats = cache.stats();
    expect(stats.l2.skipped).toBeGreaterThan(0);
    expect(stats.l2.errors).toBeGreaterThan(0);
    expect(errors.every((event) => event.error.code === 'CACHE_L2_UNAVAILABLE')).toBe(true);
  });

  it('caps L1 lifetimes while the bus is down, then recovers when Redis is back', async () => {
    for (let i = 0; i < 100 && cache.stats().bus.connected; i += 1) await sleep(10);
    expect(bus).toContain(false);
    await cache.set('capped', 'short-lived', { ttl: 60_000 });
    expect(await cache.get('capped')).toBe('short-lived');
    // Past l1.disconnectedTtl (300 ms): an invalidation could have been missed, so it is gone.
    await sleep(400);
    expect(await cache.get('capped')).toBeUndefined();

    await server.restart();
    for (let i = 0; i < 300 && !cache.stats().bus.connected; i += 1) await sleep(10);
    expect(cache.stats().bus.connected).toBe(true);
    await sleep(350); // past the breaker's half-open wait
    let back = await cache.set('back', 'shared');
    for (let i = 0; i < 20 && !back.ok; i += 1) {
      await sleep(100);
      back = await cache.set('back', 'shared');
    }
    expect(back).toEqual({ ok: true, value: undefined });
    expect(circuit.at(-1)).toBe('closed');
    const other = new Redis(server.url, { lazyConnect: true });
    await other.connect();
    expect(await other.get('o:{outage:back}')).toMatch(/shared/);
    other.disconnect();
  });
});
