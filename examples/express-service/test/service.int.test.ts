import { verifyRecords } from '@prod/audit';
import { redisFlagStore } from '@prod/config';
import { keyringFromJson } from '@prod/crypto';
import { postgresTestDatabase, redisTestUrl } from '@prod/testing';
import { noteBodyAad } from 'example-notes-app';
import { describeNotesService, startForTest } from 'example-notes-app/e2e';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { start } from '../src/index.js';

const database = await postgresTestDatabase();
const redis = await redisTestUrl();
const available = database.available && redis.available;
// A database outlives the process, so its keys are configured (ephemeral ones are refused),
// the same for every service of this file: they share the notes and the audit chain.
const NOTES_KEYS = JSON.stringify([
  { id: 1, key: 'b'.repeat(43), status: 'enabled' },
  { id: 2, key: 'c'.repeat(43), status: 'primary' },
]);
const AUDIT_SIGNING_KEY = 'the-audit-signing-key-of-this-test-file';
// The API keys live in the database too (table api_keys), hashed under this secret.
const API_KEY_SECRET = 'the-api-key-secret-of-this-test-file!';
// Every Redis key under the test's random prefix, which cleanup() deletes.
const env = {
  DATABASE_URL: database.url,
  REDIS_URL: redis.url,
  REDIS_KEY_PREFIX: redis.keyPrefix,
  NOTES_KEYS,
  AUDIT_SIGNING_KEY,
  API_KEY_SECRET,
};
const json = { 'content-type': 'application/json' };
/** JSON, with the API key for writes of `service`. */
const writing = (service: { readonly apiKey: string }) => ({
  ...json,
  'x-api-key': service.apiKey,
});

/** Every key under `prefix` with its value, for those that hold a string. */
async function redisStrings(prefix: string): Promise<Map<string, string>> {
  const client = new Redis(redis.url);
  const found = new Map<string, string>();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      for (const key of keys) {
        if ((await client.type(key)) === 'string') found.set(key, (await client.get(key)) ?? '');
      }
    } while (cursor !== '0');
  } finally {
    await client.quit();
  }
  return found;
}

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
      headers: writing(first),
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
      // The title in clear, the body sealed under the primary key, bound to the note.
      const [row] = rows.rows as { title: string; body: string }[];
      expect(row?.title).toBe('durable');
      expect(row?.body).not.toContain('survives');
      const keyring = keyringFromJson(NOTES_KEYS);
      if (!keyring.ok) throw keyring.error;
      expect(keyring.value.keyIdOf(row?.body ?? '')).toBe(2);
      expect(keyring.value.decryptString(row?.body ?? '', noteBodyAad(note.id))).toEqual({
        ok: true,
        value: 'survives a restart',
      });
    } finally {
      await client.end();
    }

    const second = await startForTest(start, env);
    try {
      // Nothing left to migrate, and the first instance's key still works: the keys are kept
      // in PostgreSQL under API_KEY_SECRET.
      expect(second.running.service.migrated?.applied).toEqual([]);
      const patched = await fetch(`${second.running.url}/v1/notes/${note.id}`, {
        method: 'PATCH',
        headers: writing(first),
        body: JSON.stringify({ title: 'durable, still' }),
      });
      expect(patched.status).toBe(200);
      await patched.arrayBuffer();
      const read = await fetch(`${second.running.url}/v1/notes/${note.id}`);
      expect(read.status).toBe(200);
      expect(await read.json()).toMatchObject({
        id: note.id,
        title: 'durable, still',
        body: 'survives a restart',
      });
    } finally {
      await second.running.shutdown.shutdown('tests done');
    }
  }, 60_000);

  it('keeps no plaintext body in Redis: the cache holds what the database holds', async () => {
    const service = await startForTest(start, env);
    const url = service.running.url;
    const marker = `plaintext-${Date.now().toString(36)}`;
    try {
      const created = await fetch(`${url}/v1/notes`, {
        method: 'POST',
        headers: writing(service),
        body: JSON.stringify({ title: 'cached in Redis', body: `a body with ${marker}` }),
      });
      const note = (await created.json()) as { id: string };
      for (let read = 0; read < 2; read++) {
        const response = await fetch(`${url}/v1/notes/${note.id}`);
        expect(await response.json()).toMatchObject({ body: `a body with ${marker}` });
      }
      const stored = await redisStrings(redis.keyPrefix);
      const entry = [...stored].find(([key]) => key.includes(note.id));
      expect(entry?.[1]).toContain('cached in Redis');
      expect(entry?.[1]).not.toContain(marker);
      for (const [key, value] of stored) expect(value, key).not.toContain(marker);
    } finally {
      await service.running.shutdown.shutdown('tests done');
    }
  }, 60_000);

  it('shares the cache and the limits between instances through Redis', async () => {
    // A prefix of their own: counters no other service of this file has touched.
    const shared = { ...env, REDIS_KEY_PREFIX: `${redis.keyPrefix}pair:`, NOTES_WRITE_LIMIT: '2' };
    const [a, b] = await Promise.all([startForTest(start, shared), startForTest(start, shared)]);
    // One key on both: a's demo key, which b finds in the shared table.
    const post = (on: typeof a, title: string) =>
      fetch(`${on.running.url}/v1/notes`, {
        method: 'POST',
        headers: writing(a),
        body: JSON.stringify({ title }),
      });
    try {
      const created = await post(a, 'shared');
      expect(created.status).toBe(201);
      const note = (await created.json()) as { id: string };
      const path = `/v1/notes/${note.id}`;
      // b caches the note, a changes it: the cache bus drops b's copy.
      expect(await (await fetch(`${b.running.url}${path}`)).json()).toMatchObject({
        title: 'shared',
      });
      const patched = await fetch(`${a.running.url}${path}`, {
        method: 'PATCH',
        headers: writing(b),
        body: JSON.stringify({ title: 'changed on a' }),
      });
      expect(patched.status).toBe(200);
      await patched.arrayBuffer();
      await vi.waitFor(
        async () =>
          expect(await (await fetch(`${b.running.url}${path}`)).json()).toMatchObject({
            title: 'changed on a',
          }),
        { timeout: 5000 },
      );

      // One budget for the key on both: the second write on b is the limit, the third anywhere
      // refused.
      expect((await post(b, 'second')).status).toBe(201);
      const refused = await post(a, 'third');
      expect(refused.status).toBe(429);
      expect(await refused.json()).toMatchObject({ 'violated-policies': ['notes-write'] });
    } finally {
      await Promise.all([a, b].map((one) => one.running.shutdown.shutdown('tests done')));
    }
  }, 60_000);

  it('audits into an append-only PostgreSQL table, one chain for every service that verifies offline', async () => {
    const service = await startForTest(start, env);
    try {
      const created = await fetch(`${service.running.url}/v1/notes`, {
        method: 'POST',
        headers: writing(service),
        body: JSON.stringify({ title: 'audited in PostgreSQL' }),
      });
      expect(created.status).toBe(201);
      await created.arrayBuffer();
    } finally {
      // Writes the last checkpoint before the pool closes.
      await service.running.shutdown.shutdown('tests done');
    }
    const client = new pg.Client({ connectionString: database.baseUrl });
    await client.connect();
    try {
      const table = `"${database.schema}".audit_log`;
      await expect(client.query(`UPDATE ${table} SET action = 'forged'`)).rejects.toThrow(
        /append-only/,
      );
      await expect(client.query(`DELETE FROM ${table}`)).rejects.toThrow(/append-only/);
      // What `prod-audit verify` reads: the bodies in seq order.
      const rows = await client.query(
        `SELECT body, action FROM ${table} WHERE chain = 'default' ORDER BY seq`,
      );
      const bodies = rows.rows.map((row: { body: string }) => row.body);
      // Every service of this file wrote this chain, one after the other.
      expect(rows.rows.map((row: { action: string | null }) => row.action)).toContain(
        'note.create',
      );
      const report = await verifyRecords(bodies, { keys: [AUDIT_SIGNING_KEY] });
      expect(report).toMatchObject({ ok: true, issues: [], signaturesChecked: true });
      expect(report.chains[0]?.unsealed).toBe(0);
      // With another key, the checkpoints do not verify: the signature is what an editor lacks.
      const forged = await verifyRecords(bodies, {
        keys: ['another-key-of-at-least-32-characters'],
      });
      expect(forged.ok).toBe(false);
    } finally {
      await client.end();
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
          headers: writing(service),
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

  it('refuses to start on PostgreSQL without NOTES_KEYS, AUDIT_SIGNING_KEY and API_KEY_SECRET, naming each', async () => {
    const {
      NOTES_KEYS: _keys,
      AUDIT_SIGNING_KEY: _signing,
      API_KEY_SECRET: _secret,
      ...unkeyed
    } = env;
    await expect(startForTest(start, unkeyed)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      errors: [
        expect.objectContaining({ path: 'notesKeys' }),
        expect.objectContaining({ path: 'auditSigningKey' }),
        expect.objectContaining({ path: 'apiKeySecret' }),
      ],
    });
  });

  it('migrates a fresh database once when two instances start on it together', async () => {
    const fresh = await postgresTestDatabase();
    try {
      const both = { ...env, DATABASE_URL: fresh.url };
      const [a, b] = await Promise.all([startForTest(start, both), startForTest(start, both)]);
      try {
        const applied = [a, b].flatMap(
          (one) => one.running.service.migrated?.applied.map((step) => step.id) ?? [],
        );
        expect(applied.sort()).toEqual([
          'V1__notes',
          'V2__audit log',
          'V3__api keys',
          'V4__job outbox',
        ]);
        const client = new pg.Client({ connectionString: fresh.baseUrl });
        await client.connect();
        try {
          const history = await client.query(
            `SELECT version FROM "${fresh.schema}".prod_db_migrations ORDER BY rank`,
          );
          expect(history.rows.map((row: { version: string }) => row.version)).toEqual([
            '1',
            '2',
            '3',
            '4',
          ]);
        } finally {
          await client.end();
        }
      } finally {
        await Promise.all([a, b].map((one) => one.running.shutdown.shutdown('tests done')));
      }
    } finally {
      await fresh.drop();
    }
  }, 60_000);

  it('logs a slow query with its fingerprint and request id, never its values', async () => {
    // 0 ms: every query is slow, so one request shows the line.
    const service = await startForTest(start, { ...env, DB_SLOW_QUERY_MS: '0' });
    try {
      const id = `slow-${Date.now().toString(36)}`;
      const missing = await fetch(
        `${service.running.url}/v1/notes/00000000-0000-4000-8000-00000000abcd`,
        {
          headers: { 'x-request-id': id },
        },
      );
      expect(missing.status).toBe(404);
      await missing.arrayBuffer();
      await vi.waitFor(() =>
        expect(
          service.lines.find(
            (line) =>
              line.module === 'db' &&
              (line.db as { event?: string } | undefined)?.event === 'slow-query' &&
              (line.db as { requestId?: string }).requestId === id,
          ),
        ).toBeDefined(),
      );
      const line = service.lines.find(
        (entry) => entry.module === 'db' && (entry.db as { requestId?: string })?.requestId === id,
      );
      expect(line?.db).toMatchObject({
        event: 'slow-query',
        operation: 'SELECT',
        table: expect.stringMatching(/notes$/),
        route: '/v1/notes/:id',
      });
      expect(String((line?.db as { fingerprint?: string } | undefined)?.fingerprint)).toContain(
        '$1',
      );
      expect(JSON.stringify(line)).not.toContain('00000000abcd');
    } finally {
      await service.running.shutdown.shutdown('tests done');
    }
  }, 60_000);

  it('refuses NOTES_FLAGS beside REDIS_URL at start, naming both', async () => {
    await expect(
      startForTest(start, { ...env, NOTES_FLAGS: '{"notes.search":{"defaultVariant":"on"}}' }),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
