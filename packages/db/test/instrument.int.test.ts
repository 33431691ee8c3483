import { runWithContext } from '@prod/core';
import { type DbEvent, instrument, requestQueryStats } from '@prod/db';
import { createMetrics } from '@prod/metrics';
import { postgresTestDatabase } from '@prod/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quietPool, until } from './fixtures/databases.js';

const database = await postgresTestDatabase();
afterAll(() => database.drop());

describe.skipIf(!database.available)(
  'instrument() on PostgreSQL (skipped: PostgreSQL not reachable)',
  () => {
    let pool: pg.Pool;
    beforeAll(async () => {
      pool = quietPool({ connectionString: database.url, max: 4 });
      await pool.query(
        `CREATE TABLE accounts (id int PRIMARY KEY, email text NOT NULL, plan text NOT NULL)`,
      );
      await pool.query(
        `INSERT INTO accounts SELECT g, 'user' || g || '@example.com', CASE WHEN g % 10 = 0 THEN 'pro' ELSE 'free' END FROM generate_series(1, 50000) g`,
      );
      await pool.query('ANALYZE accounts');
      await pool.query('CREATE TABLE small (id int PRIMARY KEY)');
    });
    afterAll(() => pool?.end());

    const recorder = () => {
      const events: DbEvent[] = [];
      const logged: Array<{ fields: unknown; message: string | undefined }> = [];
      return {
        events,
        logged,
        logger: { warn: (fields: unknown, message?: string) => logged.push({ fields, message }) },
        onEvent: (event: DbEvent) => events.push(event),
      };
    };

    it('records every query in db_client_operation_duration_seconds by operation, table and error', async () => {
      const metrics = createMetrics({ runtime: false });
      const instrumentation = instrument(pool, { metrics, explain: false });
      try {
        await pool.query('SELECT * FROM accounts WHERE id = $1', [1]);
        await pool.query("SELECT * FROM accounts WHERE id IN (1, 2, 3) AND email <> 'x'");
        await pool.query('INSERT INTO small (id) VALUES ($1)', [1]);
        await expect(pool.query('INSERT INTO small (id) VALUES ($1)', [1])).rejects.toThrow(
          /duplicate key/,
        );
        const client = await pool.connect();
        try {
          await client.query('UPDATE small SET id = 2 WHERE id = 1');
        } finally {
          client.release();
        }
        const scraped = await metrics.scrape();
        expect(scraped.ok).toBe(true);
        if (!scraped.ok) return;
        const lines = scraped.value.body
          .split('\n')
          .filter((line) => line.startsWith('db_client_operation_duration_seconds_count'));
        expect(lines.sort()).toEqual([
          'db_client_operation_duration_seconds_count{db_system_name="postgresql",db_operation_name="INSERT",db_collection_name="small",error_type="23505"} 1',
          'db_client_operation_duration_seconds_count{db_system_name="postgresql",db_operation_name="INSERT",db_collection_name="small"} 1',
          'db_client_operation_duration_seconds_count{db_system_name="postgresql",db_operation_name="SELECT",db_collection_name="accounts"} 2',
          'db_client_operation_duration_seconds_count{db_system_name="postgresql",db_operation_name="UPDATE",db_collection_name="small"} 1',
        ]);
        expect(scraped.value.body).toContain(
          '# TYPE db_client_operation_duration_seconds histogram',
        );
        expect(scraped.value.body).toMatch(
          /db_client_operation_duration_seconds_bucket\{[^}]*le="\+Inf"\} 2/,
        );
      } finally {
        instrumentation.stop();
      }
    });

    it("times a checked-out client once, and pool.query once after connect's done() gave it back", async () => {
      const metrics = createMetrics({ runtime: false });
      const single = quietPool({ connectionString: database.url, max: 1 });
      const instrumentation = instrument(single, { metrics, explain: false });
      try {
        await new Promise<void>((resolve, reject) => {
          single.connect((error, client, done) => {
            if (error || client === undefined) return reject(error);
            client.query('SELECT 1 AS checked_out', (failed: Error | null) => {
              done();
              return failed ? reject(failed) : resolve();
            });
          });
        });
        // The same connection (max 1): pool.query must not count it a second time.
        await single.query('SELECT 2 AS pooled');
        await single.query('SELECT $1::int AS pooled', [3]);
        const scraped = await metrics.scrape();
        expect(scraped.ok && scraped.value.body).toContain(
          'db_client_operation_duration_seconds_count{db_system_name="postgresql",db_operation_name="SELECT"} 3',
        );
      } finally {
        instrumentation.stop();
        await single.end();
      }
    });

    it('logs a real slow query with its fingerprint, duration, request id, trace id and route', async () => {
      const r = recorder();
      const instrumentation = instrument(pool, {
        slowMs: 150,
        logger: r.logger,
        onEvent: r.onEvent,
        explain: false,
      });
      try {
        await runWithContext(
          {
            requestId: 'req-1',
            traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
            route: '/reports/:id',
          },
          async () => {
            await pool.query('SELECT pg_sleep($1)', [0.25]);
            await pool.query('SELECT 1');
          },
        );
        expect(r.events).toEqual([
          {
            kind: 'slow-query',
            fingerprint: 'SELECT pg_sleep($1)',
            fingerprintId: expect.stringMatching(/^[0-9a-f]{16}$/),
            operation: 'SELECT',
            table: undefined,
            durationMs: expect.any(Number),
            error: undefined,
            requestId: 'req-1',
            traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
            route: '/reports/:id',
          },
        ]);
        expect((r.events[0] as { durationMs: number }).durationMs).toBeGreaterThanOrEqual(240);
        expect(r.logged).toEqual([
          {
            fields: { db: expect.objectContaining({ event: 'slow-query', requestId: 'req-1' }) },
            message: 'slow query',
          },
        ]);
      } finally {
        instrumentation.stop();
      }
    });

    it('EXPLAINs a slow SELECT on a separate connection and suggests an index for a seq scan of a large table', async () => {
      const r = recorder();
      const explainPool = quietPool({ connectionString: database.url, max: 1 });
      const instrumentation = instrument(pool, {
        slowMs: 0,
        onEvent: r.onEvent,
        explain: { client: explainPool, largeTableRows: 10_000 },
        budget: false,
        nPlusOne: false,
      });
      try {
        const found = await pool.query(
          "SELECT id FROM accounts WHERE email = $1 AND plan = 'pro'",
          ['user10@example.com'],
        );
        expect(found.rows).toEqual([{ id: 10 }]);
        await pool.query('SELECT * FROM small WHERE id > 0');
        await until(async () => r.events.some((e) => e.kind === 'seq-scan'));
        const scans = r.events.filter((e) => e.kind === 'seq-scan');
        expect(scans).toEqual([
          expect.objectContaining({
            kind: 'seq-scan',
            table: `${database.schema}.accounts`,
            estimatedRows: 50000,
            filter: expect.stringContaining('email'),
            suggestion: `CREATE INDEX CONCURRENTLY ON ${database.schema}.accounts (email, plan)`,
          }),
        ]);
        // The EXPLAIN itself was not recorded as a query of the application.
        expect(
          r.events
            .filter((e) => e.kind === 'slow-query')
            .map((e) => (e as { fingerprint: string }).fingerprint),
        ).toEqual([
          'SELECT id FROM accounts WHERE email = $1 AND plan = $2',
          'SELECT * FROM small WHERE id > $1',
        ]);
      } finally {
        instrumentation.stop();
        await explainPool.end();
      }
    });

    it('never explains a multi-statement text or DML, and rate-limits per fingerprint', async () => {
      const r = recorder();
      const instrumentation = instrument(pool, {
        slowMs: 0,
        onEvent: r.onEvent,
        explain: { largeTableRows: 1 },
        budget: false,
        nPlusOne: false,
      });
      try {
        await pool.query("SELECT count(*) FROM accounts WHERE plan = 'pro'; SELECT 1");
        await pool.query("UPDATE accounts SET plan = plan WHERE email = 'nobody'");
        for (let i = 0; i < 3; i++)
          await pool.query("SELECT count(*) FROM accounts WHERE plan = 'free'");
        await until(async () => r.events.some((e) => e.kind === 'seq-scan'));
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(r.events.filter((e) => e.kind === 'seq-scan')).toHaveLength(1);
      } finally {
        instrumentation.stop();
      }
    });

    it('detects N+1 and a blown query budget once per request, with the route', async () => {
      const r = recorder();
      const instrumentation = instrument(pool, {
        onEvent: r.onEvent,
        explain: false,
        nPlusOne: { threshold: 5 },
        budget: { maxQueries: 8, maxTotalMs: 10_000 },
      });
      try {
        let stats: ReturnType<typeof requestQueryStats>;
        await runWithContext({ requestId: 'req-n1', route: '/accounts' }, async () => {
          const list = await pool.query('SELECT id FROM accounts ORDER BY id LIMIT 12');
          for (const row of list.rows)
            await pool.query('SELECT * FROM accounts WHERE id = $1', [row.id]);
          stats = requestQueryStats();
        });
        expect(stats).toMatchObject({ queries: 13, slow: 0 });
        expect(r.events.map((e) => e.kind)).toEqual(['n-plus-one', 'budget-exceeded']);
        expect(r.events[0]).toMatchObject({
          fingerprint: 'SELECT * FROM accounts WHERE id = $1',
          count: 6,
          threshold: 5,
          requestId: 'req-n1',
          route: '/accounts',
        });
        expect(r.events[1]).toMatchObject({
          queries: 9,
          maxQueries: 8,
          requestId: 'req-n1',
          route: '/accounts',
        });
        // Another request starts from zero.
        // An adapter's context keeps the state in its extensions.
        await runWithContext({ requestId: 'req-2', extensions: new Map() }, async () => {
          await pool.query('SELECT 1');
          expect(requestQueryStats()).toMatchObject({ queries: 1 });
        });
        expect(requestQueryStats()).toBeUndefined();
      } finally {
        instrumentation.stop();
      }
    });

    it('instruments a single pg Client, callback style included, and stop() puts it back', async () => {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      const r = recorder();
      const original = client.query;
      const instrumentation = instrument(client, { slowMs: 0, onEvent: r.onEvent, explain: false });
      try {
        await client.query('SELECT 1 AS one');
        await new Promise<void>((resolve, reject) => {
          client.query('SELECT $1::int AS two', [2], (error: Error | null) =>
            error ? reject(error) : resolve(),
          );
        });
        expect(r.events.map((e) => (e as { fingerprint: string }).fingerprint)).toEqual([
          'SELECT $1 AS one',
          'SELECT $1::int AS two',
        ]);
        instrumentation.stop();
        expect(client.query).toBe(original);
        await client.query('SELECT 3');
        expect(r.events).toHaveLength(2);
      } finally {
        await client.end();
      }
    });
  },
);
