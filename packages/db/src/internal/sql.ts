import type { SqlQueryable } from '../sql-client.js';

/** `name` as a quoted identifier: `"a""b"`. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `'it''s'` */
export function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** FNV-1a over the UTF-16 code units, as a signed 32-bit integer (an advisory lock key). */
export function int32Hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

/** The first row of a query, or undefined. */
export async function firstRow<TRow>(
  db: SqlQueryable,
  text: string,
  values?: unknown[],
): Promise<TRow | undefined> {
  const result = values === undefined ? await db.query(text) : await db.query(text, values);
  return result.rows[0] as TRow | undefined;
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Sorted, deterministic settings for reading row text (dates, floats, bytea). */
export const STABLE_OUTPUT = [
  "SET LOCAL timezone = 'UTC'",
  "SET LOCAL datestyle = 'ISO, YMD'",
  "SET LOCAL intervalstyle = 'postgres'",
  'SET LOCAL extra_float_digits = 1',
  "SET LOCAL bytea_output = 'hex'",
] as const;
