import { postgresTestDatabase, redisTestUrl } from '@prod/testing';
import { describeNotesService, startForTest } from 'example-notes-app/e2e';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { start } from '../src/index.js';

const database = await postgresTestDatabase();
const redis = await redisTestUrl();
const available = database.available && redis.available;
const env = { DATABASE_URL: database.url, REDIS_URL: redis.url };

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
});
