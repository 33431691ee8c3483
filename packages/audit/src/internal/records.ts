// What a stored item (a record, a JSON line of one, a pino line carrying `audit`) holds, and
// whether it has the shape of a record: shared by the verifier and the sinks' read().
import type { AuditRecord } from '../types.js';

const HEX64 = /^[0-9a-f]{64}$/;

/** The record in a line of input: a record, a JSON line of one, or a pino line carrying `audit`. */
export function parseItem(input: unknown): Record<string, unknown> | undefined {
  let value = input;
  if (typeof value === 'string') {
    if (value.trim() === '') return undefined;
    try {
      value = JSON.parse(value);
    } catch {
      return { __malformed: true };
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { __malformed: true };
  const object = value as Record<string, unknown>;
  if (object.kind === undefined && typeof object.audit === 'object' && object.audit !== null) {
    return object.audit as Record<string, unknown>;
  }
  return object;
}

export function wellFormed(
  object: Record<string, unknown>,
): object is Record<string, unknown> & AuditRecord {
  const base =
    object.v === 1 &&
    typeof object.chain === 'string' &&
    Number.isSafeInteger(object.seq) &&
    (object.seq as number) >= 1 &&
    typeof object.hash === 'string' &&
    HEX64.test(object.hash) &&
    typeof object.prevHash === 'string' &&
    HEX64.test(object.prevHash);
  if (!base) return false;
  if (object.kind === 'event') return typeof object.action === 'string';
  if (object.kind === 'checkpoint') {
    return (
      Number.isSafeInteger(object.from) &&
      Number.isSafeInteger(object.to) &&
      Array.isArray(object.digests) &&
      object.digests.every((digest) => typeof digest === 'string') &&
      typeof object.signature === 'string' &&
      typeof object.keyId === 'string'
    );
  }
  return false;
}

/** Where a built-in sink keeps its raw reader, for `verify()` (it reports what is not a record). */
export const STORED: unique symbol = Symbol.for('@prod/audit/stored') as never;

/** A sink's items as stored (lines, bodies, objects), malformed ones included, in stored order. */
export type StoredReader = (chain: string) => AsyncIterable<unknown>;

/** The raw reader of a built-in sink, if `sink` is one. */
export function storedReader(sink: object): StoredReader | undefined {
  const reader = (sink as { [STORED]?: unknown })[STORED];
  return typeof reader === 'function' ? (reader as StoredReader) : undefined;
}

/** The records of `chain` among stored items: parsed, and only those shaped as records. */
export async function* recordsOf(
  items: Iterable<unknown> | AsyncIterable<unknown>,
  chain: string,
): AsyncGenerator<AuditRecord> {
  for await (const item of items as AsyncIterable<unknown>) {
    const object = parseItem(item);
    if (object !== undefined && wellFormed(object) && object.chain === chain) {
      yield object as AuditRecord;
    }
  }
}

/** Gives a built-in sink its raw reader (not enumerable: a copy of the sink falls back to read()). */
export function withStored<TSink extends object>(sink: TSink, reader: StoredReader): TSink {
  Object.defineProperty(sink, STORED, { value: reader });
  return sink;
}
