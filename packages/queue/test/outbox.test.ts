import { PGlite } from '@electric-sql/pglite';
import { ok } from '@prod/core';
import {
  createOutbox,
  createQueue,
  defineJob,
  memoryDriver,
  type Outbox,
  outboxMigration,
  outboxMigrationSql,
  type Queue,
  type SqlClient,
} from '@prod/queue';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';

// The embedded default end to end: PGlite for the data and the outbox, the memory driver.
let db: PGlite;
beforeAll(async () => {
  db = await PGlite.create();
  await db.query('CREATE TABLE notes (id text PRIMARY KEY, title text NOT NULL)');
}, 30_000);
afterAll(() => db.close());

const indexed: string[] = [];
const indexNote = defineJob({
  name: 'notes.index',
  schema: z.object({ id: z.string() }),
  handler: ({ id }) => {
    indexed.push(id);
    return ok(undefined);
  },
});
const other = defineJob({ name: 'notes.other', schema: z.object({}) });

const open: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
  indexed.length = 0;
  await db.query('DELETE FROM notes');
  await db.query('DROP TABLE IF EXISTS prod_queue_outbox');
});

async function setup(): Promise<{
  queue: Queue<typeof indexNote>;
  outbox: Outbox<typeof indexNote>;
}> {
  const queue = createQueue({ jobs: [indexNote], driver: memoryDriver() });
  const outbox = createOutbox({ queue, client: db as unknown as SqlClient, pollIntervalMs: 20 });
  open.push(queue, outbox);
  const installed = await outbox.install();
  expect(installed.ok).toBe(true);
  return { queue, outbox };
}

const note = (outbox: Outbox<typeof indexNote>, id: string, fail = false) =>
  db.transaction(async (tx) => {
    await tx.query('INSERT INTO notes (id, title) VALUES ($1, $2)', [id, `note ${id}`]);
    const queued = await outbox.enqueue(tx, indexNote, { id });
    if (!queued.ok) throw queued.error;
    if (fail) throw new Error('the change fails after the enqueue');
    return queued.value.outboxId;
  });

describe('transactional outbox on PGlite', () => {
  it('relays a committed job to the queue, and sends nothing for a rolled-back change', async () => {
    const { queue, outbox } = await setup();
    queue.work();
    outbox.start();
    await note(outbox, 'kept');
    await expect(note(outbox, 'rolled-back', true)).rejects.toThrow('the change fails');
    await vi.waitFor(() => expect(indexed).toEqual(['kept']));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(indexed).toEqual(['kept']);
    const pending = await outbox.pending();
    expect(pending.ok && pending.value).toBe(0);
    expect((await db.query('SELECT id FROM notes')).rows).toEqual([{ id: 'kept' }]);
  });

  it('refuses a bad payload before writing anything, so the caller can roll back', async () => {
    const { outbox } = await setup();
    const result = await db.transaction(async (tx) => {
      const queued = await outbox.enqueue(tx, indexNote, { id: 42 } as never);
      return queued;
    });
    expect(!result.ok && result.error.code).toBe('JOB_PAYLOAD_INVALID');
    const unknown = await db.transaction((tx) =>
      outbox.enqueue(tx, 'nobody' as never, {} as never),
    );
    expect(!unknown.ok && unknown.error.code).toBe('JOB_UNKNOWN');
    const pending = await outbox.pending();
    expect(pending.ok && pending.value).toBe(0);
  });

  it('answers QUEUE_OUTBOX_FAILED when the insert fails (no table), leaving the transaction to the caller', async () => {
    const queue = createQueue({ jobs: [indexNote] });
    const outbox = createOutbox({
      queue,
      client: db as unknown as SqlClient,
      table: 'missing_outbox',
    });
    open.push(queue, outbox);
    let result: Awaited<ReturnType<typeof outbox.enqueue>> | undefined;
    await expect(
      db.transaction(async (tx) => {
        result = await outbox.enqueue(tx, indexNote, { id: 'x' });
        if (!result.ok) throw result.error; // what the caller does: the change rolls back
      }),
    ).rejects.toMatchObject({ code: 'QUEUE_OUTBOX_FAILED' });
    if (result === undefined) throw new Error('enqueue did not run');
    expect(!result.ok && result.error.code).toBe('QUEUE_OUTBOX_FAILED');
    expect(!result.ok && result.error.retryable).toBe(true);
  });

  it('sends a job once when the relay dies between handing it over and deleting its row', async () => {
    const { queue, outbox } = await setup();
    let failDeletes = 1;
    // The same database, except that the relay's first DELETE fails: its transaction rolls
    // back after the job already reached the queue, as a crash there would.
    const flaky: SqlClient = {
      query: (text, values) => db.query(text, values) as never,
      transaction: (fn) =>
        db.transaction((tx) =>
          fn({
            query: async (text, values) => {
              if (text.startsWith('DELETE') && failDeletes-- > 0)
                throw new Error('connection lost');
              return tx.query(text, values) as never;
            },
          }),
        ),
    };
    const relay = createOutbox({ queue, client: flaky });
    open.push(relay);
    await note(outbox, 'once');
    const first = await relay.flush();
    expect(!first.ok && first.error.code).toBe('QUEUE_OUTBOX_FAILED');
    expect((await relay.pending()).ok && (await relay.pending())).toMatchObject({ value: 1 });
    const second = await relay.flush();
    expect(second.ok && second.value).toEqual({ relayed: 1, failed: 0 });
    queue.work();
    await vi.waitFor(() => expect(indexed).toEqual(['once']));
    const counts = await queue.counts();
    expect(counts.ok && counts.value['notes.index'].completed).toBe(1);
  });

  it('keeps a row whose job the relay cannot hand over, with the error, and relays the others', async () => {
    const producer = createQueue({ jobs: [indexNote, other] });
    const producerOutbox = createOutbox({ queue: producer, client: db as unknown as SqlClient });
    const { queue, outbox } = await setup(); // knows notes.index only
    open.push(producer, producerOutbox);
    await db.transaction(async (tx) => {
      await producerOutbox.enqueue(tx, other, {});
      await producerOutbox.enqueue(tx, indexNote, { id: 'fine' });
    });
    const report = await outbox.flush();
    expect(report.ok && report.value).toEqual({ relayed: 1, failed: 1 });
    const rows = await db.query<{ job: string; attempts: number; last_error: string }>(
      'SELECT job, attempts, last_error FROM prod_queue_outbox',
    );
    expect(rows.rows).toEqual([
      { job: 'notes.other', attempts: 1, last_error: "the relay's queue has no job of this name" },
    ]);
    const counts = await queue.counts();
    expect(counts.ok && counts.value['notes.index'].waiting).toBe(1);
  });

  it('keeps the delay of a job from the time it was written', async () => {
    const { queue, outbox } = await setup();
    await db.transaction((tx) => outbox.enqueue(tx, indexNote, { id: 'later' }, { delay: 60_000 }));
    await outbox.flush();
    const counts = await queue.counts();
    expect(counts.ok && counts.value['notes.index']).toMatchObject({ delayed: 1, waiting: 0 });
  });

  it('gives the table as a migration for a migrator, and refuses unsafe table names', async () => {
    const migration = outboxMigration({ table: 'app_jobs_outbox', version: '7' });
    expect(migration.version).toBe('7');
    expect(migration.up).toContain('CREATE TABLE IF NOT EXISTS "app_jobs_outbox"');
    await db.exec(migration.up);
    await db.exec(migration.up); // idempotent
    await db.exec(migration.down);
    expect(() => outboxMigration({ table: 'x; DROP TABLE notes' })).toThrowError(
      expect.objectContaining({ code: 'QUEUE_INVALID_OPTIONS' }),
    );
    const queue = createQueue({ jobs: [indexNote] });
    open.push(queue);
    expect(() =>
      createOutbox({ queue, client: db as unknown as SqlClient, table: 'Bad"Name' }),
    ).toThrowError(expect.objectContaining({ code: 'QUEUE_INVALID_OPTIONS' }));
    expect(() => createOutbox({ queue, client: {} as never })).toThrowError(
      expect.objectContaining({ code: 'QUEUE_INVALID_OPTIONS' }),
    );
    expect(() =>
      createOutbox({ queue: {} as never, client: db as unknown as SqlClient }),
    ).toThrowError(expect.objectContaining({ code: 'QUEUE_INVALID_OPTIONS' }));
  });

  it('gives the table as plain statements for another migration tool, each run on its own', async () => {
    const statements = outboxMigrationSql({ table: 'tool_outbox' });
    expect(statements).toHaveLength(2);
    expect(statements[0]).toMatch(/^CREATE TABLE IF NOT EXISTS "tool_outbox"/);
    expect(statements[1]).toMatch(/^CREATE INDEX IF NOT EXISTS "tool_outbox_due"/);
    for (const statement of statements) expect(statement).not.toContain(';');
    // Twice: idempotent, a second run throws nothing.
    for (const statement of [...statements, ...statements]) await db.query(statement);
    const queue = createQueue({ jobs: [indexNote] });
    open.push(queue);
    const outbox = createOutbox({
      queue,
      client: db as unknown as SqlClient,
      table: 'tool_outbox',
    });
    open.push(outbox);
    const written = await db.transaction((tx) => outbox.enqueue(tx, indexNote, { id: 'via-tool' }));
    expect(written.ok).toBe(true);
    const pending = await outbox.pending();
    expect(pending.ok && pending.value).toBe(1);
    await db.exec('DROP TABLE tool_outbox');
    expect(() => outboxMigrationSql({ table: 'x; DROP TABLE notes' })).toThrowError(
      expect.objectContaining({ code: 'QUEUE_INVALID_OPTIONS' }),
    );
  });
});
