import { optionChecks } from '@prod/core';
import { AuditErrors } from '../errors.js';
import { exclusive, withLock } from '../internal/connection.js';
import { serial } from '../internal/mutex.js';
import { recordsOf, withStored } from '../internal/records.js';
import { auditTableName } from '../migration.js';
import type { SqlClient, SqlQueryable } from '../sql-client.js';
import type { AuditRecord, AuditSink, ChainTail } from '../types.js';

/** Options of {@link postgresSink}. */
export interface PostgresSinkOptions {
  /**
   * A PGlite instance, a pg `Pool` (one connection per write), a pg `Client`, or @prod/db's
   * `SqlClient`. It may be shared with the rest of the application: see {@link SqlClient}.
   */
  readonly db: SqlClient;
  /** Default `audit_log` (create it with `applyAuditMigration`). */
  readonly table?: string;
  readonly schema?: string;
  /** Rows read per query by `read()`. Default 1000. */
  readonly pageSize?: number;
}

const check = optionChecks(AuditErrors.AUDIT_INVALID_OPTIONS);
const UNIQUE_VIOLATION = '23505';
// A locked write can still meet a writer on the fast path: retried, under the lock each time.
const ATTEMPTS = 20;
const CONTENDED_MS = 1000;

interface TailRow {
  seq: string | number;
  hash: string;
  checkpoint_seq: string | number | null;
  checkpoint_body: string | null;
}

/**
 * The PostgreSQL sink (pg or PGlite): an append-only table (see `applyAuditMigration`), one row
 * per record, committed with `synchronous_commit = on` before `record()` resolves.
 *
 * Several processes writing one chain keep one valid chain: the primary key `(chain, seq)`
 * refuses a second record at a seq, so a fork cannot be stored. A write first builds on the
 * tail this process last saw and inserts in one statement (one round trip when it is the only
 * writer); when another process has moved the tail, that insert fails on the key and the
 * write is redone under the chain's transaction-level advisory lock, reading the tail inside
 * the lock. Nothing half-written is ever visible: each write is one transaction, on one
 * connection that the other users of a shared client cannot step into (`db.transaction(fn)` on
 * PGlite and @prod/db's client, a checked-out pg `Pool` connection, and on a bare pg `Client` a
 * session-level advisory lock around single statements). `read(chain)` gives the records as
 * objects.
 *
 * @throws `AUDIT_INVALID_OPTIONS` without a client or with a bad table name.
 * @example
 * declare const pool: SqlClient; // new pg.Pool({ connectionString })
 * const migrated = await applyAuditMigration(pool);
 * const log = createAuditLog({ sink: postgresSink({ db: pool }), signingKey: 'a-32-byte-or-longer-secret-from-config' });
 */
export function postgresSink(options: PostgresSinkOptions): AuditSink {
  const given = check.object<PostgresSinkOptions>('options', options);
  const db = given.db;
  if (typeof db?.query !== 'function') check.fail('db', 'a SQL client ({ query })', db);
  const { qualified, bare } = auditTableName(given);
  const pageSize = check.integer('pageSize', given.pageSize, 1000, { min: 1, max: 100_000 });

  // One round trip for the tail and the last checkpoint (after the lock: a statement started
  // before the lock was granted could read a tail another writer has since moved).
  const tailOf = async (
    connection: SqlQueryable,
    chain: string,
  ): Promise<ChainTail | undefined> => {
    const found = await connection.query(
      `SELECT t.seq, t.hash, c.seq AS checkpoint_seq, c.body AS checkpoint_body
       FROM (SELECT seq, hash FROM ${qualified} WHERE chain = $1 ORDER BY seq DESC LIMIT 1) t
       LEFT JOIN LATERAL (
         SELECT seq, body FROM ${qualified} WHERE chain = $1 AND kind = 'checkpoint' ORDER BY seq DESC LIMIT 1
       ) c ON true`,
      [chain],
    );
    const row = found.rows[0] as TailRow | undefined;
    if (row === undefined) return undefined;
    return {
      seq: Number(row.seq),
      hash: row.hash,
      checkpoint:
        row.checkpoint_seq === null || row.checkpoint_body === null
          ? undefined
          : {
              seq: Number(row.checkpoint_seq),
              signature: (JSON.parse(row.checkpoint_body) as { signature: string }).signature,
            },
    };
  };

  // One statement: atomic on its own (autocommit) or inside a transaction. The CTE makes this
  // transaction commit with synchronous_commit = on, whatever the server's default, so the rows
  // are on disk when the statement returns.
  const insert = async (
    connection: SqlQueryable,
    records: readonly AuditRecord[],
  ): Promise<void> => {
    const values: unknown[] = [];
    const rows = records.map((record) => {
      const event = record.kind === 'event' ? record : undefined;
      values.push(
        record.chain,
        record.seq,
        record.kind,
        record.time,
        event?.action ?? null,
        event?.actor?.id ?? null,
        event?.outcome ?? null,
        event?.resource?.type ?? null,
        event?.resource?.id ?? null,
        record.hash,
        JSON.stringify(record),
      );
      const at = values.length - 11;
      const p = (i: number): string => `$${at + i}`;
      return `(${p(1)}::text, ${p(2)}::bigint, ${p(3)}::text, ${p(4)}::timestamptz, ${p(5)}::text, ${p(6)}::text, ${p(7)}::text, ${p(8)}::text, ${p(9)}::text, ${p(10)}::text, ${p(11)}::text)`;
    });
    await connection.query(
      `WITH durable AS (SELECT set_config('synchronous_commit', 'on', true))
       INSERT INTO ${qualified} (chain, seq, kind, recorded_at, action, actor_id, outcome, resource_type, resource_id, hash, body)
       SELECT v.* FROM durable, (VALUES ${rows.join(', ')}) AS v`,
      values,
    );
  };

  const pendingFrom =
    (connection: SqlQueryable, chain: string, tail: ChainTail | undefined) =>
    async (): Promise<AuditRecord[]> => {
      const result = await connection.query(
        `SELECT body FROM ${qualified} WHERE chain = $1 AND seq > $2 AND seq <= $3 ORDER BY seq`,
        [chain, tail?.checkpoint?.seq ?? 0, tail?.seq ?? 0],
      );
      return result.rows.map((row) => JSON.parse((row as { body: string }).body) as AuditRecord);
    };

  // What this process last wrote or read of each chain. Another process may have moved on:
  // the primary key tells (a unique violation), and the locked path takes over.
  const known = new Map<string, { tail: ChainTail; pending: AuditRecord[] | undefined }>();
  const remember = (
    chain: string,
    before: ChainTail | undefined,
    pendingBefore: AuditRecord[] | undefined,
    built: readonly AuditRecord[],
  ): void => {
    const last = built.at(-1);
    if (last === undefined) return;
    let checkpointAt = -1;
    built.forEach((record, index) => {
      if (record.kind === 'checkpoint') checkpointAt = index;
    });
    const checkpoint =
      checkpointAt >= 0 ? (built[checkpointAt] as AuditRecord & { signature: string }) : undefined;
    known.set(chain, {
      tail: {
        seq: last.seq,
        hash: last.hash,
        checkpoint:
          checkpoint === undefined
            ? before?.checkpoint
            : { seq: checkpoint.seq, signature: checkpoint.signature },
      },
      pending:
        checkpointAt >= 0
          ? built.slice(checkpointAt + 1)
          : pendingBefore === undefined
            ? undefined
            : [...pendingBefore, ...built],
    });
  };
  const contended = new Map<string, number>();
  const lock = serial();

  // The bodies of the chain's rows, in seq order, as stored (verify() reports those that are
  // not records).
  const bodies = async function* (chain: string): AsyncGenerator<string> {
    let after = 0;
    for (;;) {
      const page = await db.query(
        `SELECT seq, body FROM ${qualified} WHERE chain = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
        [chain, after, pageSize],
      );
      for (const row of page.rows as { seq: string | number; body: string }[]) {
        after = Number(row.seq);
        yield row.body;
      }
      if (page.rows.length < pageSize) return;
    }
  };

  const sink: AuditSink = {
    name: 'postgres',
    append(chain, build) {
      return lock(async () => {
        // Fast path: build on the tail this process knows and insert in one statement.
        const cached = known.get(chain);
        if (cached !== undefined && Date.now() >= (contended.get(chain) ?? 0)) {
          const built = await build({
            tail: cached.tail,
            pending: async () =>
              cached.pending ?? (await exclusive(db, pendingFrom(db, chain, cached.tail))),
          });
          try {
            if (built.length > 0) await exclusive(db, () => insert(db, built));
            remember(chain, cached.tail, cached.pending, built);
            return built;
          } catch (error) {
            if ((error as { code?: unknown }).code !== UNIQUE_VIOLATION) throw error;
            known.delete(chain);
            // Others write this chain now: queue behind the lock for a while instead of racing.
            contended.set(chain, Date.now() + CONTENDED_MS);
          }
        }
        // Locked path (first write, or another writer moved the tail): the chain's advisory
        // lock, the tail read under it, the insert (one statement), on one connection that no
        // other user of `db` can step into (see withLock).
        for (let attempt = 1; ; attempt++) {
          try {
            const [tail, built] = await withLock(
              db,
              `@prod/audit:${bare}:${chain}`,
              async (connection) => {
                const found = await tailOf(connection, chain);
                const records = await build({
                  tail: found,
                  pending: pendingFrom(connection, chain, found),
                });
                if (records.length > 0) await insert(connection, records);
                return [found, records] as const;
              },
            );
            remember(chain, tail, undefined, built);
            return built;
          } catch (error) {
            const code = (error as { code?: unknown }).code;
            if (code !== UNIQUE_VIOLATION || attempt >= ATTEMPTS) throw error;
            contended.set(chain, Date.now() + CONTENDED_MS);
          }
        }
      });
    },
    read: (chain) => recordsOf(bodies(chain), chain),
  };
  return withStored(sink, bodies);
}
