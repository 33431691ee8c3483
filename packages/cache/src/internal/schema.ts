import { isThenable } from '@prod/core';
import type { Schema, SchemaResult } from '../types.js';

/** What checking a value against a schema gave: its output, or a mismatch. */
export type Checked = { readonly ok: true; readonly value: unknown } | { readonly ok: false };

const MISMATCH: Checked = Object.freeze({ ok: false });

const settle = (result: SchemaResult<unknown>): Checked =>
  result.issues === undefined ? { ok: true, value: result.value } : MISMATCH;

/**
 * Checks `value` against a Standard Schema; a schema that throws counts as a mismatch (a
 * cached value it cannot even look at is not one to return).
 */
export function checkSchema(schema: Schema, value: unknown): Checked | Promise<Checked> {
  let result: SchemaResult<unknown> | Promise<SchemaResult<unknown>>;
  try {
    result = schema['~standard'].validate(value);
  } catch {
    return MISMATCH;
  }
  if (isThenable(result)) return Promise.resolve(result).then(settle, () => MISMATCH);
  return settle(result);
}

/** Whether `value` looks like a Standard Schema. */
export function isSchema(value: unknown): value is Schema {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  const standard = (value as { '~standard'?: { validate?: unknown } })['~standard'];
  return (
    typeof standard === 'object' && standard !== null && typeof standard.validate === 'function'
  );
}
