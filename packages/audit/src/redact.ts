/** Options of {@link redact}. */
export interface RedactOptions {
  /** More key names to redact (case-insensitive, anywhere in the object). */
  readonly keys?: readonly string[];
  /** Longest string kept, in characters; longer ones are cut with `…`. Default 1024. */
  readonly maxString?: number;
  /** Deepest nesting kept; deeper values become `[Truncated]`. Default 8. */
  readonly maxDepth?: number;
  /** Most members kept per object or array. Default 100. */
  readonly maxMembers?: number;
}

/** What a redacted value is replaced with. */
export const REDACTED = '[REDACTED]';

/**
 * Key names redacted by default (OWASP Logging Cheat Sheet: never log passwords, session ids,
 * access tokens, keys, payment card data...), matched case-insensitively with `-` and `_`
 * ignored.
 */
export const DEFAULT_REDACTED_KEYS: readonly string[] = [
  'password',
  'passwd',
  'pwd',
  'secret',
  'token',
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'apikey',
  'authorization',
  'cookie',
  'setcookie',
  'session',
  'sessionid',
  'privatekey',
  'clientsecret',
  'creditcard',
  'cardnumber',
  'cvv',
  'cvc',
  'pan',
  'ssn',
  'otp',
  'pin',
];

const normalizeKey = (key: string): string => key.toLowerCase().replace(/[-_]/g, '');
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * A JSON-safe copy of `value` for an audit entry: sensitive keys replaced by `[REDACTED]`,
 * strings, depth and member counts bounded, `__proto__`/`constructor`/`prototype` keys dropped,
 * dates as ISO text, bigints as text, functions and symbols left out, cycles cut.
 *
 * @example
 * const safe = redact({ user: 'ada', password: 'hunter2', card: { cardNumber: '4111...' } });
 * // { user: 'ada', password: '[REDACTED]', card: { cardNumber: '[REDACTED]' } }
 */
export function redact(value: unknown, options: RedactOptions = {}): unknown {
  const keys = new Set([...DEFAULT_REDACTED_KEYS, ...(options.keys ?? []).map(normalizeKey)]);
  const maxString = options.maxString ?? 1024;
  const maxDepth = options.maxDepth ?? 8;
  const maxMembers = options.maxMembers ?? 100;
  const seen = new Set<object>();
  const cut = (text: string): string =>
    text.length > maxString ? `${text.slice(0, maxString)}…` : text;

  const walk = (current: unknown, depth: number): unknown => {
    if (current === null) return null;
    switch (typeof current) {
      case 'string':
        return cut(current);
      case 'number':
        return Number.isFinite(current) ? current : String(current);
      case 'boolean':
        return current;
      case 'bigint':
        return current.toString();
      case 'object':
        break;
      default:
        return undefined;
    }
    if (current instanceof Date) {
      return Number.isNaN(current.getTime()) ? null : current.toISOString();
    }
    if (depth >= maxDepth) return '[Truncated]';
    const object = current as object;
    if (seen.has(object)) return '[Circular]';
    seen.add(object);
    try {
      if (Array.isArray(object)) {
        return object.slice(0, maxMembers).map((item) => walk(item, depth + 1) ?? null);
      }
      const out: Record<string, unknown> = {};
      let count = 0;
      for (const key of Object.keys(object)) {
        if (FORBIDDEN.has(key)) continue;
        if (count++ >= maxMembers) break;
        const member = (object as Record<string, unknown>)[key];
        out[key] = keys.has(normalizeKey(key)) ? REDACTED : walk(member, depth + 1);
      }
      return out;
    } finally {
      seen.delete(object);
    }
  };
  return walk(value, 0);
}
