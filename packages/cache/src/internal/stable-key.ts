import { createHash } from 'node:crypto';

const MAX_DEPTH = 32;
/** Encodings longer than this are replaced by their SHA-256, so keys stay short. */
const MAX_PLAIN = 200;

/**
 * A stable text for a list of arguments: equal arguments give equal text whatever the order
 * of their object keys (`{ a, b }` and `{ b, a }` agree), different ones different text.
 * Numbers, strings, booleans, null, undefined, BigInts, Dates, byte arrays, arrays and plain
 * objects are accepted; anything else (a function, a symbol, a Map, a class instance, a
 * cycle, nesting deeper than 32) throws a TypeError, so no two calls share a key by accident.
 */
export function stableKey(args: readonly unknown[]): string {
  const text = encode(args, 0);
  return text.length <= MAX_PLAIN
    ? text
    : `#${createHash('sha256').update(text).digest('base64url')}`;
}

function encode(value: unknown, depth: number): string {
  if (depth > MAX_DEPTH)
    throw new TypeError('arguments nest deeper than 32 levels (or hold a cycle)');
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : `~${String(value)}`;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return `${value}n`;
    case 'undefined':
      return 'undefined';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value))
        return `[${value.map((item) => encode(item, depth + 1)).join(',')}]`;
      if (value instanceof Date) {
        const time = value.getTime();
        if (Number.isNaN(time)) throw new TypeError('an invalid Date cannot be part of a key');
        return `D${time}`;
      }
      if (value instanceof Uint8Array) {
        return `B${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')}`;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(
          `a ${(value as object).constructor?.name ?? 'class instance'} cannot be part of a key`,
        );
      }
      const record = value as Record<string, unknown>;
      const parts: string[] = [];
      for (const name of Object.keys(record).sort()) {
        const item = record[name];
        if (item === undefined) continue;
        parts.push(`${JSON.stringify(name)}:${encode(item, depth + 1)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      throw new TypeError(`a ${typeof value} cannot be part of a key`);
  }
}
