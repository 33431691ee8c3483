const MAX_DEPTH = 64;

/**
 * Whether `Object.prototype` has enumerable properties (someone polluted it): then `for...in`
 * over a plain object lists them too, and a walk that uses it must check each key is the
 * object's own. Cheap enough to ask once per walk.
 */
export function prototypeIsPolluted(): boolean {
  for (const _ in Object.prototype) return true;
  return false;
}

/**
 * Finds a key in parsed JSON that could pollute prototypes when the object is later merged:
 * `__proto__` anywhere, or `prototype` under a `constructor` key. Returns its path
 * (`/a/0/__proto__`), or undefined when the value is clean.
 *
 * `JSON.parse` itself makes `__proto__` an own property, harmless until someone merges the
 * object with `Object.assign`, a spread into a class or a deep-merge helper; rejecting such
 * bodies at the edge is cheaper than auditing every merge.
 * Objects nested deeper than 64 levels are reported too (path ends in `/...`), so a hostile
 * body cannot hide a key below the scan.
 */
export function findForbiddenKey(value: unknown): string | undefined {
  return scan(value, '', 0, false);
}

function scan(
  value: unknown,
  path: string,
  depth: number,
  underConstructor: boolean,
): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (depth > MAX_DEPTH) return `${path}/...`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = scan(value[i], `${path}/${i}`, depth + 1, false);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (key === '__proto__' || (underConstructor && key === 'prototype')) return `${path}/${key}`;
    const found = scan(
      (value as Record<string, unknown>)[key],
      `${path}/${key}`,
      depth + 1,
      key === 'constructor',
    );
    if (found !== undefined) return found;
  }
  return undefined;
}
