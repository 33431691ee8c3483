import { definePart, json } from '@prod/core';
import { type DbEvent, instrument } from '@prod/db';
import { mountExpress } from '@prod/express';
import { listen, postgresTestDatabase } from '@prod/testing';
import express from 'express';
import { afterAll, describe, expect, it } from 'vitest';
import { quietPool } from './fixtures/databases.js';

const database = await postgresTestDatabase();
afterAll(() => database.drop());

describe.skipIf(!database.available)(
  'instrument() behind a real adapter (skipped: PostgreSQL not reachable)',
  () => {
    it('reports N+1 and the budget with the route template and request id the adapter put in the context', async () => {
      const pool = quietPool({ connectionString: database.url, max: 2 });
      await pool.query(
        'CREATE TABLE authors (id int PRIMARY KEY, name text); INSERT INTO authors SELECT g, $$a$$ || g FROM generate_series(1, 8) g',
      );
      const events: DbEvent[] = [];
      const instrumentation = instrument(pool, {
        explain: false,
        nPlusOne: { threshold: 3 },
        budget: { maxQueries: 6 },
        onEvent: (e) => events.push(e),
      });
      const part = definePart({
        name: 'authors',
        routes: [
          {
            method: 'GET',
            path: '/authors/:page',
            handler: async () => {
              const ids = await pool.query('SELECT id FROM authors ORDER BY id');
              const names: string[] = [];
              // The classic N+1: one query per row.
              for (const row of ids.rows)
                names.push(
                  (await pool.query('SELECT name FROM authors WHERE id = $1', [row.id])).rows[0]
                    ?.name,
                );
              return json(200, names);
            },
          },
        ],
      });
      const app = express();
      mountExpress(app, { parts: [part] });
      const server = await listen(app);
      try {
        const response = await fetch(`${server.url}/authors/1`, {
          headers: { 'x-request-id': 'from-client-1' },
        });
        expect(response.status).toBe(200);
        expect(await response.json()).toHaveLength(8);
        expect(events.map((e) => [e.kind, e.route, e.requestId])).toEqual([
          ['n-plus-one', '/authors/:page', 'from-client-1'],
          ['budget-exceeded', '/authors/:page', 'from-client-1'],
        ]);
        expect(events[0]).toMatchObject({
          fingerprint: 'SELECT name FROM authors WHERE id = $1',
          count: 4,
        });
      } finally {
        await server.close();
        instrumentation.stop();
        await pool.end();
      }
    });
  },
);
