import { redisFlagStore } from '@prod/config';
import { postgresTestDatabase, redisTestUrl } from '@prod/testing';
import { describeNotesService, startForTest } from 'example-notes-app/e2e';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { start } from '../src/index.js';

const database = await postgresTestDatabase();
const redis = await redisTestUrl();
const available = database.available && redis.available;
// Every Redis key under the test's random prefix, which cleanup() deletes.
const env = { DATABASE_URL: database.url, REDIS_URL: redis.url, REDIS_KEY_PREFIX: redis.keyPrefix };

afterAll(async () => {
  await database.drop();
  await redis.cleanup();
});

describe.skipIf(!available)('on PostgreSQL and Redis (skipped: a server is not reachable)', () => {
  describeNotesService('express', start, env);

  it('keeps notes in PostgreSQL across restarts, in its own schema', async () => {
    const first = await startForTest(start, env);
    const created = await fetch(`${first.running.url}/v1/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'durable', body: 'survives a restart' }),
    });
    const note = (await created.json()) as { id: string };
    await first.running.shutdown.shutdown('restart');

    const client = new pg.Client({ connectionString: database.baseUrl });
    await client.connect();
    try {
      const rows = await client.query(
        `SELECT title, body FROM "${database.schema}".notes WHERE id = $1`,
        [note.id],
      );
      expect(rows.rows).toEqual([{ title: 'durable', body: 'survives a restart' }]);
    } finally {
      await client.end();
    }

    const second = await startForTest(start, env);
    try {
      const read = await fetch(`${second.running.url}/v1/notes/${note.id}`);
      expect(read.status).toBe(200);
      expect(await read.json()).toMatchObject({ id: note.id, title: 'durable' });
    } finally {
      await second.running.shutdown.shutdown('tests done');
    }
  }, 60_000);

  it('checks PostgreSQL and Redis for readiness', async () => {
    const service = await startForTest(start, env, {});
    try {
      const ready = await fetch(`${service.running.url}/health/ready`);
      expect(ready.status).toBe(200);
      const body = (await ready.json()) as { checks: Record<string, [{ status: string }]> };
      expect(body.checks['postgres:responseTime']?.[0].status).toBe('pass');
      expect(body.checks['redis:responseTime']?.[0].status).toBe('pass');
    } finally {
      await service.running.shutdown.shutdown('tests done');
    }
  }, 60_000);

  it('is not ready while Redis cannot be reached, and still serves notes', async () => {
    const service = await startForTest(start, { ...env, REDIS_URL: 'redis://127.0.0.1:1' });
    try {
      const ready = await fetch(`${service.running.url}/health/ready`);
      expect(ready.status).toBe(503);
      const body = (await ready.json()) as { checks: Record<string, [{ status: string }]> };
      expect(body.checks['redis:responseTime']?.[0].status).toBe('fail');
      expect((await fetch(`${service.running.url}/health/live`)).status).toBe(200);
      expect((await fetch(`${service.running.url}/v1/notes`)).status).toBe(200);
    } finally {
      await service.running.shutdown.shutdown('tests done');
    }
  }, 60_000);

  it('gates ?q= by the Redis flag store: set, killed and revived there, seen by the running service', async () => {
    // A prefix of its own, so the other services of this file never see this flag.
    const prefix = `${redis.keyPrefix}search-flag:`;
    const service = await startForTest(start, { ...env, REDIS_KEY_PREFIX: prefix });
    // What an operator (or an admin tool) holds: another connection, another process's store.
    const client = new Redis(redis.url);
    const store = redisFlagStore({ client, prefix: `${prefix}notes:flags:` });
    const url = service.running.url;
    const tag = `redis-flag-${Date.now().toString(36)}`;
    const titles = async (): Promise<string[]> => {
      const response = await fetch(`${url}/v1/notes?limit=100&q=${tag}`);
      expect(response.status).toBe(200);
      return ((await response.json()) as { items: { title: string }[] }).items.map((n) => n.title);
    };
    try {
      for (const title of [`${tag} one`, 'unrelated']) {
        const created = await fetch(`${url}/v1/notes`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ title }),
        });
        expect(created.status).toBe(201);
        await created.arrayBuffer();
      }
      // No definition in Redis: the code default, off; q is ignored.
      expect(await titles()).toContain('unrelated');

      expect((await store.set('notes.search', { defaultVariant: 'on' })).ok).toBe(true);
      await vi.waitFor(async () => expect(await titles()).toEqual([`${tag} one`]), {
        timeout: 5000,
      });
      expect(service.running.service.flags.evaluate('notes.search')).toMatchObject({
        value: true,
        reason: 'STATIC',
      });

      // The kill switch, for every instance at once.
      expect((await store.kill('notes.search')).ok).toBe(true);
      await vi.waitFor(async () => expect(await titles()).toContain('unrelated'), {
        timeout: 5000,
      });
      expect(service.running.service.flags.evaluate('notes.search').reason).toBe('DISABLED');

      expect((await store.revive('notes.search')).ok).toBe(true);
      await vi.waitFor(async () => expect(await titles()).toEqual([`${tag} one`]), {
        timeout: 5000,
      });
    } finally {
      await client.quit();
      const report = await service.running.shutdown.shutdown('tests done');
      expect(report.hooks.find((hook) => hook.name === 'flags')?.status).toBe('ok');
    }
  }, 60_000);

  it('refuses NOTES_FLAGS beside REDIS_URL at start, naming both', async () => {
    await expect(
      startForTest(start, { ...env, NOTES_FLAGS: '{"notes.search":{"defaultVariant":"on"}}' }),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
