import { createHash } from 'node:crypto';
import { quoteIdent, STABLE_OUTPUT } from './internal/sql.js';
import type { SqlQueryable } from './sql-client.js';

/** The content of one table: its row count and the SHA-256 of its rows in a stable order. */
export interface TableDigest {
  readonly schema: string;
  readonly name: string;
  readonly rows: number;
  /** SHA-256 (hex) of each row's text form followed by a newline, ordered by primary key (else by the whole row). */
  readonly sha256: string;
}

/** How two digests of one table compare. */
export interface TableComparison {
  /** `schema.name` */
  readonly table: string;
  /**
   * `same`; `rows-differ` (counts differ); `content-differs` (same count, other rows);
   * `only-in-a` / `only-in-b` (the table exists on one side only).
   */
  readonly status: 'same' | 'rows-differ' | 'content-differs' | 'only-in-a' | 'only-in-b';
  readonly a?: { readonly rows: number; readonly sha256: string };
  readonly b?: { readonly rows: number; readonly sha256: string };
}

/** Which tables to digest. */
export interface DigestOptions {
  /** Only these schemas. Default every schema but the system ones. */
  readonly schemas?: readonly string[];
  /** Rows fetched per round trip. Default 2000. */
  readonly batchSize?: number;
}

interface TableRow {
  readonly schema: string;
  readonly name: string;
  readonly order_by: string | null;
}

const TABLES = `
  SELECT n.nspname AS schema, c.relname AS name,
         (SELECT string_agg(quote_ident(a.attname) || CASE WHEN a.attcollation <> 0 THEN ' COLLATE "C"' ELSE '' END,
                            ', ' ORDER BY array_position(i.indkey::int2[], a.attnum))
            FROM pg_index i
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[])
           WHERE i.indrelid = c.oid AND i.indisprimary) AS order_by
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind = 'r'
     AND n.nspname NOT IN ('pg_catalog', 'information_schema')
     AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
     AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
   ORDER BY 1, 2`;

/**
 * Digests every table of the current transaction's snapshot: run it inside a REPEATABLE READ
 * transaction so that all tables are read at one point in time. Row text is produced under
 * fixed settings (UTC, ISO dates, hex bytea), so two databases with the same rows give the
 * same digests whatever their session defaults. Rows are streamed through a cursor.
 */
export async function digestTables(
  tx: SqlQueryable,
  options: DigestOptions = {},
): Promise<TableDigest[]> {
  for (const setting of STABLE_OUTPUT) await tx.query(setting);
  const batch = Math.max(1, Math.min(options.batchSize ?? 2000, 100_000));
  const { rows } = await tx.query(TABLES, [
    options.schemas === undefined ? null : [...options.schemas],
  ]);
  const digests: TableDigest[] = [];
  for (const table of rows as unknown as TableRow[]) {
    const qualified = `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
    const orderBy = table.order_by ?? 't::text COLLATE "C"';
    await tx.query(
      `DECLARE prod_db_digest NO SCROLL CURSOR FOR SELECT t::text AS r FROM ${qualified} AS t ORDER BY ${orderBy}`,
    );
    const hash = createHash('sha256');
    let count = 0;
    for (;;) {
      const fetched = await tx.query(`FETCH ${batch} FROM prod_db_digest`);
      for (const row of fetched.rows) {
        hash.update(String(row.r));
        hash.update('\n');
      }
      count += fetched.rows.length;
      if (fetched.rows.length < batch) break;
    }
    await tx.query('CLOSE prod_db_digest');
    digests.push({
      schema: table.schema,
      name: table.name,
      rows: count,
      sha256: hash.digest('hex'),
    });
  }
  return digests;
}

/** Compares two sets of table digests, table by table (sorted by name). */
export function compareDigests(
  a: readonly TableDigest[],
  b: readonly TableDigest[],
): TableComparison[] {
  const key = (d: TableDigest): string => `${d.schema}.${d.name}`;
  const left = new Map(a.map((d) => [key(d), d]));
  const right = new Map(b.map((d) => [key(d), d]));
  const names = [...new Set([...left.keys(), ...right.keys()])].sort();
  return names.map((table): TableComparison => {
    const x = left.get(table);
    const y = right.get(table);
    const side = (d: TableDigest): { rows: number; sha256: string } => ({
      rows: d.rows,
      sha256: d.sha256,
    });
    if (x === undefined) return { table, status: 'only-in-b', b: side(y as TableDigest) };
    if (y === undefined) return { table, status: 'only-in-a', a: side(x) };
    const status =
      x.rows !== y.rows ? 'rows-differ' : x.sha256 !== y.sha256 ? 'content-differs' : 'same';
    return { table, status, a: side(x), b: side(y) };
  });
}
