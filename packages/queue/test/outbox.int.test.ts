import { ok } from '@prod/core';
import { createMigrator, defineMigration, toSqlClient } from '@prod/db';
import { createOutbox, createQueue, defineJob, outboxMigration, type SqlClient } from '@prod/queue';
import { bullmqDriver } from '@prod/queue/bullmq';
import {
  postgresTestDatabase,
  type RedisServer,
  redisServerAvailable,
  startRedisServer,
} from '@prod/testing';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';

const database = await postgresTestDatabase();
const canStart = await redisServerAvailable();
let pool: pg.Pool;
let db: SqlClient;
let server: RedisServer;

const processed: string[] = [];
const sendReceipt = defineJob({
  name: 'orders.receipt',
  schema: z.object({ order: z.string() }),
  concurrency: 10,
  handler: ({ order }) => {
    processed.push(order);
    return ok(undefined);
  },
});

const open: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
  processed.length = 0;
});

describe.skipIf(!database.available || !canStart)(
  'outbox on PostgreSQL, relayed to BullMQ (skipped: PostgreSQL or redis-server missing)',
  () => {
    beforeAll(async () => {
      pool = new pg.Pool({ connectionString: database.url, max: 6 });
      db = toSqlClient(pool);
      server = await startRedisServer();
      // The table through @prod/db's migrator, next to the application's own migrations.
      const migrator = createMigrator({
        client: pool,
        migrations: [
          defineMigration({
            version: '1',
            name: 'orders',
            up: 'CREATE TABLE orders (id text PRIMARY KEY)',
          }),
          defineMigration(outboxMigration({ version: '2' })),
        ],
      });
      const migrated = await migrator.migrate();
      if (!migrated.ok) throw migrated.error;
    }, 30_000);
    afterAll(async () => {
      await server?.stop();
      await pool?.end();
      await database.drop();
    });

    const setup = () => {
      const queue = createQueue({
        jobs: [sendReceipt],
        driver: bullmqDriver({ connection: server.url, commandTimeoutMs: 300 }),
      });
      const outbox = createOutbox({ queue, client: db, pollIntervalMs: 50, retryBackoff: () => 0 });
      open.push(queue, outbox);
      return { queue, outbox };
    };

    const order = (outbox: ReturnType<typeof setup>['outbox'], id: string, fail = false) =>
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO orders (id) VALUES ($1)', [id]);
        const queued = await outbox.enqueue(tx, sendReceipt, { order: id });
        if (!queued.ok) throw queued.error;
        if (fail) throw new Error('payment declined');
      });

    it('sends the job of a committed transaction, and none for a rolled-back one', async () => {
      const { queue, outbox } = setup();
      queue.work();
      outbox.start();
      await order(outbox, 'o-1');
      await expect(order(outbox, 'o-2', true)).rejects.toThrow('payment declined');
      await vi.waitFor(() => expect(processed).toEqual(['o-1']), { timeout: 10_000 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(processed).toEqual(['o-1']);
      expect((await pool.query('SELECT id FROM orders')).rows).toEqual([{ id: 'o-1' }]);
      const pending = await outbox.pending();
      expect(pending.ok && pending.value).toBe(0);
    });

    it('keeps the job in the outbox while Redis is away, and sends it once Redis is back', async () => {
      const { queue, outbox } = setup();
      await server.kill();
      await order(outbox, 'o-3'); // the data change commits: Redis is not needed for it
      const relay = await outbox.flush();
      expect(relay.ok && relay.value).toEqual({ relayed: 0, failed: 1 });
      const row = await pool.query('SELECT attempts, last_error FROM prod_queue_outbox');
      expect(row.rows[0]?.attempts).toBe(1);
      expect(row.rows[0]?.last_error).toMatch(/^QUEUE_UNAVAILABLE/);

      await server.restart();
      queue.work();
      outbox.start();
      await vi.waitFor(() => expect(processed).toEqual(['o-3']), { timeout: 15_000 });
      // The relay deletes its row after the queue has the job, so a fast worker may have run
      // it before the DELETE commits: the row goes within a moment, the job never runs twice.
      await vi.waitFor(
        async () => {
          const pending = await outbox.pending();
          expect(pending.ok && pending.value).toBe(0);
        },
        { timeout: 5_000 },
      );
      expect(processed).toEqual(['o-3']);
    }, 30_000);

    it('relays each row once with several relays at work (FOR UPDATE SKIP LOCKED)', async () => {
      const { queue, outbox } = setup();
      const others = [1, 2].map(() => createOutbox({ queue, client: db, batchSize: 7 }));
      open.push(...others);
      await db.transaction(async (tx) => {
        for (let n = 0; n < 60; n++) {
          const queued = await outbox.enqueue(tx, sendReceipt, { order: `bulk-${n}` });
          if (!queued.ok) throw queued.error;
        }
      });
      const reports = await Promise.all([outbox.flush(), ...others.map((o) => o.flush())]);
      const relayed = reports.reduce((sum, r) => sum + (r.ok ? r.value.relayed : 0), 0);
      expect(relayed).toBe(60);
      queue.work();
      await vi.waitFor(() => expect(processed).toHaveLength(60), { timeout: 10_000 });
      expect(new Set(processed).size).toBe(60);
    });
  },
);
