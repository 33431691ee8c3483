import { check } from './internal/options.js';
import { isErrorLike, serializeError } from './serializers.js';

/**
 * The keys redacted by default. A key matches when, lower-cased and stripped of `-`, `_`, `.`
 * and spaces, it equals or ends with one of these (so `Authorization`, `x-api-key`,
 * `client_secret`, `accessToken`, `Set-Cookie` and `DB_PASSWORD` all match).
 */
export const DEFAULT_REDACT_KEYS: readonly string[] = Object.freeze([
  'authorization',
  'cookie',
  'set-cookie',
  'password',
  'passwd',
  'token',
  'apiKey',
  'secret',
  'privateKey',
  'creditCard',
]);

/** How {@link createRedactor} finds and hides secrets. */
export interface RedactOptions {
  /** More key names to redact, matched like {@link DEFAULT_REDACT_KEYS}. Default none. */
  readonly keys?: readonly string[];
  /** Whether {@link DEFAULT_REDACT_KEYS} are redacted too. Default true. */
  readonly defaults?: boolean;
  /** What replaces a secret value. Default `'[Redacted]'`. */
  readonly censor?: string;
  /** Objects nested deeper than this become `'[Truncated]'`. Default 16. */
  readonly maxDepth?: number;
  /**
   * At most this many keys and array items are looked at (and written) per value; the rest
   * is cut with a `'[Truncated]'` marker. Default 5000.
   */
  readonly maxEntries?: number;
}

/** Hides secret-keyed values at any depth, case-insensitively. */
export interface Redactor {
  /**
   * Returns `value` itself when it holds no secret key, no Error, no cycle and fits the
   * bounds; else a redacted copy (a `__proto__` key stays a plain own key, it never sets a
   * prototype). Never mutates `value`, never throws.
   */
  redact(value: unknown): unknown;
  /** Whether a key name counts as secret. */
  isSecretKey(key: string): boolean;
}

const CENSOR = '[Redacted]';
const TRUNCATED = '[Truncated]';
const CIRCULAR = '[Circular]';
const UNREADABLE = '[Unreadable]';
const MAX_CACHED_KEYS = 10_000;
const MAX_CACHED_KEY_LENGTH = 128;
const SEPARATORS = /[-_.\s]/g;

function normalize(key: string): string {
  return key.toLowerCase().replace(SEPARATORS, '');
}

function hasToJson(value: object): boolean {
  return typeof (value as { toJSON?: unknown }).toJSON === 'function';
}

function hasOwnToJson(value: object): boolean {
  return Object.hasOwn(value, 'toJSON') && hasToJson(value);
}

class KeyRedactor implements Redactor {
  private readonly names: readonly string[];
  private readonly censor: string;
  private readonly maxDepth: number;
  private readonly maxEntries: number;
  // Log keys repeat endlessly: remember each verdict so the hot path is one lookup. A
  // null-prototype dictionary reads faster than a Map here, and `__proto__` is a plain key in it.
  private verdicts = Object.create(null) as Record<string, boolean | undefined>;
  private verdictCount = 0;
  private remaining = 0;
  // Top-level keys whose values a custom serializer turns into something else first: left
  // alone here, the serializer's output is redacted instead.
  private readonly serialized: ReadonlySet<string> | undefined;

  constructor(options: RedactOptions, serialized?: ReadonlySet<string>) {
    this.serialized = serialized !== undefined && serialized.size > 0 ? serialized : undefined;
    const extra: unknown = options.keys ?? [];
    if (!Array.isArray(extra)) check.fail('redact.keys', 'an array of strings', extra);
    (extra as unknown[]).forEach((key, at) => {
      if (typeof key !== 'string') check.fail(`redact.keys[${at}]`, 'a string', key);
    });
    const keys = [
      ...(check.boolean('redact.defaults', options.defaults, true) ? DEFAULT_REDACT_KEYS : []),
      ...(extra as string[]),
    ];
    const names = new Set<string>();
    for (const key of keys) {
      const name = normalize(key);
      if (name.length > 0) names.add(name);
    }
    this.names = [...names];
    this.censor = check.string('redact.censor', options.censor, CENSOR);
    this.maxDepth = check.integer('redact.maxDepth', options.maxDepth, 16, { min: 1 });
    this.maxEntries = check.integer('redact.maxEntries', options.maxEntries, 5000, { min: 1 });
  }

  isSecretKey(key: string): boolean {
    const known = this.verdicts[key];
    if (known !== undefined) return known;
    const name = normalize(key);
    let secret = false;
    for (const candidate of this.names) {
      if (name.endsWith(candidate)) {
        secret = true;
        break;
      }
    }
    if (key.length <= MAX_CACHED_KEY_LENGTH) {
      if (this.verdictCount >= MAX_CACHED_KEYS) {
        this.verdicts = Object.create(null) as Record<string, boolean | undefined>;
        this.verdictCount = 0;
      }
      this.verdicts[key] = secret;
      this.verdictCount++;
    }
    return secret;
  }

  redact(value: unknown): unknown {
    if (typeof value !== 'object' || value === null) return value;
    this.remaining = this.maxEntries;
    try {
      if (!this.needsCopy(value, 0)) return value;
    } catch {
      // A throwing getter or proxy trap: the careful copy below reads each value guarded.
    }
    this.remaining = this.maxEntries;
    try {
      return this.copy(value, 0, []);
    } catch {
      return { [TRUNCATED]: 'value could not be read' };
    }
  }

  /** The fast pass: no allocation, stops at the first reason to copy. */
  private needsCopy(value: object, depth: number): boolean {
    const proto: unknown = Object.getPrototypeOf(value);
    // Plain objects are nearly every value in a log line: skip the Error and toJSON probes.
    if (proto !== Object.prototype && proto !== null) {
      if (Array.isArray(value)) return this.arrayNeedsCopy(value, depth);
      if (isErrorLike(value)) return true;
      if (hasToJson(value) || ArrayBuffer.isView(value)) return false;
    } else if (hasOwnToJson(value)) {
      return false;
    }
    if (depth >= this.maxDepth) return true;
    // Object.keys reads V8's enum cache: faster than for-in plus an own-property check.
    const keys = Object.keys(value);
    const count = keys.length;
    this.remaining -= count;
    if (this.remaining < 0) return true;
    for (let i = 0; i < count; i++) {
      const key = keys[i] as string;
      if (this.isSecretKey(key)) return true;
      if (depth === 0 && this.serialized?.has(key) === true) continue;
      const item: unknown = (value as Record<string, unknown>)[key];
      if (typeof item === 'object' && item !== null && this.needsCopy(item, depth + 1)) {
        return true;
      }
    }
    return false;
  }

  private arrayNeedsCopy(value: readonly unknown[], depth: number): boolean {
    if (depth >= this.maxDepth) return true;
    const length = value.length;
    this.remaining -= length;
    if (this.remaining < 0) return true;
    for (let i = 0; i < length; i++) {
      const item = value[i];
      if (typeof item === 'object' && item !== null && this.needsCopy(item, depth + 1)) {
        return true;
      }
    }
    return false;
  }

  /** The slow pass: a bounded, cycle-safe, redacted copy. */
  private copy(value: unknown, depth: number, ancestors: object[]): unknown {
    if (typeof value !== 'object' || value === null) return value;
    if (isErrorLike(value)) return this.copy(serializeError(value), depth, ancestors);
    if (hasToJson(value) || ArrayBuffer.isView(value)) return value;
    if (ancestors.includes(value)) return CIRCULAR;
    if (depth >= this.maxDepth) return TRUNCATED;
    ancestors.push(value);
    try {
      if (Array.isArray(value)) {
        const length = value.length;
        const take = Math.max(0, Math.min(length, this.remaining));
        this.remaining -= take;
        const out: unknown[] = [];
        for (let i = 0; i < take; i++) out.push(this.copy(read(value, i), depth + 1, ancestors));
        if (take < length) out.push(`${TRUNCATED} ${length - take} more`);
        return out;
      }
      const out: Record<string, unknown> = {};
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue;
        if (this.remaining <= 0) {
          out[TRUNCATED] = true;
          break;
        }
        this.remaining--;
        const item = this.isSecretKey(key)
          ? this.censor
          : depth === 0 && this.serialized?.has(key) === true
            ? read(value, key)
            : this.copy(read(value, key), depth + 1, ancestors);
        // Assigning `__proto__` would set the prototype: define it as the plain key it was.
        if (key === '__proto__') {
          Object.defineProperty(out, key, {
            value: item,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        } else out[key] = item;
      }
      return out;
    } finally {
      ancestors.pop();
    }
  }
}

function read(value: object, key: string | number): unknown {
  try {
    return (value as Record<string | number, unknown>)[key];
  } catch {
    return UNREADABLE;
  }
}

/**
 * Builds a redactor that hides the values of secret-looking keys at any depth, whatever
 * their case or separators, without walking more than needed: a value with nothing to hide
 * is checked in one allocation-free pass and returned as is.
 *
 * When to use: `createLogger` uses one for every line; use your own to scrub an object before
 * it leaves the process some other way (an error report, an audit record).
 *
 * Gotchas: matching is by key name, never by value: a token inside a message string is not
 * found. Errors below the top level are turned into their serialized form (see
 * `serializeError`) so that their fields are redacted too.
 *
 * @example
 * const redactor = createRedactor({ keys: ['ssn'] });
 * redactor.redact({ user: { Password: 'x', ssn: '1' } }); // { user: { Password: '[Redacted]', ssn: '[Redacted]' } }
 */
export function createRedactor(options: RedactOptions = {}): Redactor {
  return createLineRedactor(options, undefined);
}

/** For the logger: a redactor that leaves the top-level keys of custom serializers to them. */
export function createLineRedactor(
  options: RedactOptions,
  serialized: ReadonlySet<string> | undefined,
): Redactor {
  return new KeyRedactor(check.object<RedactOptions>('redact', options), serialized);
}
