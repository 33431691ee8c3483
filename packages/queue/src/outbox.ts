import { err, isThenable, ok, optionChecks, type Result, withDeadline } from '@prod/core';
import { type Backoff, exponentialBackoff } from '@prod/errors';
import { INTERNALS, type Queue, type QueueInternals } from './create-queue.js';
import { QueueErrors } from './errors.js';
import type {
  AnyJobDefinition,
  EnqueueOptions,
  PayloadInput,
  QueueError,
  QueueLogger,
  SqlClient,
  SqlQueryable,
} from './types.js';

/** Options of {@link createOutbox}. */
export interface OutboxOptions<TJob extends AnyJobDefinition> {
  /** The queue the relay hands the jobs to. */
  readonly queue: Queue<TJob>;
  /**
   * Where the outbox table is: PGlite, or a pg `Pool` through `toSqlClient()` of @prod/db (any
   * client with `query` and `transaction`). The relay reads and deletes rows with it.
   */
  readonly client: SqlClient;
  /** The table, optionally schema-qualified (`app.job_outbox`). Default `prod_queue_outbox`. */
  readonly table?: string;
  /** How often the relay looks for rows when the last look found none. Default 500 ms. */
  readonly pollIntervalMs?: number;
  /** Rows relayed per transaction. Default 100. */
  readonly batchSize?: number;
  /**
   * Wait before a row whose relay failed (the queue's engine was away) is tried again.
   * Default `exponentialBackoff({ initialDelayMs: 1000, maxDelayMs: 60_000 })`.
   */
  readonly retryBackoff?: Backoff;
  /** Where relay trouble is logged. Default the queue's logger. */
  readonly logger?: QueueLogger;
}

/** What one relay pass did. */
export interface RelayReport {
  /** Rows handed to the queue and deleted. */
  readonly relayed: number;
  /** Rows kept for a later try (the queue refused them or was away). */
  readonly failed: number;
}

/** Jobs written in the caller's transaction, relayed to the queue once it commits. */
export interface Outbox<TJob extends AnyJobDefinition = AnyJobDefinition> {
  /** The table, as quoted in SQL. */
  readonly table: string;
  /**
   * Validates the job as `queue.enqueue` does and inserts it into the outbox **inside `tx`**,
   * the transaction of the data change: it is relayed only if that transaction commits, and
   * it stays in the table until the queue has it.
   *
   * @returns `Ok({ outboxId })`; `Err` `JOB_PAYLOAD_INVALID`, `JOB_PAYLOAD_TOO_LARGE`,
   * `JOB_UNKNOWN` (nothing written), `QUEUE_OUTBOX_FAILED` (the insert failed: roll back).
   */
  enqueue<TDefinition extends TJob>(
    tx: SqlQueryable,
    job: TDefinition | TDefinition['name'],
    payload: PayloadInput<TDefinition['schema']>,
    options?: EnqueueOptions,
  ): Promise<Result<{ readonly outboxId: string }, QueueError>>;
  /** Creates the table and its index if missing (or run {@link outboxMigration} with your migrator). */
  install(): Promise<Result<void, QueueError>>;
  /** Starts the relay. */
  start(): void;
  /** Relays what is due now, in batches, until none is left or a batch fails. */
  flush(): Promise<Result<RelayReport, QueueError>>;
  /** Rows waiting in the outbox. */
  pending(): Promise<Result<number, QueueError>>;
  /** Stops the relay (after the batch in flight). Rows left stay for the next start. */
  close(): Promise<void>;
  /** {@link close} as a @prod/health shutdown hook; register it after the queue's (hooks run in reverse). */
  shutdownHook(options?: { readonly name?: string }): {
    readonly name: string;
    readonly timeout: number;
    close(signal: AbortSignal): Promise<void>;
  };
}

const check = optionChecks(QueueErrors.QUEUE_INVALID_OPTIONS);
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

function quoteTable(table: string): string | undefined {
  const parts = table.split('.');
  if (parts.length > 2 || !parts.every((part) => IDENTIFIER.test(part))) return undefined;
  return parts.map((part) => `"${part}"`).join('.');
}

/** The `table` option, checked, and as quoted in SQL (`QUEUE_INVALID_OPTIONS` otherwise). */
function outboxTable(value: unknown): { readonly table: string; readonly quoted: string } {
  const table = check.string('table', value, 'prod_queue_outbox', { nonEmpty: true });
  const quoted = quoteTable(table);
  if (quoted === undefined) {
    check.fail('table', 'a lower-case identifier, optionally schema-qualified', table);
  }
  return { table, quoted: quoted as string };
}

function indexName(table: string): string {
  return `"${table.split('.').at(-1)}_due"`;
}

/** The DDL of an outbox table, as statements (idempotent: `IF NOT EXISTS`). */
function ddl(quoted: string, table: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${quoted} (
  id bigserial PRIMARY KEY,
  job text NOT NULL,
  data text NOT NULL,
  priority integer NOT NULL DEFAULT 0,
  idempotency_key text,
  run_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now(),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error text
)`,
    `CREATE INDEX IF NOT EXISTS ${indexName(table)} ON ${quoted} (next_attempt_at, id)`,
  ];
}

/**
 * The outbox table as SQL statements, for your migration tool (node-pg-migrate, Flyway,
 * @prod/db), as @prod/audit's `auditMigrationSql()` and @prod/security's
 * `apiKeyMigrationSql()` are. Idempotent.
 *
 * Throws `QUEUE_INVALID_OPTIONS` for a table name that is not a plain (optionally
 * schema-qualified) lower-case identifier.
 *
 * @example
 * for (const statement of outboxMigrationSql({ table: 'job_outbox' })) console.log(`${statement};`);
 */
export function outboxMigrationSql(options: { readonly table?: string } = {}): string[] {
  const given = check.object<{ table?: string }>('options', options);
  const { table, quoted } = outboxTable(given.table);
  return ddl(quoted, table);
}

/** Options of {@link outboxMigration}. */
export interface OutboxMigrationOptions {
  /** Default `prod_queue_outbox`. */
  readonly table?: string;
  /** The migration's version in your sequence. Default `'1'`. */
  readonly version?: string;
}

/**
 * The outbox table as a migration definition (`{ version, name, up, down }`), for
 * `createMigrator({ migrations: [...] })` of @prod/db or any migrator that runs SQL text.
 *
 * Throws `QUEUE_INVALID_OPTIONS` for a table name that is not a plain (optionally
 * schema-qualified) lower-case identifier.
 *
 * @example
 * const migration = outboxMigration({ version: '7' });
 * console.log(migration.up); // CREATE TABLE IF NOT EXISTS "prod_queue_outbox" ...
 */
export function outboxMigration(options: OutboxMigrationOptions = {}): {
  readonly version: string;
  readonly name: string;
  readonly up: string;
  readonly down: string;
} {
  const given = check.object<OutboxMigrationOptions>('options', options);
  const { table, quoted } = outboxTable(given.table);
  const version = check.string('version', given.version, '1', { nonEmpty: true });
  return Object.freeze({
    version,
    name: `create ${table}`,
    up: `${ddl(quoted, table).join(';\n')};`,
    down: `DROP TABLE ${quoted}`,
  });
}

const cut = (text: string, max: number): string =>
  text.length > max ? `${text.slice(0, max)}...` : text;

/**
 * A transactional outbox in front of a queue: `outbox.enqueue(tx, job, payload)` writes the
 * job in the same PostgreSQL (or PGlite) transaction as the data change, so a rolled-back
 * change sends nothing and a committed one is never lost; the relay moves committed rows to
 * the queue and deletes them, each under an idempotency key, so a relay that crashes
 * between the two sends the job once. Several instances relay at once without collisions
 * (`FOR UPDATE SKIP LOCKED`).
 *
 * Throws `QUEUE_INVALID_OPTIONS` for a bad option.
 *
 * @example
 * declare const db: SqlClient;
 * declare const queue: Queue<JobDefinition<'notes.index', PayloadSchema<{ id: string }, { id: string }>>>;
 * const outbox = createOutbox({ queue, client: db });
 * await outbox.install();
 * outbox.start();
 * await db.transaction(async (tx) => {
 *   await tx.query('INSERT INTO notes (id, title) VALUES ($1, $2)', ['n1', 'Hello']);
 *   const queued = await outbox.enqueue(tx, 'notes.index', { id: 'n1' });
 *   if (!queued.ok) throw queued.error; // rolls the note back too
 * });
 */
export function createOutbox<TJob extends AnyJobDefinition>(
  options: OutboxOptions<TJob>,
): Outbox<TJob> {
  const given = check.object<OutboxOptions<TJob>>('options', options);
  const internals = (given.queue as unknown as { [INTERNALS]?: QueueInternals } | undefined)?.[
    INTERNALS
  ];
  if (internals === undefined) check.fail('queue', 'a queue made by createQueue', given.queue);
  const client = given.client;
  if (
    typeof client !== 'object' ||
    client === null ||
    typeof client.query !== 'function' ||
    typeof client.transaction !== 'function'
  ) {
    check.fail(
      'client',
      'a SQL client with query() and transaction() (PGlite, toSqlClient(pool))',
      client,
    );
  }
  const { table, quoted } = outboxTable(given.table);
  const pollIntervalMs = check.duration('pollIntervalMs', given.pollIntervalMs, 500, { min: 1 });
  const batchSize = check.integer('batchSize', given.batchSize, 100, { min: 1, max: 10_000 });
  const retryBackoff =
    check.fn<Backoff>('retryBackoff', given.retryBackoff) ??
    exponentialBackoff({ initialDelayMs: 1000, maxDelayMs: 60_000 });
  const logger = given.logger ?? (internals as QueueInternals).logger;
  const inner = internals as QueueInternals;
  const known = new Set<string>(given.queue.jobs.map((job) => job.name));
  const t = quoted;

  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = false;
  let closed = false;
  let inFlight: Promise<unknown> = Promise.resolve();
  let lastWarning = 0;

  const failed = (message: string, cause: unknown): QueueError =>
    QueueErrors.QUEUE_OUTBOX_FAILED({
      message: `${message}: ${cause instanceof Error ? cause.message : String(cause)}`,
      cause,
      captureStack: false,
    });

  /** One batch in one transaction: how many rows were relayed and kept. */
  const batch = (): Promise<RelayReport> =>
    client.transaction(async (tx) => {
      const { rows } = await tx.query(
        `SELECT id::text AS id, job, data, priority, idempotency_key, attempts,
                GREATEST(0, EXTRACT(EPOCH FROM (run_at - now())) * 1000)::float8 AS delay_ms
           FROM ${t} WHERE next_attempt_at <= now() ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [batchSize],
      );
      if (rows.length === 0) return { relayed: 0, failed: 0 };
      const deliverable = rows.filter((row) => known.has(String(row.job)));
      const unknown = rows.filter((row) => !known.has(String(row.job)));
      const keep = async (list: typeof rows, reason: string): Promise<void> => {
        if (list.length === 0) return;
        const attempts = Math.max(...list.map((row) => Number(row.attempts) || 0)) + 1;
        const delay = Math.max(0, Math.round(retryBackoff(attempts, 0)));
        await tx.query(
          `UPDATE ${t} SET attempts = attempts + 1, last_error = $2,
                  next_attempt_at = now() + ($3::text || ' milliseconds')::interval
            WHERE id = ANY($1::bigint[])`,
          [list.map((row) => String(row.id)), cut(reason, 1000), String(delay)],
        );
      };
      await keep(unknown, `the relay's queue has no job of this name`);
      if (deliverable.length === 0) return { relayed: 0, failed: unknown.length };
      const added = await inner.addFromOutbox(
        deliverable.map((row) => ({
          name: String(row.job),
          json: String(row.data),
          delay: Math.round(Number(row.delay_ms) || 0),
          priority: Number(row.priority) || 0,
          idempotencyKey:
            row.idempotency_key === null || row.idempotency_key === undefined
              ? `outbox\u0000${table}\u0000${String(row.id)}`
              : String(row.idempotency_key),
        })),
      );
      if (!added.ok) {
        await keep(deliverable, `${added.error.code}: ${added.error.message}`);
        return { relayed: 0, failed: rows.length };
      }
      await tx.query(`DELETE FROM ${t} WHERE id = ANY($1::bigint[])`, [
        deliverable.map((row) => String(row.id)),
      ]);
      return { relayed: deliverable.length, failed: unknown.length };
    });

  const flushNow = async (): Promise<Result<RelayReport, QueueError>> => {
    let relayed = 0;
    let kept = 0;
    for (;;) {
      let report: RelayReport;
      try {
        report = await batch();
      } catch (error) {
        return err(failed(`relaying from ${table} failed`, error));
      }
      relayed += report.relayed;
      kept += report.failed;
      if (report.relayed + report.failed < batchSize || report.relayed === 0) break;
    }
    return ok({ relayed, failed: kept });
  };

  // One relay pass at a time in this process (other instances are kept apart by the locks).
  const flush = (): Promise<Result<RelayReport, QueueError>> => {
    const next = inFlight.then(flushNow, flushNow);
    inFlight = next.catch(() => {});
    return next;
  };

  const loop = async (): Promise<void> => {
    timer = undefined;
    if (closed || !running) return;
    const report = await flush();
    if (!report.ok || report.value.failed > 0) {
      const now = Date.now();
      if (now - lastWarning > 5000) {
        lastWarning = now;
        const error = report.ok ? undefined : report.error;
        logger?.warn(
          report.ok ? { kept: report.value.failed } : { err: report.error },
          'queue: the outbox relay could not hand over every row; they stay for a retry',
        );
        if (error !== undefined) inner.events.emit('error', { source: 'outbox', error });
      }
    }
    if (closed || !running) return;
    timer = setTimeout(() => void loop(), pollIntervalMs);
    timer.unref?.();
  };

  const outbox: Outbox<TJob> = {
    table: t,
    async enqueue(tx, job, payload, enqueueOptions) {
      if (typeof tx !== 'object' || tx === null || typeof tx.query !== 'function') {
        check.fail('tx', 'the transaction of the data change (an object with query())', tx);
      }
      let ready = inner.prepareForOutbox(job, payload, enqueueOptions);
      if (isThenable(ready)) ready = await ready;
      if (!ready.ok) return ready;
      const delay = Math.round(enqueueOptions?.delay ?? 0);
      try {
        const { rows } = await tx.query(
          `INSERT INTO ${t} (job, data, priority, idempotency_key, run_at)
           VALUES ($1, $2, $3, $4, now() + ($5::text || ' milliseconds')::interval) RETURNING id::text AS id`,
          [
            ready.value.name,
            ready.value.json,
            ready.value.priority,
            ready.value.idempotencyKey ?? null,
            String(delay),
          ],
        );
        return ok({ outboxId: String(rows[0]?.id) });
      } catch (error) {
        return err(failed(`writing to ${table} failed (roll the transaction back)`, error));
      }
    },
    async install() {
      try {
        for (const statement of ddl(t, table)) await client.query(statement);
        return ok(undefined);
      } catch (error) {
        return err(failed(`creating ${table} failed`, error));
      }
    },
    start() {
      if (closed) throw QueueErrors.QUEUE_CLOSED({ message: 'the outbox is closed' });
      if (running) return;
      running = true;
      void loop();
    },
    flush() {
      if (closed)
        return Promise.resolve(
          err(QueueErrors.QUEUE_CLOSED({ message: 'the outbox is closed', captureStack: false })),
        );
      return flush();
    },
    async pending() {
      try {
        const { rows } = await client.query(`SELECT count(*)::int AS n FROM ${t}`);
        return ok(Number(rows[0]?.n ?? 0));
      } catch (error) {
        return err(failed(`reading ${table} failed`, error));
      }
    },
    async close() {
      closed = true;
      running = false;
      if (timer !== undefined) clearTimeout(timer);
      await inFlight;
    },
    shutdownHook(hookOptions = {}) {
      const name = check.string(
        'name',
        check.object<{ name?: string }>('options', hookOptions).name,
        'outbox',
        {
          nonEmpty: true,
        },
      );
      return {
        name,
        timeout: 10_000,
        close: async () => {
          await withDeadline(() => outbox.close(), { timeoutMs: 9_000, unref: true });
        },
      };
    },
  };
  return outbox;
}
