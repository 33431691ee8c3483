import { err, ok, type ProdError, type Result } from '@prod/core';
import { DbErrors } from './errors.js';
import { isConnectionError, serverFields } from './internal/pg-errors.js';
import { quoteIdent } from './internal/sql.js';
import { type SqlClient, type SqlQueryable, type SqlSource, toSqlClient } from './sql-client.js';
import {
  compareDigests,
  digestTables,
  type TableComparison,
  type TableDigest,
} from './table-digest.js';

/** A row-level or structural problem {@link checkConstraints} found. */
export interface ConstraintViolation {
  /**
   * `foreign-key`: rows whose reference has no target; `not-valid`: a NOT VALID constraint
   * that existing rows break; `index` / `heap`: amcheck found corruption.
   */
  readonly kind: 'foreign-key' | 'not-valid' | 'index' | 'heap';
  /** `schema.table` */
  readonly table: string;
  /** The constraint or index name. */
  readonly name: string;
  /** Offending rows, when counted. */
  readonly rows?: number;
  readonly message: string;
}

/** What {@link checkConstraints} checked and found. */
export interface ConstraintReport {
  readonly ok: boolean;
  readonly violations: readonly ConstraintViolation[];
  readonly checked: {
    readonly foreignKeys: number;
    readonly notValid: number;
    readonly indexes: number;
    readonly tables: number;
  };
  /** `checked`, or why amcheck could not run (not installable here, PGlite, no privilege). */
  readonly amcheck: 'checked' | 'skipped' | { readonly unavailable: string };
}

/** Options of {@link checkConstraints}. */
export interface ConstraintOptions {
  /** Only these schemas. Default every schema but the system ones. */
  readonly schemas?: readonly string[];
  /** Run amcheck (`bt_index_check`, and `verify_heapam` from PostgreSQL 14) when available. Default true. */
  readonly amcheck?: boolean;
  /** `lock_timeout` while validating a NOT VALID constraint. Default 5000 ms. */
  readonly lockTimeoutMs?: number;
}

/** What {@link verifyIntegrity} found. */
export interface IntegrityReport {
  /** Every table equal on both sides (rows and content) and no constraint violation on either. */
  readonly identical: boolean;
  readonly tables: readonly TableComparison[];
  readonly constraints: { readonly a: ConstraintReport; readonly b: ConstraintReport };
}

const ROLLBACK = Symbol('rollback');

/** Runs `fn` in a transaction that is always rolled back; returns what `fn` returned. */
async function rolledBack<TValue>(
  db: SqlClient,
  fn: (tx: SqlQueryable) => Promise<TValue>,
): Promise<TValue> {
  let value: TValue | undefined;
  try {
    await db.transaction(async (tx) => {
      value = await fn(tx);
      throw ROLLBACK;
    });
  } catch (error) {
    if (error !== ROLLBACK) throw error;
  }
  return value as TValue;
}

function failure(what: string, error: unknown): ProdError {
  const fields = serverFields(error);
  const factory = isConnectionError(error) ? DbErrors.DB_UNAVAILABLE : DbErrors.DB_QUERY_FAILED;
  return factory({
    message: `${what}: ${fields.message}`,
    details: {
      reason: fields.message,
      ...(fields.code === undefined ? {} : { sqlState: fields.code }),
    },
    cause: error,
  });
}

const SCHEMA_FILTER = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
  AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))`;

interface ForeignKeyRow {
  readonly schema: string;
  readonly table: string;
  readonly name: string;
  readonly validated: boolean;
  readonly kind: string;
  readonly ref_schema: string | null;
  readonly ref_table: string | null;
  readonly columns: string[] | null;
  readonly ref_columns: string[] | null;
}

const CONSTRAINTS = `
  SELECT n.nspname AS schema, c.relname AS table, con.conname AS name, con.convalidated AS validated,
         con.contype::text AS kind, rn.nspname AS ref_schema, rc.relname AS ref_table,
         (SELECT array_agg(a.attname::text ORDER BY k.i) FROM unnest(con.conkey) WITH ORDINALITY AS k(num, i)
            JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num) AS columns,
         (SELECT array_agg(a.attname::text ORDER BY k.i) FROM unnest(con.confkey) WITH ORDINALITY AS k(num, i)
            JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num) AS ref_columns
    FROM pg_constraint con
    JOIN pg_class c ON c.oid = con.conrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_class rc ON rc.oid = con.confrelid
    LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
   WHERE con.contype IN ('f', 'c') AND ${SCHEMA_FILTER}
   ORDER BY 1, 2, 3`;

/**
 * Checks what the catalog promises about the data: every foreign key (an anti-join counting
 * orphan rows, the check `session_replication_role = replica` or disabled triggers skip),
 * every NOT VALID constraint (validated in a transaction that is rolled back, so the
 * constraint stays NOT VALID), and with amcheck, every B-tree index and heap (amcheck is
 * created inside the same rolled-back transaction when it is not installed).
 *
 * @returns `Ok(ConstraintReport)` (violations are data, not errors), or `Err`
 *   `DB_UNAVAILABLE` / `DB_QUERY_FAILED`.
 */
export async function checkConstraints(
  source: SqlSource,
  options: ConstraintOptions = {},
): Promise<Result<ConstraintReport, ProdError>> {
  const db = toSqlClient(source);
  const schemas = options.schemas === undefined ? null : [...options.schemas];
  const lockTimeout = Math.max(1, Math.round(options.lockTimeoutMs ?? 5000));
  const violations: ConstraintViolation[] = [];
  let rows: ForeignKeyRow[];
  try {
    rows = (await db.query(CONSTRAINTS, [schemas])).rows as unknown as ForeignKeyRow[];
  } catch (error) {
    return err(failure('cannot list the constraints', error));
  }
  let foreignKeys = 0;
  let notValid = 0;
  for (const con of rows) {
    const table = `${con.schema}.${con.table}`;
    const qualified = `${quoteIdent(con.schema)}.${quoteIdent(con.table)}`;
    if (!con.validated) {
      notValid += 1;
      try {
        const problem = await rolledBack(db, async (tx) => {
          await tx.query(`SET LOCAL lock_timeout = ${lockTimeout}`);
          try {
            await tx.query(`ALTER TABLE ${qualified} VALIDATE CONSTRAINT ${quoteIdent(con.name)}`);
            return undefined;
          } catch (error) {
            const code = serverFields(error).code;
            if (code === '23503' || code === '23514') return serverFields(error).message;
            throw error;
          }
        });
        if (problem !== undefined)
          violations.push({ kind: 'not-valid', table, name: con.name, message: problem });
      } catch (error) {
        return err(failure(`cannot validate ${con.name} on ${table}`, error));
      }
      continue;
    }
    if (
      con.kind !== 'f' ||
      con.columns === null ||
      con.ref_columns === null ||
      con.ref_table === null
    )
      continue;
    foreignKeys += 1;
    const child = con.columns.map((name) => `c.${quoteIdent(name)}`);
    const parent = con.ref_columns.map((name) => `p.${quoteIdent(name)}`);
    const text = `SELECT count(*)::int AS n FROM ${qualified} AS c
       WHERE ${child.map((column) => `${column} IS NOT NULL`).join(' AND ')}
         AND NOT EXISTS (SELECT 1 FROM ${quoteIdent(con.ref_schema ?? 'public')}.${quoteIdent(con.ref_table)} AS p
                          WHERE ${parent.map((column, i) => `${column} = ${child[i]}`).join(' AND ')})`;
    try {
      const orphans = Number((await db.query(text)).rows[0]?.n ?? 0);
      if (orphans > 0) {
        violations.push({
          kind: 'foreign-key',
          table,
          name: con.name,
          rows: orphans,
          message: `${orphans} row(s) of ${table} reference missing rows of ${con.ref_schema}.${con.ref_table}`,
        });
      }
    } catch (error) {
      return err(failure(`cannot check ${con.name} on ${table}`, error));
    }
  }
  let amcheck: ConstraintReport['amcheck'] = 'skipped';
  let indexes = 0;
  let tables = 0;
  if (options.amcheck !== false) {
    try {
      const outcome = await rolledBack(db, async (tx) => {
        try {
          await tx.query('SAVEPOINT prod_db_amcheck');
          await tx.query('CREATE EXTENSION IF NOT EXISTS amcheck');
        } catch (error) {
          return { unavailable: serverFields(error).message } as const;
        }
        const found = await tx.query(
          `SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS kind, c.oid::int8 AS oid
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             LEFT JOIN pg_am am ON am.oid = c.relam
            WHERE ((c.relkind = 'i' AND am.amname = 'btree') OR c.relkind IN ('r', 'm'))
              AND c.relpersistence <> 't' AND ${SCHEMA_FILTER}
            ORDER BY 1, 2`,
          [schemas],
        );
        const heap = await tx.query("SELECT to_regproc('verify_heapam') IS NOT NULL AS present");
        const hasHeap = heap.rows[0]?.present === true;
        for (const rel of found.rows as Array<{
          schema: string;
          name: string;
          kind: string;
          oid: string;
        }>) {
          const where = `${rel.schema}.${rel.name}`;
          if (rel.kind === 'i') {
            indexes += 1;
            try {
              await tx.query('SAVEPOINT prod_db_check');
              await tx.query('SELECT bt_index_check($1::oid::regclass)', [rel.oid]);
              await tx.query('RELEASE SAVEPOINT prod_db_check');
            } catch (error) {
              await tx.query('ROLLBACK TO SAVEPOINT prod_db_check');
              violations.push({
                kind: 'index',
                table: where,
                name: rel.name,
                message: serverFields(error).message,
              });
            }
          } else if (hasHeap) {
            tables += 1;
            const corrupt = await tx.query(
              'SELECT blkno, offnum, msg FROM verify_heapam($1::oid::regclass) LIMIT 5',
              [rel.oid],
            );
            for (const row of corrupt.rows) {
              violations.push({
                kind: 'heap',
                table: where,
                name: rel.name,
                message: `block ${row.blkno}, offset ${row.offnum}: ${row.msg}`,
              });
            }
          }
        }
        return 'checked' as const;
      });
      amcheck = outcome;
    } catch (error) {
      return err(failure('cannot run amcheck', error));
    }
  }
  return ok({
    ok: violations.length === 0,
    violations,
    checked: { foreignKeys, notValid, indexes, tables },
    amcheck,
  });
}

/** Digests every table of `db` in one REPEATABLE READ snapshot. */
export async function snapshotDigests(
  db: SqlClient,
  schemas: readonly string[] | undefined,
): Promise<TableDigest[]> {
  return rolledBack(db, async (tx) => {
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    return digestTables(tx, schemas === undefined ? {} : { schemas });
  });
}

/**
 * Compares two databases table by table (row counts and a SHA-256 of the ordered rows, each
 * side read in one consistent snapshot) and checks the constraints of both
 * ({@link checkConstraints}). Works between any two {@link SqlSource}s: PostgreSQL and PGlite,
 * a primary and a restored copy, before and after a migration.
 *
 * @example
 * declare const primary: SqlSource;
 * declare const restored: SqlSource;
 * const report = await verifyIntegrity(primary, restored, { schemas: ['public'] });
 * if (report.ok && !report.value.identical) {
 *   console.log(report.value.tables.filter((t) => t.status !== 'same'));
 * }
 */
export async function verifyIntegrity(
  a: SqlSource,
  b: SqlSource,
  options: ConstraintOptions = {},
): Promise<Result<IntegrityReport, ProdError>> {
  let left: TableDigest[];
  let right: TableDigest[];
  try {
    left = await snapshotDigests(toSqlClient(a), options.schemas);
  } catch (error) {
    return err(failure('cannot digest the tables of database a', error));
  }
  try {
    right = await snapshotDigests(toSqlClient(b), options.schemas);
  } catch (error) {
    return err(failure('cannot digest the tables of database b', error));
  }
  const constraintsA = await checkConstraints(a, options);
  if (!constraintsA.ok) return constraintsA;
  const constraintsB = await checkConstraints(b, options);
  if (!constraintsB.ok) return constraintsB;
  const tables = compareDigests(left, right);
  const identical =
    tables.every((t) => t.status === 'same') && constraintsA.value.ok && constraintsB.value.ok;
  return ok({ identical, tables, constraints: { a: constraintsA.value, b: constraintsB.value } });
}
