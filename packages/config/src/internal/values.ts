import { isSecret } from '../secret.js';

const hasOwn = Object.hasOwn;

/** Whether `value` is a plain object (what configuration branches are made of). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** The own value at `segments` in a tree, and whether one is there. */
export function lookup(
  tree: unknown,
  segments: readonly string[],
): { readonly found: boolean; readonly value: unknown } {
  let current = tree;
  for (const segment of segments) {
    if (!isPlainObject(current) || !hasOwn(current, segment))
      return { found: false, value: undefined };
    current = current[segment];
  }
  return { found: true, value: current };
}

/** Sets `value` at `segments` in a null-prototype tree, creating branches as it goes. */
export function assign(
  tree: Record<string, unknown>,
  segments: readonly string[],
  value: unknown,
): void {
  let current = tree;
  for (let i = 0; i < segments.length - 1; i++) {
    const segment = segments[i] as string;
    let next = current[segment];
    if (!isPlainObject(next)) {
      next = Object.create(null) as Record<string, unknown>;
      current[segment] = next;
    }
    current = next as Record<string, unknown>;
  }
  current[segments[segments.length - 1] as string] = value;
}

/** Freezes plain objects and arrays all the way down (Secrets are frozen already). */
export function deepFreeze<TValue>(value: TValue): TValue {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    if (Array.isArray(value) || isPlainObject(value)) {
      Object.freeze(value);
      for (const child of Object.values(value)) deepFreeze(child);
    }
  }
  return value;
}

/** Structural equality for configuration values (Secrets by their revealed value). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (isSecret(a) || isSecret(b))
    return isSecret(a) && isSecret(b) && deepEqual(a.reveal(), b.reveal());
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (a instanceof Map || b instanceof Map || a instanceof Set || b instanceof Set) {
    return (
      JSON.stringify([...(a as Map<unknown, unknown>)]) ===
      JSON.stringify([...(b as Map<unknown, unknown>)])
    );
  }
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  for (const key of keysA) {
    if (!hasOwn(b, key)) return false;
    if (!deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]))
      return false;
  }
  return true;
}

/**
 * A short, safe rendering of a value for error messages and `describe()`: JSON, cut at
 * `max` characters; `[REDACTED]` for secrets; `nothing` for a missing value.
 */
export function display(value: unknown, secret: boolean, max = 80): string {
  if (value === undefined) return 'nothing';
  if (secret || isSecret(value)) return '[REDACTED]';
  let text: string;
  try {
    text =
      typeof value === 'bigint'
        ? `${value}n`
        : value instanceof Date
          ? value.toISOString()
          : (JSON.stringify(value) ?? String(value));
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
