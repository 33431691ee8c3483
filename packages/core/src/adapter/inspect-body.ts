import { CoreErrors, type ProdError } from '../index.js';

const MAX_DEPTH = 64;

/**
 * Checks a parsed JSON body before any handler sees it, and returns the error to answer, or
 * undefined when it is clean:
 * - FORBIDDEN_KEY for a key that could pollute prototypes (`__proto__`, `constructor.prototype`)
 *   or nesting deeper than 64 levels (a hostile body cannot hide a key below the scan);
 * - INVALID_TEXT for a string (key or value) that a store cannot hold as it is: a NUL
 *   character (PostgreSQL text refuses it) or an unpaired UTF-16 surrogate (not encodable as
 *   UTF-8, so it would be silently replaced). Decided here, before any write.
 *
 * Both name the offending field as a JSON Pointer in `details.path`.
 */
export function inspectBody(value: unknown): ProdError | undefined {
  return scan(value, '', 0, false);
}

function scan(
  value: unknown,
  path: string,
  depth: number,
  underConstructor: boolean,
): ProdError | undefined {
  if (typeof value === 'string') return unstorable(value) ? invalidText(path, value) : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  if (depth > MAX_DEPTH) return forbiddenKey(`${path}/...`);
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index += 1) {
      const found = scan(value[index], `${path}/${index}`, depth + 1, false);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    const at = `${path}/${pointerToken(key)}`;
    if (key === '__proto__' || (underConstructor && key === 'prototype')) return forbiddenKey(at);
    if (unstorable(key)) return invalidText(at, key);
    const found = scan(
      (value as Record<string, unknown>)[key],
      at,
      depth + 1,
      key === 'constructor',
    );
    if (found !== undefined) return found;
  }
  return undefined;
}

// `isWellFormed` is ES2024 (Node 20 has it; the ES2022 lib types do not).
type WellFormedString = string & { isWellFormed(): boolean };

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
