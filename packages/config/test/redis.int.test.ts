import {
  createFlags,
  defineConfig,
  flag,
  type RedisFlagStore,
  redisFlagStore,
  redisSource,
  reloadable,
} from '@prod/config';
import type { ProdError } from '@prod/core';
import { redisTestUrl } from '@prod/testing';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { until } from './helpers.js';

const redis = await redisTestUrl();
afterAll(() => redis.cleanup());

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** One instance's own Redis connection, as a separate service process would have. */
function connection(): Redis {
  const client = new Redis(redis.url, { lazyConnect: false, maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  cleanups.push(() => client.quit().catch(() => client.disconnect()));
  return client;
}

const declarations = {
  'notes.search': flag.boolean(false),
  'notes.pageSize': flag.number(50),
};

async function instance(prefix: string, errors: ProdError[] = []) {
  const store = redisFlagStore({ client: connection(), prefix });
  const flags = createFlags(declarations, {
    source: store,
    flushIntervalMs: 0,
    onError: (e) => errors.push(e),
  });
  cleanups.push(() => flags.close());
  expect((await flags.ready).ok).toBe(true);
  return { store, flags, errors };
}

describe.skipIf(!redis.available)(
  'flags shared through Redis (skipped: Redis not reachable)',
  () => {
    it('two instances with their own connections see a definition set by either, pushed by pub/sub', async () => {
      const prefix = `${redis.keyPrefix}flags:`;
      const a = await instance(prefix);
      const b = await instance(prefix);
      expect(b.flags.isEnabled('notes.search', { targetingKey: 'u1' })).toBe(false);

      expect(
        (
          await a.store.set('notes.search', {
            rules: [{ when: [{ attribute: 'plan', op: 'eq', value: 'pro' }], variant: 'on' }],
          })
        ).ok,
      ).toBe(true);
      await until(() => b.flags.isEnabled('notes.search', { plan: 'pro' }));
      await until(() => a.flags.isEnabled('notes.search', { plan: 'pro' }));
      expect(b.flags.isEnabled('notes.search', { plan: 'free' })).toBe(false);

      const changed: string[][] = [];
      a.flags.onChange((keys) => changed.push([...keys]));
      await b.store.set('notes.pageSize', { variants: { big: 200 }, defaultVariant: 'big' });
      await until(() => a.flags.value('notes.pageSize') === 200);
      expect(changed).toEqual([['notes.pageSize']]);
    });

    it('the kill switch turns a flag off on every instance at once, and revives it', async () => {
      const prefix = `${redis.keyPrefix}kill:`;
      const a = await instance(prefix);
      const b = await instance(prefix);
      await a.store.set('notes.search', { defaultVariant: 'on' });
      await until(() => b.flags.isEnabled('notes.search'));
      await b.store.kill('notes.search');
      await until(() => a.flags.evaluate('notes.search').reason === 'DISABLED');
      await until(() => b.flags.evaluate('notes.search').reason === 'DISABLED');
      expect(a.flags.isEnabled('notes.search')).toBe(false);
      await a.store.revive('notes.search');
      await until(() => b.flags.isEnabled('notes.search'));
    });

    it('an instance started later loads what is there; a bad definition written by another tool is refused everywhere', async () => {
      const prefix = `${redis.keyPrefix}late:`;
      const a = await instance(prefix);
      await a.store.set('notes.search', { defaultVariant: 'on' });
      const errorsB: ProdError[] = [];
      const b = await instance(prefix, errorsB);
      expect(b.flags.isEnabled('notes.search')).toBe(true);
      expect(
        (await a.store.set('notes.search', { rules: [{ rollout: 101, variant: 'on' }] })).ok,
      ).toBe(false);
      // Written around the store, as a script or another service might.
      const raw = connection();
      await raw.hset(
        `${prefix}definitions`,
        'notes.search',
        '{"variants":{"on":"yes"},"defaultVariant":"on"}',
      );
      await raw.hset(`${prefix}definitions`, 'notes.pageSize', '{ not json');
      await raw.publish(`${prefix}changed`, 'manual');
      await until(() => errorsB.length >= 2);
      expect(errorsB.map((e) => e.code)).toEqual(['CONFIG_FLAG_INVALID', 'CONFIG_FLAG_INVALID']);
      expect(b.flags.evaluate('notes.search')).toMatchObject({ value: true, reason: 'STATIC' });
      expect(b.flags.evaluate('notes.pageSize')).toMatchObject({
        value: 50,
        reason: 'ERROR',
        errorCode: 'PARSE_ERROR',
      });
    });

    it('stale reports see reads from every instance', async () => {
      const prefix = `${redis.keyPrefix}stale:`;
      let now = Date.now();
      const store = (): RedisFlagStore => redisFlagStore({ client: connection(), prefix });
      const a = createFlags(declarations, { source: store(), now: () => now, flushIntervalMs: 0 });
      const b = createFlags(declarations, { source: store(), now: () => now, flushIntervalMs: 0 });
      cleanups.push(
        () => a.close(),
        () => b.close(),
      );
      await Promise.all([a.ready, b.ready]);
      a.isEnabled('notes.search');
      b.value('notes.pageSize');
      await Promise.all([a.flush(), b.flush()]);
      expect(await a.stale({ days: 1 })).toEqual([]);
      now += 2 * 86_400_000;
      expect((await b.stale({ days: 1 })).map((s) => s.key).sort()).toEqual([
        'notes.pageSize',
        'notes.search',
      ]);
    });

    it('serves defaults (PROVIDER_NOT_READY) while Redis cannot be reached, and says so', async () => {
      const dead = new Redis('redis://127.0.0.1:1', {
        lazyConnect: true,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      dead.on('error', () => undefined);
      cleanups.push(() => dead.disconnect());
      const errors: ProdError[] = [];
      const flags = createFlags(declarations, {
        source: redisFlagStore({ client: dead, prefix: 'x:' }),
        onError: (e) => errors.push(e),
        flushIntervalMs: 0,
        retryStartMs: 60_000,
      });
      cleanups.push(() => flags.close());
      const ready = await flags.ready;
      expect(ready.ok).toBe(false);
      expect(errors[0]?.code).toBe('CONFIG_FLAG_STORE_FAILED');
      expect(flags.evaluate('notes.search')).toMatchObject({
        value: false,
        reason: 'ERROR',
        errorCode: 'PROVIDER_NOT_READY',
      });
    });
  },
);

describe.skipIf(!redis.available)(
  'configuration reloaded through Redis pub/sub (skipped: Redis not reachable)',
  () => {
    const schema = z.object({
      port: z.number().default(3000),
      log: z.object({ level: reloadable(z.enum(['debug', 'info', 'warn']).default('info')) }),
      limits: reloadable(z.object({ rps: z.number().int().min(1).default(100) })),
    });

    async function service(key: string) {
      const errors: ProdError[] = [];
      const config = defineConfig(schema, { env: {}, onError: (e) => errors.push(e) });
      const source = redisSource({ client: connection(), key });
      cleanups.push(() => config.close());
      expect((await config.watch(source)).ok).toBe(true);
      return { config, source, errors };
    }

    it('two instances see a published change; an invalid one is rejected by both, old values kept', async () => {
      const key = `${redis.keyPrefix}config`;
      const a = await service(key);
      const b = await service(key);
      expect((await a.source.publish({ log: { level: 'debug' }, limits: { rps: 5 } })).ok).toBe(
        true,
      );
      await until(
        () => a.config.value.log.level === 'debug' && b.config.value.log.level === 'debug',
      );
      expect(b.config.value.limits.rps).toBe(5);
      expect(b.config.sourceOf('log.level')).toBe(`redis:${key}`);

      await b.source.publish({ log: { level: 'verbose' }, limits: { rps: 0 } });
      await until(() => a.errors.length === 1 && b.errors.length === 1);
      for (const { config, errors } of [a, b]) {
        expect(errors[0]?.code).toBe('CONFIG_INVALID');
        expect(config.value.log.level).toBe('debug');
        expect(config.value.limits.rps).toBe(5);
      }

      await a.source.publish({ port: 9000 });
      await until(() => a.errors.length === 2 && b.errors.length === 2);
      expect(b.errors[1]?.code).toBe('CONFIG_RESTART_REQUIRED');
      expect(b.config.value.port).toBe(3000);
    });

    it('a new instance starts from the stored values; malformed JSON is reported, not applied', async () => {
      const key = `${redis.keyPrefix}config2`;
      const a = await service(key);
      await a.source.publish({ log: { level: 'warn' } });
      await until(() => a.config.value.log.level === 'warn');
      const b = await service(key);
      expect(b.config.value.log.level).toBe('warn');
      const raw = connection();
      await raw.set(key, '{"log": {"level": "debug"');
      await raw.publish(`${key}:changed`, 'x');
      await until(() => b.errors.length === 1);
      expect(b.errors[0]?.code).toBe('CONFIG_SOURCE_FAILED');
      expect(b.config.value.log.level).toBe('warn');
      await raw.set(
        key,
        JSON.stringify({ log: { level: 'info' }, __proto__: 1 }).replace(
          '"log"',
          '"__proto__":{"x":1},"log"',
        ),
      );
      await raw.publish(`${key}:changed`, 'x');
      await until(() => b.errors.length === 2);
      expect(b.config.value.log.level).toBe('warn');
      expect(({} as Record<string, unknown>).x).toBeUndefined();
    });
  },
);
