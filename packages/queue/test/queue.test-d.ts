import type { PGlite } from '@electric-sql/pglite';
import { ok, type Result } from '@prod/core';
import { type SqlClient as DbSqlClient, type PgPoolLike, toSqlClient } from '@prod/db';
import type { ShutdownHook } from '@prod/health';
import {
  createOutbox,
  createQueue,
  defineJob,
  type EnqueuedJob,
  type JobContext,
  type QueueError,
  type SqlClient,
} from '@prod/queue';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';

const welcome = defineJob({
  name: 'email.welcome',
  schema: z.object({ userId: z.string(), locale: z.string().default('en') }),
  handler: (payload, context) => {
    expectTypeOf(payload).toEqualTypeOf<{ userId: string; locale: string }>();
    expectTypeOf(context).toEqualTypeOf<JobContext>();
    return ok({ sent: true });
  },
});
const report = defineJob({ name: 'report.build', schema: z.object({ month: z.number() }) });
const queue = createQueue({ jobs: [welcome, report] });

describe('types', () => {
  it('names a job by its literal name', () => {
    expectTypeOf(welcome.name).toEqualTypeOf<'email.welcome'>();
  });

  it('types the payload of enqueue from the schema input, by definition or by name', () => {
    expectTypeOf(queue.enqueue(welcome, { userId: 'u1' })).toEqualTypeOf<
      Promise<Result<EnqueuedJob, QueueError>>
    >();
    void queue.enqueue('report.build', { month: 3 });
    // @ts-expect-error: userId must be a string
    void queue.enqueue(welcome, { userId: 1 });
    // @ts-expect-error: month is missing
    void queue.enqueue('report.build', {});
    // @ts-expect-error: no such job in this queue
    void queue.enqueue('nope', {});
    void queue.enqueueMany([
      { job: welcome, payload: { userId: 'u2' } },
      { job: 'report.build', payload: { month: 1 } },
    ]);
    // @ts-expect-error: the payload of report.build
    void queue.enqueueMany([{ job: 'report.build', payload: { userId: 'x' } }]);
  });

  it('requires handlers to return a Result', () => {
    defineJob({
      name: 'bad',
      schema: z.object({}),
      // @ts-expect-error: a handler returns a Result, not a plain value
      handler: () => 42,
    });
  });

  it('fits the SQL client shapes of @prod/db and PGlite, and the ShutdownHook of @prod/health', () => {
    expectTypeOf<DbSqlClient>().toExtend<SqlClient>();
    expectTypeOf<PGlite>().toExtend<SqlClient>();
    expectTypeOf(toSqlClient({} as PgPoolLike)).toExtend<SqlClient>();
    expectTypeOf(queue.shutdownHook()).toExtend<ShutdownHook>();
    const outbox = createOutbox({ queue, client: {} as SqlClient });
    expectTypeOf(outbox.shutdownHook()).toExtend<ShutdownHook>();
    void outbox.enqueue({} as SqlClient, welcome, { userId: 'u1' });
    // @ts-expect-error: the payload is typed in the outbox too
    void outbox.enqueue({} as SqlClient, 'report.build', { month: 'march' });
  });
});
