// What instrument() derives from a query's text, once per text: a repeated query (the usual
// parameterized one) costs a map lookup instead of a tokenizer pass and label building.
import { LRUCache } from 'lru-cache';
import { fingerprintQuery, type QueryFingerprint } from '../fingerprint.js';
import type { Series } from './histogram.js';

/** A query text's fingerprint and metric labels. */
export interface QueryShape {
  readonly fingerprint: QueryFingerprint;
  /** `db_operation_name`. */
  readonly operation: string;
  /** `db_collection_name`: the table without its identifier quotes, `''` when there is none. */
  readonly table: string;
  /** The histogram series of the text's successful runs, resolved at its first success. */
  success: Series | undefined;
}

/** The shape of `text`, computed afresh (the reference the cache must agree with). */
export function queryShape(text: string): QueryShape {
  const fingerprint = fingerprintQuery(text);
  return {
    fingerprint,
    operation: fingerprint.operation,
    table: fingerprint.table === undefined ? '' : fingerprint.table.replace(/"/g, ''),
    success: undefined,
  };
}

/** Texts longer than this are not cached: a generated one-off would only push others out. */
export const CACHEABLE_LENGTH = 16 * 1024;

/** A cache of shapes by text. */
export interface QueryShapeCache {
  get(text: string): QueryShape;
  readonly size: number;
}

/**
 * Shapes cached by text, the `max` most recently used of them (lru-cache): a text pushed out
 * comes back at the cost of one fingerprint if it runs again.
 */
export function queryShapeCache(max: number): QueryShapeCache {
  const shapes = new LRUCache<string, QueryShape>({ max });
  return {
    get(text) {
      if (text.length > CACHEABLE_LENGTH) return queryShape(text);
      let shape = shapes.get(text);
      if (shape === undefined) {
        shape = queryShape(text);
        shapes.set(text, shape);
      }
      return shape;
    },
    get size() {
      return shapes.size;
    },
  };
}
