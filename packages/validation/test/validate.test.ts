import { isProdError, isResult } from '@prod/core';
import {
  pipeline,
  safeJsonParse,
  sanitized,
  sanitizers,
  sanitizeString,
  ValidationErrors,
  validate,
  validateAsync,
} from '@prod/validation';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { jsonLike } from './fixtures/json-like.js';

describe('validate', () => {
  const User = z.object({
    name: z.string().min(1),
    age: z.number().int().min(0),
    tags: z.array(z.string().max(3)),
    address: z.object({ city: z.string() }),
  });

  it('returns Ok with the parsed value', () => {
    const result = validate(User, {
      name: 'Ada',
      age: 36,
      tags: ['a'],
      address: { city: 'London' },
    });
    expect(result).toEqual({
      ok: true,
      value: { name: 'Ada', age: 36, tags: ['a'], address: { city: 'London' } },
    });
  });

  it('lists every failing field as { path, code, message }, JSON Pointer paths', () => {
    const result = validate(User, { name: '', age: -1.5, tags: ['abcd', 'ok', 7], address: {} });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('VALIDATION_INVALID_INPUT');
    expect(result.error.status).toBe(400);
    const paths = result.error.errors?.map((e) => e.path);
    expect(paths).toEqual(['/name', '/age', '/tags/0', '/tags/2', '/address/city']);
    for (const error of result.error.errors ?? []) {
      expect(typeof error.code).toBe('string');
      expect(typeof error.message).toBe('string');
    }
  });

  it('caps the number of errors and keeps the count of all', () => {
    const Many = z.strictObject({});
    const input = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, i]));
    const result = validate(Many, input, { maxErrors: 10 });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.errors).toHaveLength(10);
    expect(result.error.details).toEqual({ errorCount: 500, listed: 10 });
    expect(result.error.errors?.[0]).toEqual({
      path: '/k0',
      code: 'unrecognized_key',
      message: 'is not a known field',
    });
  });

  it('never echoes huge input: keys and messages are bounded', () => {
    const huge = 'x'.repeat(100_000);
    const Strict = z.strictObject({
      a: z.string({ error: (issue) => `bad ${String(issue.input)}` }),
    });
    const result = validate(Strict, { a: 5, [huge]: 1 });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const text = JSON.stringify(result.error.toProblem());
    expect(text.length).toBeLessThan(1000);
  });

  it('sanitizes strings before validation: NFC, control and invisible characters', () => {
    const result = validate(z.object({ name: z.string().max(4) }), {
      name: 'Cafe\u0301\u0007\u200b',
    });
    expect(result).toEqual({ ok: true, value: { name: 'Café' } });
    // Removal comes before NFC: a mark after a removed character still composes.
    expect(validate(z.string(), 'e\u200b\u0301')).toEqual({ ok: true, value: 'é' });
  });

  it('applies a field\u2019s own steps (sanitized), leaving other fields to the defaults', () => {
    const Schema = z.object({
      email: sanitized(z.email(), ['email']),
      bio: sanitized(z.string(), ['trim', 'stripHtml']),
      password: sanitized(z.string(), [], { defaults: false }),
      nested: z.array(z.object({ title: sanitized(z.string(), ['escapeHtml']) })),
    });
    const result = validate(Schema, {
      email: '  Ada@BÜCHER.example ',
      bio: '  <script>alert(1)</script><b>Hi</b> there ',
      password: ' p\u0007ss ',
      nested: [{ title: '<i>"x"</i>' }],
    });
    expect(result).toEqual({
      ok: true,
      value: {
        email: 'Ada@xn--bcher-kva.example',
        bio: 'Hi there',
        password: ' p\u0007ss ',
        nested: [{ title: '&lt;i&gt;&quot;x&quot;&lt;/i&gt;' }],
      },
    });
  });

  it('does not mutate its input', () => {
    const input = { name: ' a\u0007 ' };
    validate(z.object({ name: sanitized(z.string(), ['trim']) }), input);
    expect(input).toEqual({ name: ' a\u0007 ' });
  });

  it('refuses prototype keys, deep nesting and too many keys as VALIDATION_UNSAFE_INPUT', () => {
    const Any = z.unknown();
    const cases: [unknown, string, string][] = [
      [JSON.parse('{"a":{"__proto__":{"admin":true}}}'), '/a/__proto__', 'forbidden_key'],
      [JSON.parse('{"constructor":{"prototype":{"x":1}}}'), '/constructor', 'forbidden_key'],
      [{ list: [{ prototype: 1 }] }, '/list/0/prototype', 'forbidden_key'],
      [
        JSON.parse(`${'['.repeat(40)}${']'.repeat(40)}`),
        '/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0',
        'too_deep',
      ],
      [
        Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`k${i}`, i])),
        '',
        'too_many_keys',
      ],
      [{ s: 'x'.repeat(20) }, '/s', 'too_long'],
    ];
    for (const [input, path, reason] of cases) {
      const result = validate(Any, input, { sanitize: { limits: { maxStringLength: 10 } } });
      expect(result.ok, reason).toBe(false);
      if (result.ok) continue;
      expect(result.error.code).toBe('VALIDATION_UNSAFE_INPUT');
      expect(result.error.errors?.[0]).toMatchObject({ path, code: reason });
    }
  });

  it('with sanitize: false keeps strings as given but still refuses prototype keys', () => {
    expect(validate(z.string(), '\u0007', { sanitize: false })).toEqual({
      ok: true,
      value: '\u0007',
    });
    const result = validate(z.unknown(), JSON.parse('{"__proto__":1}'), { sanitize: false });
    expect(result.ok).toBe(false);
  });

  it('validateAsync runs async refinements; validate says to use it', async () => {
    const Taken = z.string().refine(async (name) => name !== 'admin', { error: 'is taken' });
    expect(await validateAsync(Taken, 'ada')).toEqual({ ok: true, value: 'ada' });
    const taken = await validateAsync(Taken, 'admin');
    expect(taken.ok === false && taken.error.errors?.[0]?.message).toBe('is taken');
    expect(() => validate(Taken, 'ada')).toThrow(/validateAsync/);
  });

  it('refuses an unknown sanitize step when the schema is declared', () => {
    expect(() => sanitized(z.string(), ['nope' as 'trim'])).toThrowError(
      expect.objectContaining({ code: ValidationErrors.VALIDATION_INVALID_OPTIONS.code }),
    );
  });
});

describe('sanitizers', () => {
  it('each built-in step', () => {
    expect(sanitizers.trim('  a ')).toBe('a');
    expect(sanitizers.nfc('e\u0301')).toBe('é');
    expect(sanitizers.stripControl('a\u0000b\u001fc\u007fd\u0085e\tf\ng\rh')).toBe(
      'abcde\tf\ng\rh',
    );
    expect(sanitizers.stripInvisible('a\u200bb\u202ec\ufeffd\u00ade')).toBe('abcde');
    // ZWJ keeps emoji sequences whole.
    expect(sanitizers.stripInvisible('👩\u200d💻')).toBe('👩\u200d💻');
    expect(sanitizers.escapeHtml(`<a href="x">'&'</a>`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;',
    );
    expect(sanitizers.stripHtml('<style>x</style>a<img src=x onerror=alert(1)>b<')).toBe('ab');
    expect(sanitizers.lowercase('AbC')).toBe('abc');
    expect(sanitizers.email(' Ada@Example.COM ')).toBe('Ada@example.com');
    expect(sanitizers.url(' HTTPS://Example.com:443/a/../b ')).toBe('https://example.com/b');
    expect(sanitizers.url('not a url')).toBe('not a url');
    expect(sanitizeString('  <b>x</b> ', ['trim', 'stripHtml'])).toBe('x');
  });
});

describe('safeJsonParse', () => {
  it('parses JSON', () => {
    expect(safeJsonParse('{"a":[1,"b"]}')).toEqual({ ok: true, value: { a: [1, 'b'] } });
  });
  it('refuses __proto__ even spelled with escapes, and keeps the parser message out', () => {
    const escaped = safeJsonParse('{"\\u005f_proto__":{"polluted":true}}');
    expect(escaped.ok === false && escaped.error.code).toBe('VALIDATION_UNSAFE_INPUT');
    const malformed = safeJsonParse('{"secret-token-123":');
    expect(malformed.ok === false && malformed.error.code).toBe('VALIDATION_MALFORMED_JSON');
    expect(malformed.ok === false && malformed.error.message).not.toContain('secret');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
  it('bounds the length, depth and key count', () => {
    expect(safeJsonParse('"abcdef"', { maxLength: 3 }).ok).toBe(false);
    expect(safeJsonParse('[[[[1]]]]', { maxDepth: 2 }).ok).toBe(false);
    expect(safeJsonParse('{"a":1,"b":2}', { maxKeys: 1 }).ok).toBe(false);
  });
});

describe('pipeline', () => {
  const SignUp = z.object({ email: z.email(), name: z.string().min(1) });
  const toUser = pipeline(SignUp)
    .pipe((input) => ({ ...input, handle: input.name.toLowerCase().replace(/\s+/g, '-') }))
    .check(
      (user) => user.handle !== 'admin',
      () => ValidationErrors.VALIDATION_INVALID_INPUT({ message: 'taken' }),
    )
    .pipe((user) => ({ ok: true as const, value: { ...user, id: 1 } }));

  it('runs typed steps from input to domain shape', () => {
    expect(toUser.run({ email: 'ada@example.com', name: 'Ada L' })).toEqual({
      ok: true,
      value: { email: 'ada@example.com', name: 'Ada L', handle: 'ada-l', id: 1 },
    });
  });
  it('stops at the first failure', () => {
    const invalid = toUser.run({ email: 'x', name: '' });
    expect(invalid.ok === false && invalid.error.errors?.length).toBe(2);
    const taken = toUser.run({ email: 'a@b.co', name: 'Admin' });
    expect(taken.ok === false && taken.error.message).toBe('taken');
  });
  it('validates in the middle of a chain', () => {
    const parsed = pipeline<string>()
      .pipe((text) => text.split(','))
      .validate(z.array(z.coerce.number()))
      .run('1,2,x');
    expect(parsed.ok === false && parsed.error.errors?.[0]?.path).toBe('/2');
  });
});

// Fuzzing: whatever the input, the pipeline returns a Result, never throws, never lets a
// prototype-polluting key through, and never pollutes Object.prototype.
describe('fuzzing the sanitization and validation pipeline', () => {
  const polluting = fc.constantFrom('__proto__', 'constructor', 'prototype');
  const key = fc.oneof(
    fc.string({ maxLength: 8 }),
    polluting,
    fc.constantFrom('\u005f_proto__', 'toString', 'valueOf'),
  );
  const text = fc.string({ unit: 'binary', maxLength: 30 });
  const json = jsonLike(text, key, fc.oneof(fc.double(), fc.integer()));

  const hasForbidden = (value: unknown, depth = 0): boolean => {
    if (typeof value !== 'object' || value === null || depth > 64) return false;
    if (Array.isArray(value)) return value.some((item) => hasForbidden(item, depth + 1));
    return Object.keys(value).some(
      (k) =>
        k === '__proto__' ||
        k === 'constructor' ||
        k === 'prototype' ||
        hasForbidden((value as Record<string, unknown>)[k], depth + 1),
    );
  };

  const schemas = [
    z.unknown(),
    z.looseObject({ title: z.string().optional() }),
    z.record(z.string(), z.unknown()),
    z.array(z.unknown()),
    z
      .object({
        a: sanitized(z.string(), ['trim', 'stripHtml', 'escapeHtml', 'email', 'url']).optional(),
      })
      .catchall(z.unknown()),
  ];

  it('validate() always returns a Result and never lets a polluting key through', () => {
    fc.assert(
      fc.property(json, fc.integer({ min: 0, max: schemas.length - 1 }), (input, which) => {
        const result = validate(schemas[which] as z.ZodType, input);
        expect(isResult(result)).toBe(true);
        if (result.ok) expect(hasForbidden(result.value)).toBe(false);
        else expect(isProdError(result.error)).toBe(true);
        expect(Object.prototype).not.toHaveProperty('polluted');
      }),
      { numRuns: 400 },
    );
  });

  it('safeJsonParse() of any text returns a Result and never a polluting key', () => {
    const texts = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 60 }),
      json.map((value) => JSON.stringify(value) ?? 'null'),
      json.map((value) =>
        (JSON.stringify(value) ?? '').replace(
          /"constructor"|"prototype"|"__proto__"/g,
          '"\\u005f_proto__"',
        ),
      ),
    );
    fc.assert(
      fc.property(texts, (input) => {
        const result = safeJsonParse(input);
        expect(isResult(result)).toBe(true);
        if (result.ok) expect(hasForbidden(result.value)).toBe(false);
      }),
      { numRuns: 400 },
    );
  });

  it('strings come out without control or invisible characters, in NFC', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (input) => {
        const result = validate(z.string(), input);
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        expect(result.value).not.toMatch(
          // biome-ignore lint/suspicious/noControlCharactersInRegex: checking they are gone.
          /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b\u202a-\u202e\ufeff]/,
        );
        expect(result.value).toBe(result.value.normalize('NFC'));
      }),
      { numRuns: 300 },
    );
  });
});
