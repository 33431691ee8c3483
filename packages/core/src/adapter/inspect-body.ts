import type { BodyProfile } from '../body-profile.js';
import { prototypeIsPolluted } from '../forbidden-keys.js';
import { CoreErrors, type ProdError } from '../index.js';

const MAX_DEPTH = 64;
// Printable ASCII, tab, LF, CR: the text no sanitizer of control, invisible or composing
// characters changes (see BodyProfile.plainText).
const PLAIN = /^[\t\n\r\x20-\x7e]*$/;

/**
 * Checks a parsed JSON body before any handler sees it, and returns its {@link BodyProfile};
 * throws the error to answer:
 * - FORBIDDEN_KEY for a key that could pollute prototypes (`__proto__`, `constructor.prototype`)
 *   or nesting deeper than 64 levels (a hostile body cannot hide a key below the scan);
 * - INVALID_TEXT for a string (key or value) that a store cannot hold as it is: a NUL
 *   character (PostgreSQL text refuses it) or an unpaired UTF-16 surrogate (not encodable as
 *   UTF-8, so it would be silently replaced). Decided here, before any write.
 *
 * Both name the offending field as a JSON Pointer in `details.path`. `plainText` is what the
 * caller already knows from the JSON text (see `plainJsonText`); without it, each string
 * value is tested during the walk.
 */
export function inspectBody(value: unknown, plainText?: boolean): BodyProfile {
  const found: Finding = {
    ownOnly: prototypeIsPolluted(),
    trail: [],
    kind: 'key',
    text: '',
    testPlain: plainText === undefined,
    plainText: plainText ?? true,
    depth: 0,
    keys: 0,
    longestArray: 0,
    longestString: 0,
    reservedKeys: false,
  };
  if (faultIn(value, 0, false, found)) throw faultOf(found);
  return {
    body: value,
    plainText: found.plainText,
    depth: found.depth,
    keys: found.keys,
    longestArray: found.longestArray,
    longestString: found.longestString,
    reservedKeys: found.reservedKeys,
  };
}

function faultOf(found: Finding): ProdError {
  // The trail was pushed as the scan unwound, innermost segment first.
  let path = '';
  for (let i = found.trail.length - 1; i >= 0; i--) path += `/${found.trail[i] as string}`;
  if (found.kind === 'deep') return forbiddenKey(`${path}/...`);
  return found.kind === 'key' ? forbiddenKey(path) : invalidText(path, found.text);
}

/**
 * Whether every string of a JSON text decodes to plain text (see BodyProfile.plainText),
 * decided from the text without parsing: all of it is ASCII (the UTF-8 bytes were as many as
 * the characters), with no DEL and no escape that can make a control or non-ASCII character
 * (`\b`, `\f`, `\u`). Raw control characters cannot be inside a JSON string. A few cheap
 * native scans, where testing each string of the parsed body costs a regex call per string.
 */
export function plainJsonText(text: string, byteLength: number): boolean {
  if (byteLength !== text.length || text.includes('\x7f')) return false;
  return !text.includes('\\') || !/\\[bfu]/.test(text);
}

/** What the scan found, and where: filled in only on a fault. */
interface Finding {
  /** Whether `Object.prototype` has enumerable keys (someone polluted it): then `for...in` lists them too. */
  readonly ownOnly: boolean;
  readonly trail: string[];
  kind: 'key' | 'deep' | 'text';
  text: string;
  // The profile, collected as the scan goes (see BodyProfile).
  readonly testPlain: boolean;
  plainText: boolean;
  depth: number;
  keys: number;
  longestArray: number;
  longestString: number;
  reservedKeys: boolean;
}

// Every body of every part route goes through here: no path string is built unless there is
// a fault (the segments are collected as the scan unwinds), and `for...in` lists a parsed
// object's keys from its map without allocating an array: 1.5 -> 0.66 µs for a nested body of 20
// fields (JSON.parse of it: 1.5 µs), in one process.
function faultIn(
  value: unknown,
  depth: number,
  underConstructor: boolean,
  found: Finding,
): boolean {
  if (typeof value === 'string') {
    if (value.length > found.longestString) found.longestString = value.length;
    if (found.testPlain && found.plainText && !PLAIN.test(value)) found.plainText = false;
    if (!unstorable(value)) return false;
    found.kind = 'text';
    found.text = value;
    return true;
  }
  if (typeof value !== 'object' || value === null) return false;
  if (depth > MAX_DEPTH) {
    found.kind = 'deep';
    return true;
  }
  if (depth >= found.depth) found.depth = depth + 1;
  if (Array.isArray(value)) {
    if (value.length > found.longestArray) found.longestArray = value.length;
    for (let index = 0; index < value.length; index += 1) {
      if (faultIn(value[index], depth + 1, false, found)) {
        found.trail.push(String(index));
        return true;
      }
    }
    return false;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) {
    if (found.ownOnly && !Object.hasOwn(record, key)) continue;
    found.keys += 1;
    if (key === 'constructor' || key === 'prototype') found.reservedKeys = true;
    if (key === '__proto__' || (underConstructor && key === 'prototype')) {
      found.kind = 'key';
    } else if (unstorable(key)) {
      found.kind = 'text';
      found.text = key;
    } else if (!faultIn(record[key], depth + 1, key === 'constructor', found)) {
      continue;
    }
    found.trail.push(pointerToken(key));
    return true;
  }
  return false;
}

// `isWellFormed` is ES2024 (Node 20 has it; the ES2022 lib types do not).
type WellFormedString = string & { isWellFormed(): boolean };

// Two native calls; a single regex for both (/[\0\uD800-\uDFFF]/) measured slower.
function unstorable(text: string): boolean {
  return text.includes('\u0000') || !(text as WellFormedString).isWellFormed();
}

// RFC 6901: `~` and `/` are escaped inside a token.
function pointerToken(key: string): string {
  return key.includes('~') || key.includes('/')
    ? key.replace(/~/g, '~0').replace(/\//g, '~1')
    : key;
}

/** The FORBIDDEN_KEY error for a key found at `path`. */
export function forbiddenKey(path: string): ProdError {
  return CoreErrors.FORBIDDEN_KEY({
    message: 'The body holds a key that could pollute object prototypes',
    details: { path },
  });
}

function invalidText(path: string, text: string): ProdError {
  const reason = text.includes('\u0000') ? 'NUL character' : 'unpaired surrogate';
  return CoreErrors.INVALID_TEXT({
    message: `The text at ${path || '/'} holds a ${reason}, which cannot be stored`,
    details: { path, reason },
  });
}
