import { isProdError } from '@prod/core';
import { createMigrator } from '@prod/db';
import { postgresTestDatabase } from '@prod/testing';
import { memoryNotesStore, NOTES_MIGRATIONS, sqlNotesStore } from 'example-notes-app';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const database = await postgresTestDatabase();

describe.skipIf(!database.available)(
  'sqlNotesStore on PostgreSQL (skipped: PostgreSQL not reachable)',
  () => {
    let pool: pg.Pool;

    beforeAll(async () => {
      pool = new pg.Pool({ connectionString: database.url, max: 4 });
      const migrated = await createMigrator({
        client: pool,
        migrations: NOTES_MIGRATIONS,
      }).migrate();
      if (!migrated.ok) throw migrated.error;
    });
    afterAll(async () => {
      await pool?.end();
      await database.drop();
    });

    it('creates the table in the isolated schema (migration 1)', async () => {
      const tables = await pool.query(
        'SELECT table_schema FROM information_schema.tables WHERE table_name = $1',
        ['notes'],
      );
      expect(tables.rows.map((row: { table_schema: string }) => row.table_schema)).toContain(
        database.schema,
      );
    });

    it('creates, reads, updates and removes a note', async () => {
      const store = sqlNotesStore(pool, 'postgres');
      const created = await store.create({ title: 'sql', body: "it's; DROP TABLE notes; --" });
      expect(created.ok).toBe(true);
      if (!created.ok) return;
      const note = created.value;
      expect(note.body).toBe("it's; DROP TABLE notes; --");
      expect(note.createdAt).toBe(note.updatedAt);

      expect(await store.get(note.id)).toEqual({ ok: true, value: note });
      const updated = await store.update(note.id, { body: 'changed' });
      expect(updated.ok && updated.value).toMatchObject({
        id: note.id,
        title: 'sql',
        body: 'changed',
      });
      expect(await store.remove(note.id)).toEqual({ ok: true, value: true });
      expect(await store.remove(note.id)).toEqual({ ok: true, value: false });
      expect(await store.get(note.id)).toEqual({ ok: true, value: undefined });
      expect(await store.update(note.id, { title: 'x' })).toEqual({ ok: true, value: undefined });
    });

    it('lists in creation order with limit and offset', async () => {
      const store = sqlNotesStore(pool, 'postgres');
      const ids: string[] = [];
      for (const title of ['a', 'b', 'c']) {
        const created = await store.create({ title, body: '' });
        if (created.ok) ids.push(created.value.id);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const all = await store.list({ limit: 100, offset: 0 });
      const listed = all.ok ? all.value.map((note) => note.id) : [];
      expect(listed.filter((id) => ids.includes(id))).toEqual(ids);
      const page = await store.list({ limit: 1, offset: listed.indexOf(ids[1] ?? '') });
      expect(page.ok && page.value.map((note) => note.id)).toEqual([ids[1]]);
    });

    it('searches titles (not bodies) with ILIKE, taking %, _ and \\ as plain characters', async () => {
      const store = sqlNotesStore(pool, 'postgres');
      const memory = memoryNotesStore();
      const tag = `t${Date.now().toString(36)}`;
      const notes: [string, string][] = [
        // milk in the body only: the service keeps bodies encrypted, a search never reads them.
        [`${tag} Groceries`, 'milk, eggs'],
        [`${tag} 100%_done`, 'literal'],
        [`${tag} 100 done`, 'no percent'],
        [`${tag} path C:\\notes\\today`, ''],
        [`${tag} quote it's; DROP TABLE notes; --`, ''],
        [`${tag} Buy MILK`, 'office'],
      ];
      for (const [title, body] of notes) {
        expect((await store.create({ title, body })).ok).toBe(true);
        await memory.create({ title, body });
        // Creation order is by time, then id: a new millisecond for each.
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const search = async (target: typeof store, q: string): Promise<string[]> => {
        const found = await target.list({ limit: 100, offset: 0, q });
        if (!found.ok) throw found.error;
        return found.value
          .map((note) => note.title)
          .filter((title) => title.startsWith(tag))
          .map((title) => title.slice(tag.length + 1));
      };
      const cases: [string, string[]][] = [
        ['milk', ['Buy MILK']],
        ['eggs', []],
        ['%_', ['100%_done']],
        ['100_', []],
        ['100%', ['100%_done']],
        ['_', ['100%_done']],
        ['\\notes\\', ['path C:\\notes\\today']],
        ['\\', ['path C:\\notes\\today']],
        ["'s; DROP", ["quote it's; DROP TABLE notes; --"]],
        [tag.toUpperCase(), notes.map(([title]) => title.slice(tag.length + 1))],
      ];
      for (const [q, expected] of cases) {
        expect(await search(store, q), q).toEqual(expected);
        // The memory store answers the same.
        expect(await search(memory, q), `memory: ${q}`).toEqual(expected);
      }
      const page = await store.list({ limit: 1, offset: 1, q: `${tag} ` });
      expect(page.ok && page.value.map((note) => note.title)).toEqual([`${tag} 100%_done`]);
      const table = await pool.query('SELECT count(*)::int AS n FROM notes');
      expect((table.rows[0] as { n: number }).n).toBeGreaterThanOrEqual(notes.length);
    });

    it('returns an Err, never a throw, when the database is gone', async () => {
      const closed = new pg.Pool({ connectionString: database.url });
      await closed.end();
      const store = sqlNotesStore(closed, 'postgres');
      const result = await store.list({ limit: 1, offset: 0 });
      expect(result.ok).toBe(false);
      expect(!result.ok && isProdError(result.error)).toBe(true);

      const refused = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/test' });
      const unreachable = await sqlNotesStore(refused, 'postgres').get(
        '00000000-0000-4000-8000-000000000000',
      );
      expect(!unreachable.ok && unreachable.error.code).toBe('UNAVAILABLE');
      const migrated = await createMigrator({
        client: refused,
        migrations: NOTES_MIGRATIONS,
      }).migrate();
      expect(!migrated.ok && migrated.error.code).toBe('DB_UNAVAILABLE');
      await refused.end();
    });
  },
);
