// A comparable picture of one schema, read from the catalogs: what drift detection compares.
import type { SqlQueryable } from '../sql-client.js';
import type { SchemaDifference } from '../types.js';
import { quoteIdent } from './sql.js';

/** `kind:name` -> definition. */
export type SchemaSnapshot = Map<string, string>;

interface Row {
  readonly key: string;
  readonly def: string | null;
}

const QUERIES: readonly string[] = [
  `SELECT 'relation:' || c.relname AS key,
          CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table' WHEN 'v' THEN 'view'
            WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table' END
            || CASE WHEN c.relpersistence = 'u' THEN ' (unlogged)' ELSE '' END AS def
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')`,
  `SELECT 'column:' || c.relname || '.' || a.attname AS key,
          format_type(a.atttypid, a.atttypmod)
            || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
            || CASE WHEN a.attidentity <> '' THEN ' IDENTITY ' || a.attidentity::text ELSE '' END
            || CASE WHEN a.attgenerated <> '' THEN ' GENERATED ' || a.attgenerated::text ELSE '' END
            || COALESCE(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
            || COALESCE(' COLLATE ' || NULLIF(co.collname, 'default'), '') AS def
     FROM pg_attribute a
     JOIN pg_class c ON c.oid = a.attrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 0
    WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped`,
  `SELECT 'constraint:' || c.relname || '.' || con.conname AS key,
          pg_get_constraintdef(con.oid) || CASE WHEN con.convalidated THEN '' ELSE ' (not validated)' END AS def
     FROM pg_constraint con
     JOIN pg_class c ON c.oid = con.conrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = $1`,
  `SELECT 'index:' || ci.relname AS key,
          pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid THEN '' ELSE ' (invalid)' END AS def
     FROM pg_index i
     JOIN pg_class ci ON ci.oid = i.indexrelid
     JOIN pg_namespace n ON n.oid = ci.relnamespace
    WHERE n.nspname = $1`,
  `SELECT 'view:' || c.relname AS key, pg_get_viewdef(c.oid) AS def
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = $1 AND c.relkind IN ('v', 'm')`,
  `SELECT 'function:' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS key,
          pg_get_functiondef(p.oid) AS def
     FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = $1 AND p.prokind IN ('f', 'p')`,
  `SELECT 'trigger:' || c.relname || '.' || t.tgname AS key, pg_get_triggerdef(t.oid) AS def
     FROM pg_trigger t
     JOIN pg_class c ON c.oid = t.tgrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = $1 AND NOT t.tgisinternal`,
  `SELECT 'type:' || t.typname AS key,
          CASE t.typtype
            WHEN 'e' THEN 'enum (' || (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
                                         FROM pg_enum e WHERE e.enumtypid = t.oid) || ')'
            WHEN 'd' THEN 'domain ' || format_type(t.typbasetype, t.typtypmod)
                          || CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END
            ELSE 'type ' || t.typtype::text END AS def
     FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = $1 AND t.typtype IN ('e', 'd')
       OR (n.nspname = $1 AND t.typtype = 'c'
           AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'c'))`,
];

/**
 * Reads the snapshot of `schema` through `db` (inside a transaction whose search_path is the
 * schema, so definitions print unqualified). Objects whose name is `exclude` or starts with
 * `<exclude>_` (the history table, its index and sequence) are left out.
 */
export async function snapshotSchema(
  db: SqlQueryable,
  schema: string,
  exclude: string,
): Promise<SchemaSnapshot> {
  await db.query(`SET LOCAL search_path = ${quoteIdent(schema)}`);
  const snapshot: SchemaSnapshot = new Map();
  const qualified = [`${quoteIdent(schema)}.`, `${schema}.`];
  const excluded = (key: string): boolean => {
    const name = key.slice(key.indexOf(':') + 1);
    return name === exclude || name.startsWith(`${exclude}_`) || name.startsWith(`${exclude}.`);
  };
  for (const query of QUERIES) {
    const { rows } = await db.query(query, [schema]);
    for (const row of rows as unknown as Row[]) {
      if (excluded(row.key)) continue;
      let def = row.def ?? '';
      for (const prefix of qualified) def = def.split(prefix).join('');
      snapshot.set(row.key, def.replace(/\s+/g, ' ').trim());
    }
  }
  return snapshot;
}

/** Differences between `expected` (from the migrations) and `actual` (live), sorted by key. */
export function diffSnapshots(
  expected: SchemaSnapshot,
  actual: SchemaSnapshot,
): SchemaDifference[] {
  const keys = [...new Set([...expected.keys(), ...actual.keys()])].sort();
  const differences: SchemaDifference[] = [];
  for (const key of keys) {
    const object = key.slice(0, key.indexOf(':'));
    const name = key.slice(key.indexOf(':') + 1);
    const want = expected.get(key);
    const have = actual.get(key);
    if (want === undefined && have !== undefined)
      differences.push({ object, name, change: 'unexpected', actual: have });
    else if (want !== undefined && have === undefined)
      differences.push({ object, name, change: 'missing', expected: want });
    else if (want !== have && want !== undefined && have !== undefined) {
      differences.push({ object, name, change: 'changed', expected: want, actual: have });
    }
  }
  return differences;
}
