import type { FieldError } from '@prod/core';
import { err, findForbiddenKey, isThenable, ok, type Result } from '@prod/core';
import { QueueErrors } from '../errors.js';
import type { PayloadSchema, QueueError, SchemaIssue, SchemaResult } from '../types.js';
import type { Envelope } from './driver.js';

/** A payload ready to store: its envelope and the envelope's JSON. */
export interface Prepared {
  readonly envelope: Envelope;
  readonly json: string;
}

const MAX_ISSUES = 20;

/** JSON Pointer of a Standard Schema issue path (`/items/0/title`). */
function pointer(path: SchemaIssue['path']): string {
  if (path === undefined || path.length === 0) return '';
  let out = '';
  for (const segment of path) {
    const key = typeof segment === 'object' && segment !== null ? segment.key : segment;
    out += `/${String(key).replaceAll('~', '~0').replaceAll('/', '~1')}`;
  }
  return out;
}

function invalid(name: string, message: string, issues?: readonly SchemaIssue[]): QueueError {
  const errors: FieldError[] | undefined = issues
    ?.slice(0, MAX_ISSUES)
    .map((issue) => ({ path: pointer(issue.path), message: String(issue.message) }));
  return QueueErrors.JOB_PAYLOAD_INVALID({
    message: `payload of ${name}: ${message}`,
    details: { job: name },
    ...(errors === undefined ? {} : { errors }),
    captureStack: false,
  });
}

/** What checking a value against a schema gave. */
export type Checked = Result<unknown, QueueError>;

function settle(name: string, result: SchemaResult<unknown>): Checked {
  if (result.issues === undefined) return ok(result.value);
  const first = result.issues[0];
  const where = first === undefined ? '' : pointer(first.path);
  const summary =
    first === undefined ? 'does not match its schema' : `${where || '/'} ${first.message}`;
  return err(invalid(name, summary, result.issues));
}

/** Runs a schema; a schema that throws counts as a failed check, never as a crash. */
export function checkSchema(
  name: string,
  schema: PayloadSchema,
  value: unknown,
): Checked | Promise<Checked> {
  let result: SchemaResult<unknown> | Promise<SchemaResult<unknown>>;
  try {
    result = schema['~standard'].validate(value);
  } catch (error) {
    return err(invalid(name, `its schema threw: ${String(error)}`));
  }
  if (isThenable(result)) {
    return Promise.resolve(result).then(
      (settled) => settle(name, settled),
      (error: unknown) => err(invalid(name, `its schema threw: ${String(error)}`)),
    );
  }
  return settle(name, result);
}

/** The deepest nesting the forbidden-key scan of @prod/core walks before it reports one. */
const SCAN_DEPTH = 64;

/**
 * Whether the scan for forbidden keys could find anything in this JSON (it builds a path per
 * key, the dearest step of a small payload's checks): a `__proto__` or `prototype` key appears
 * as such in `JSON.stringify`'s output (it escapes no letters nor `_`), and nesting past the
 * scan's depth takes more opening brackets than that depth. Brackets inside strings only make
 * this answer yes more often.
 */
export function mayHoldForbidden(text: string): boolean {
  if (text.includes('__proto__') || text.includes('prototype')) return true;
  let open = 0;
  for (let at = 0; at < text.length; at++) {
    const code = text.charCodeAt(at);
    if ((code === 123 || code === 91) && ++open > SCAN_DEPTH) return true;
  }
  return false;
}

/** What {@link plainCopy} answers for a value whose JSON round trip could differ from it. */
const UNSAFE: unique symbol = Symbol('unsafe');

/**
 * A copy of `value` made only of what `JSON.parse` makes (plain objects and dense arrays of
 * strings, finite numbers, booleans and null), equal to `JSON.parse(JSON.stringify(value))`,
 * or UNSAFE when that cannot be shown on the way: a class instance or `Date`, a `toJSON`, a
 * number JSON cannot carry (NaN, Infinity, -0), a bigint, a hole or `undefined` in an array,
 * a `__proto__` or `prototype` key, nesting as deep as the forbidden-key scan goes. Each
 * property is read once (a getter or a proxy cannot answer the check and the storage
 * differently). Object entries that JSON leaves out (`undefined`, functions, symbols) are left
 * out here too.
 */
function plainCopy(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0) ? value : UNSAFE;
    case 'object':
      break;
    default:
      return UNSAFE;
  }
  if (value === null) return null;
  if (depth >= SCAN_DEPTH || (value as { toJSON?: unknown }).toJSON !== undefined) return UNSAFE;
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) return UNSAFE;
    const length = value.length;
    const out: unknown[] = [];
    for (let at = 0; at < length; at++) {
      if (!(at in value)) return UNSAFE;
      const item = plainCopy(value[at], depth + 1);
      if (item === UNSAFE) return UNSAFE;
      out.push(item);
    }
    return out;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return UNSAFE;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (key === '__proto__' || key === 'prototype') return UNSAFE;
    const entry: unknown = (value as Record<string, unknown>)[key];
    const kind = typeof entry;
    if (kind === 'undefined' || kind === 'function' || kind === 'symbol') continue;
    const item = plainCopy(entry, depth + 1);
    if (item === UNSAFE) return UNSAFE;
    out[key] = item;
  }
  return out;
}

function tooLarge(name: string, text: string, maxBytes: number): QueueError | undefined {
  // UTF-16 length is a lower bound of the UTF-8 size: most payloads skip the exact count.
  if (text.length * 3 <= maxBytes) return undefined;
  const bytes = Buffer.byteLength(text);
  if (bytes <= maxBytes) return undefined;
  return QueueErrors.JOB_PAYLOAD_TOO_LARGE({
    message: `payload of ${name} is ${bytes} bytes of JSON, over the limit of ${maxBytes}`,
    details: { job: name, bytes, limit: maxBytes },
    captureStack: false,
  });
}

/**
 * Serializes, bounds and checks a payload as the worker will see it: the schema runs on the
 * JSON round trip, so what passes here passes again before the handler (a `Date` that would
 * arrive as a string is refused now, not in a dead letter later). A payload already made of
 * JSON alone (the common case) skips the parse: its plain copy is what the round trip gives.
 */
export function preparePayload(
  name: string,
  schema: PayloadSchema,
  payload: unknown,
  maxBytes: number,
  trace: Readonly<Record<string, string>> | undefined,
): Result<Prepared, QueueError> | Promise<Result<Prepared, QueueError>> {
  const copy = plainCopy(payload, 0);
  let text: string | undefined;
  let parsed: unknown;
  if (copy !== UNSAFE) {
    text = JSON.stringify(copy);
    const large = tooLarge(name, text, maxBytes);
    if (large !== undefined) return err(large);
    parsed = copy;
  } else {
    try {
      text = JSON.stringify(payload);
    } catch (error) {
      return err(invalid(name, `not JSON-serializable (${String(error)})`));
    }
    if (text === undefined) return err(invalid(name, 'not JSON-serializable (undefined)'));
    const large = tooLarge(name, text, maxBytes);
    if (large !== undefined) return err(large);
    parsed = JSON.parse(text);
    const forbidden = mayHoldForbidden(text) ? findForbiddenKey(parsed) : undefined;
    if (forbidden !== undefined) {
      return err(
        invalid(
          name,
          forbidden.endsWith('/...')
            ? `nested deeper than 64 levels at ${forbidden}`
            : `holds the forbidden key ${forbidden}`,
        ),
      );
    }
  }
  const envelope: Envelope =
    trace === undefined ? { v: 1, payload: parsed } : { v: 1, payload: parsed, trace };
  // The payload's JSON is already at hand: the envelope's is built around it, not re-encoded.
  const json =
    trace === undefined
      ? `{"v":1,"payload":${text}}`
      : `{"v":1,"payload":${text},"trace":${JSON.stringify(trace)}}`;
  const build = (checked: Checked): Result<Prepared, QueueError> =>
    checked.ok ? ok({ envelope, json }) : checked;
  const checked = checkSchema(name, schema, parsed);
  return isThenable(checked) ? checked.then(build) : build(checked);
}

/** The envelope in stored data, or undefined when the data is not one of ours. */
export function readEnvelope(data: unknown): Envelope | undefined {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const candidate = data as Partial<Envelope>;
  if (candidate.v !== 1 || !('payload' in candidate)) return undefined;
  const trace = candidate.trace;
  if (trace !== undefined && (typeof trace !== 'object' || trace === null)) return undefined;
  return candidate as Envelope;
}
