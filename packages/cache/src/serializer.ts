/**
 * Turns values into what the shared tier stores, and back.
 *
 * `serialize` throws for a value it cannot represent (the cache answers
 * `CACHE_NOT_SERIALIZABLE` then, and writes nothing). Set `binary: true` when `serialize`
 * returns bytes (msgpack, `v8.serialize`): the Redis store then reads Buffers instead of text.
 */
export interface Serializer {
  /** Names the format in the stored envelope, so entries of another format read as misses. */
  readonly id: string;
  /** True when `serialize` returns bytes (a Uint8Array) rather than text. */
  readonly binary?: boolean;
  serialize(value: unknown): string | Uint8Array;
  deserialize(data: string | Uint8Array): unknown;
}

// A Uint8Array (a Buffer included) is written as `{"$prod:bytes":"<base64>"}` and read back as
// a Buffer. The reviver costs a call per parsed value, so it runs only on text that has the tag.
const BYTES = '$prod:bytes';
const BYTES_TAG = `{"${BYTES}":`;

function replacer(this: unknown, key: string, value: unknown): unknown {
  // `value` is the result of `toJSON` (a Buffer's is `{ type, data }`); the holder has the
  // original.
  const original = (this as Record<string, unknown>)[key];
  if (original instanceof Uint8Array) {
    return {
      [BYTES]: Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString(
        'base64',
      ),
    };
  }
  switch (typeof value) {
    case 'function':
    case 'symbol':
      throw new TypeError(`a ${typeof value} cannot be serialized${where(key)}`);
    case 'bigint':
      throw new TypeError(`a BigInt cannot be serialized${where(key)}`);
    case 'undefined':
      // An own property set to undefined would silently vanish; an array hole becomes null.
      return value;
    default:
      if (value instanceof Map || value instanceof Set || value instanceof WeakMap) {
        throw new TypeError(
          `a ${value.constructor.name} cannot be serialized as JSON${where(key)}`,
        );
      }
      return value;
  }
}

const where = (key: string): string =>
  key === '' ? '' : ` (at key ${JSON.stringify(key.slice(0, 64))})`;

function reviver(_key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const bytes = (value as Record<string, unknown>)[BYTES];
    if (typeof bytes === 'string' && Object.keys(value).length === 1)
      return Buffer.from(bytes, 'base64');
  }
  return value;
}

/** Parses what {@link jsonSerializer} wrote (bytes tags become Buffers). Internal to the package. */
export function parseJson(text: string): unknown {
  return text.includes(BYTES_TAG) ? JSON.parse(text, reviver) : JSON.parse(text);
}

/**
 * The default serializer: JSON, strict about what it cannot keep.
 *
 * Details: Buffers and other Uint8Arrays come back as Buffers. Dates come back as ISO strings
 * (JSON has no date type: pass a serializer such as superjson's to keep them). A function, a
 * symbol, a BigInt, a Map or a Set anywhere in the value, a cycle, or a value that is not JSON
 * at all (`undefined` at the top) makes `serialize` throw, so nothing half-kept is cached.
 *
 * @example
 * const data = jsonSerializer.serialize({ id: 1, avatar: Buffer.from([1, 2, 3]) });
 * const back = jsonSerializer.deserialize(data) as { id: number; avatar: Buffer };
 * back.avatar.equals(Buffer.from([1, 2, 3])); // true
 */
export const jsonSerializer: Serializer = Object.freeze({
  id: 'json',
  serialize(value: unknown): string {
    const text = JSON.stringify(value, replacer) as string | undefined;
    if (text === undefined) throw new TypeError(`a value of type ${typeof value} is not JSON`);
    return text;
  },
  deserialize(data: string | Uint8Array): unknown {
    const text =
      typeof data === 'string'
        ? data
        : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
    return parseJson(text);
  },
});
