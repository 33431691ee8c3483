import { DEFAULT_STRING_STEPS, sanitized, sanitizeString, validate } from '@prod/validation';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { jsonLike } from './fixtures/json-like.js';

// The walk before validation copies only what it changes (copy-on-write), lists keys with
// `for...in` (checking they are the object's own when `Object.prototype` has enumerable
// properties), and finds each key's plan by the schema's order first. `z.unknown()` hands the
// walked value back as it is, so these tests see the walk's own output.

const full = (value: string): string => sanitizeString(value, DEFAULT_STRING_STEPS);

/** The walk as a plain recursive copy would do it: every string through the defaults. */
const reference = (value: unknown): unknown => {
  if (typeof value === 'string') return full(value);
  if (Array.isArray(value)) return value.map(reference);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reference(v)]));
};

const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('a\u200bb', 'e\u0301', '\u0007', 'Zoë'),
);
const key = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('toString', 'valueOf', '0', '1'));
const json = jsonLike(text, key);

describe('the sanitize walk', () => {
  it('returns a clean input as the very same object, nested values included', () => {
    const clean = { name: 'Ada', tags: ['x', 'y'], address: { city: 'London' }, n: 1 };
    const result = validate(z.unknown(), clean);
    expect(result.ok && result.value).toBe(clean);
  });

  it('copies only the path to a changed string, and never mutates the input', () => {
    const address = { city: 'London' };
    const tags = ['x', 'y'];
    const input = { name: 'Ad\u200ba', address, tags, list: [{ a: 'b\u0007' }], n: 1 };
    const result = validate(z.unknown(), input);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const out = result.value as typeof input;
    expect(out).not.toBe(input);
    expect(out).toEqual({ name: 'Ada', address, tags, list: [{ a: 'b' }], n: 1 });
    expect(Object.keys(out)).toEqual(['name', 'address', 'tags', 'list', 'n']);
    // Unchanged branches are shared, changed ones are new.
    expect(out.address).toBe(address);
    expect(out.tags).toBe(tags);
    expect(out.list).not.toBe(input.list);
    expect(input).toEqual({ name: 'Ad\u200ba', address, tags, list: [{ a: 'b\u0007' }], n: 1 });
  });

  it('matches a plain recursive copy on any JSON-like input, sharing what did not change', () => {
    fc.assert(
      fc.property(json, (input) => {
        const before = structuredClone(input);
        const result = validate(z.unknown(), input);
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        const expected = reference(input);
        expect(result.value).toEqual(expected);
        expect(input).toEqual(before);
        // Nothing to change: no copy at all.
        if (typeof input === 'object' && input !== null) {
          const same = JSON.stringify(expected) === JSON.stringify(input);
          expect(result.value === input).toBe(same);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('finds each field\u2019s own steps whatever the order of the keys', () => {
    const Schema = z.looseObject({
      id: z.number(),
      code: sanitized(z.string(), ['trim', 'lowercase']),
      count: z.number(),
      raw: sanitized(z.string(), [], { defaults: false }),
      note: z.string(),
    });
    const expected = { code: 'ab', raw: ' \u0007 ', note: 'n', extra: 'x', id: 1, count: 2 };
    const orders = [
      { id: 1, code: ' AB ', count: 2, raw: ' \u0007 ', note: 'n\u200b', extra: 'x\u0007' },
      { note: 'n\u200b', raw: ' \u0007 ', count: 2, code: ' AB ', id: 1, extra: 'x\u0007' },
      { extra: 'x\u0007', code: ' AB ', raw: ' \u0007 ', note: 'n\u200b', id: 1, count: 2 },
      { count: 2, id: 1, note: 'n\u200b', extra: 'x\u0007', raw: ' \u0007 ', code: ' AB ' },
    ];
    for (const input of orders) {
      const result = validate(Schema, input);
      expect(result.ok && result.value).toEqual(expected);
    }
  });

  it('refuses a prototype key that comes after a changed value', () => {
    const input = JSON.parse('{"a":"x\\u0007","b":{"c":"\\u200b","__proto__":{"admin":true}}}');
    const result = validate(z.unknown(), input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.errors?.[0]).toMatchObject({ path: '/b/__proto__', code: 'forbidden_key' });
    expect(input.a).toBe('x\u0007');
  });

  it('walks, counts and copies only own keys when Object.prototype is polluted', () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.polluted = 'p\u0007';
    try {
      const input = { a: 'a\u0007', b: 'b' };
      const result = validate(z.unknown(), input, { sanitize: { limits: { maxKeys: 2 } } });
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      expect(Object.keys(result.value as object)).toEqual(['a', 'b']);
      expect(Object.hasOwn(result.value as object, 'polluted')).toBe(false);
      const clean = { a: 'a' };
      const same = validate(z.unknown(), clean, { sanitize: { limits: { maxKeys: 1 } } });
      expect(same.ok && same.value).toBe(clean);
      const over = validate(z.unknown(), { a: 1, b: 2 }, { sanitize: { limits: { maxKeys: 1 } } });
      expect(over.ok === false && over.error.errors?.[0]?.code).toBe('too_many_keys');
    } finally {
      delete proto.polluted;
    }
  });

  it('holds the key limit to all keys of the input, each key counted before its value is walked', () => {
    const input = { a: { b: 1, c: 2 }, d: JSON.parse('{"__proto__":1}') };
    const result = validate(z.unknown(), input, { sanitize: { limits: { maxKeys: 4 } } });
    expect(result.ok === false && result.error.errors?.[0]).toMatchObject({
      path: '/d',
      code: 'too_many_keys',
    });
  });

  it('reports the first fault in the input\u2019s order (one walk counts and checks each key)', () => {
    const limits = { maxKeys: 2, maxStringLength: 10 };
    const cases: [unknown, string, string][] = [
      // The third key goes over maxKeys before the prototype key after it is looked at.
      [JSON.parse('{"a":1,"b":2,"__proto__":1}'), '', 'too_many_keys'],
      // A prototype key met first is refused as such, though the object also has too many keys.
      [JSON.parse('{"__proto__":1,"a":1,"b":2}'), '/__proto__', 'forbidden_key'],
      // A fault inside an earlier value is met before the later keys are counted.
      [{ s: 'x'.repeat(20), a: 1, b: 2 }, '/s', 'too_long'],
      [{ a: { b: 1, c: 2 } }, '/a', 'too_many_keys'],
    ];
    for (const [input, path, code] of cases) {
      const result = validate(z.unknown(), input, { sanitize: { limits } });
      expect(result.ok, code).toBe(false);
      if (result.ok) continue;
      expect(result.error.code).toBe('VALIDATION_UNSAFE_INPUT');
      expect(result.error.errors?.[0]).toMatchObject({ path, code });
    }
  });
});
