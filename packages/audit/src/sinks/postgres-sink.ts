import { optionChecks } from '@prod/core';
import { AuditErrors } from '../errors.js';
import { inTransaction } from '../internal/connection.js';
import { auditTableName, type SqlClient } from '../migration.js';
import type { AuditRecord, AuditSink, ChainTail } from '../types.js';

/** Options of {@link postgresSink}. */
export interface PostgresSinkOptions {
  /** A pg `Pool` (one connection per write), a pg `Client` or a PGlite instance. */
  readonly db: SqlClient;
  /** Default `audit_log` (create it with `applyAuditMigration`). */
  readonly table?: string;
  readonly schema?: string;
  /** Rows read per query by `read()`. Default 1000. */
  readonly pageSize?: number;
}

const check = optionChecks(AuditErrors.AUDIT_INVALID_OPTIONS);
const UNIQUE_VIOLATION = '23505';
const ATTEMPTS = 5;

interface TailRow {
  seq: string | number;
  hash: string;
}

/**
 * The PostgreSQL sink (pg or PGlite): an append-only table (see `applyAuditMigration`), one row
 * per record. Each write is one transaction that takes a transaction-level advisory lock on the
 * chain, reads the tail, inserts the new rows and commits (with `synchronous_commit = on`), so
 * `record()` resolves only once the rows are durable, and any number of processes writing the
 * same chain keep one valid chain. The primary key `(chain, seq)` refuses a fork even from a
 * writer that skipped the lock; such a write is retried on the new tail.
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

  const tailOf = async (connection: SqlClient, chain: string): Promise<ChainTail | undefined> => {
    const last = await connection.query(
      `SELECT seq, hash FROM ${qualified} WHERE chain = $1 ORDER BY seq DESC LIMIT 1`,
      [chain],
    );
    const row = last.rows[0] as TailRow | undefined;
    if (row === undefined) return undefined;
    const checkpoint = await connection.query(
      `SELECT seq, body FROM ${qualified} WHERE chain = $1 AND kind = 'checkpoint' ORDER BY seq DESC LIMIT 1`,
      [chain],
    );
    const found = checkpoint.rows[0] as { seq: string | number; body: string } | undefined;
    return {
      seq: Number(row.seq),
      hash: row.hash,
      checkpoint:
        found === undefined
          ? undefined
          : {
              seq: Number(found.seq),
              signature: (JSON.parse(found.body) as { signature: string }).signature,
            },
    };
  };

  const insert = async (connection: SqlClient, records: readonly AuditRecord[]): Promise<void> => {
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
      const base = values.length - 11;
      return `(${Array.from({ length: 11 }, (_, i) => `$${base + i + 1}`).join(', ')})`;
    });
    await connection.query(
      `INSERT INTO ${qualified} (chain, seq, kind, recorded_at, action, actor_id, outcome, resource_type, resource_id, hash, body) VALUES ${rows.join(', ')}`,
      values,
    );
  };

  return {
    name: 'postgres',
    async append(chain, build) {
      for (let attempt = 1; ; attempt++) {
        try {
          return await inTransaction(db, async (connection) => {
            // Durable before the promise resolves, whatever the server's default.
            await connection.query('SET LOCAL synchronous_commit = on');
            await connection.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
              `@prod/audit:${bare}:${chain}`,
            ]);
            const tail = await tailOf(connection, chain);
            const built = await build({
              tail,
              pending: async () => {
                const since = tail?.checkpoint?.seq ?? 0;
                const result = await connection.query(
                  `SELECT body FROM ${qualified} WHERE chain = $1 AND seq > $2 ORDER BY seq`,
                  [chain, since],
                );
                return result.rows.map(
                  (row) => JSON.parse((row as { body: string }).body) as AuditRecord,
                );
              },
            });
            if (built.length > 0) await insert(connection, built);
            return built;
          });
        } catch (error) {
          const code = (error as { code?: unknown }).code;
          if (code !== UNIQUE_VIOLATION || attempt >= ATTEMPTS) throw error;
        }
      }
    },
    async *read(chain) {
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
    },
  };
}
