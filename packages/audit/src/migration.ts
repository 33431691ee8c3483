import { fromPromise, optionChecks, type ProdError, type Result } from '@prod/core';
import { AuditErrors } from './errors.js';
import { atomically } from './internal/connection.js';
import type { SqlClient } from './sql-client.js';

/** Options of {@link auditMigrationSql} and {@link applyAuditMigration}. */
export interface AuditMigrationOptions {
  /** Table name. Default `audit_log`. */
  readonly table?: string;
  /** Schema; default: the connection's `search_path`. */
  readonly schema?: string;
  /**
   * The role the application writes with (it must exist). It gets `SELECT, INSERT` and nothing
   * else: `UPDATE`, `DELETE` and `TRUNCATE` are revoked, so even a compromised application
   * cannot rewrite history. Run the migration as the table's owner, another role.
   */
  readonly writerRole?: string;
}

const check = optionChecks(AuditErrors.AUDIT_INVALID_OPTIONS);
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** The quoted, schema-qualified table name, and the bare name (for index names). */
export function auditTableName(options: Pick<AuditMigrationOptions, 'table' | 'schema'>): {
  readonly qualified: string;
  readonly bare: string;
} {
  const table = check.string('table', options.table, 'audit_log', { nonEmpty: true });
  if (!IDENTIFIER.test(table)) check.fail('table', 'a lower-case SQL identifier', table);
  const schema =
    options.schema === undefined ? undefined : check.string('schema', options.schema, '');
  if (schema !== undefined && !IDENTIFIER.test(schema))
    check.fail('schema', 'a lower-case SQL identifier', schema);
  return { qualified: schema === undefined ? `"${table}"` : `"${schema}"."${table}"`, bare: table };
}

/**
 * The migration as SQL statements, to run with your migration tool (node-pg-migrate, Flyway,
 * @prod/db): an append-only table with one row per record, keyed by `(chain, seq)`, a trigger
 * that refuses `UPDATE`, `DELETE` and `TRUNCATE` for every role (the owner included, until
 * they drop it), and the grants of `writerRole`. Idempotent.
 *
 * @throws `AUDIT_INVALID_OPTIONS` for a table, schema or role that is not a plain identifier.
 */
export function auditMigrationSql(options: AuditMigrationOptions = {}): string[] {
  const { qualified, bare } = auditTableName(options);
  const role = options.writerRole;
  if (role !== undefined && (typeof role !== 'string' || !IDENTIFIER.test(role))) {
    check.fail('writerRole', 'a lower-case SQL identifier', role);
  }
  const guard =
    options.schema === undefined
      ? `"${bare}_append_only"`
      : `"${options.schema}"."${bare}_append_only"`;
  const statements = [
    `CREATE TABLE IF NOT EXISTS ${qualified} (
  chain text NOT NULL,
  seq bigint NOT NULL CHECK (seq > 0),
  kind text NOT NULL CHECK (kind IN ('event', 'checkpoint')),
  recorded_at timestamptz NOT NULL,
  action text,
  actor_id text,
  outcome text,
  resource_type text,
  resource_id text,
  hash char(64) NOT NULL,
  body text NOT NULL,
  PRIMARY KEY (chain, seq)
)`,
    `CREATE INDEX IF NOT EXISTS "${bare}_checkpoints" ON ${qualified} (chain, seq) WHERE kind = 'checkpoint'`,
    `CREATE INDEX IF NOT EXISTS "${bare}_actor" ON ${qualified} (actor_id, recorded_at)`,
    `CREATE INDEX IF NOT EXISTS "${bare}_resource" ON ${qualified} (resource_type, resource_id, recorded_at)`,
    `CREATE OR REPLACE FUNCTION ${guard}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$`,
    `CREATE OR REPLACE TRIGGER "${bare}_no_update" BEFORE UPDATE OR DELETE ON ${qualified} FOR EACH ROW EXECUTE FUNCTION ${guard}()`,
    `CREATE OR REPLACE TRIGGER "${bare}_no_truncate" BEFORE TRUNCATE ON ${qualified} FOR EACH STATEMENT EXECUTE FUNCTION ${guard}()`,
    `REVOKE UPDATE, DELETE, TRUNCATE ON ${qualified} FROM PUBLIC`,
  ];
  if (role !== undefined) {
    statements.push(
      `GRANT SELECT, INSERT ON ${qualified} TO "${role}"`,
      `REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON ${qualified} FROM "${role}"`,
    );
  }
  return statements;
}

/**
 * Applies {@link auditMigrationSql} through a SQL client (a pg `Pool` or `Client`, PGlite,
 * @prod/db's `SqlClient`) in one transaction, on one connection that other users of a shared
 * client cannot step into (see {@link SqlClient}). Safe to run on every start and from several
 * instances at once.
 *
 * @returns `Ok` once the table exists; `Err` (`UNAVAILABLE` when the server cannot be reached,
 * else the database's error as `INTERNAL`).
 * @example
 * declare const db: SqlClient;
 * const migrated = await applyAuditMigration(db, { writerRole: 'app_writer' });
 * if (!migrated.ok) throw migrated.error;
 */
export async function applyAuditMigration(
  db: SqlClient,
  options: AuditMigrationOptions = {},
): Promise<Result<void, ProdError>> {
  if (typeof db?.query !== 'function') check.fail('db', 'a SQL client ({ query })', db);
  const { bare } = auditTableName(options);
  const statements = auditMigrationSql(options);
  // Concurrent first starts race on the catalog: a transaction-level lock serializes them,
  // and DDL is transactional in PostgreSQL, so a failed run leaves nothing half-made.
  return fromPromise(atomically(db, `@prod/audit:migration:${bare}`, statements));
}
