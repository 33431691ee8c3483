import type { ProdError, Result } from '@prod/core';
import { parseNewNote, parseNotePatch, parseSearch } from 'example-notes-app';
import { describe, expect, it } from 'vitest';

const paths = (result: Result<unknown, ProdError>): string[] =>
  result.ok ? [] : (result.error.errors ?? []).map((error) => error.path);

describe('parseNewNote (the schema of POST /v1/notes, outside HTTP)', () => {
  it('trims the title and the body, and defaults the body', () => {
    expect(parseNewNote({ title: '  Hi  ' })).toEqual({
      ok: true,
      value: { title: 'Hi', body: '' },
    });
    expect(parseNewNote({ title: 'Hi', body: '  b  ' })).toEqual({
      ok: true,
      value: { title: 'Hi', body: 'b' },
    });
  });

  it('removes control and invisible characters and normalizes to NFC before checking', () => {
    const parsed = parseNewNote({ title: '\u200bcafe\u0301\u0007' });
    expect(parsed).toEqual({ ok: true, value: { title: 'caf\u00e9', body: '' } });
    // Nothing left once sanitized: empty.
    expect(paths(parseNewNote({ title: '\u200b\u200b' }))).toEqual(['/title']);
  });

  it('accepts 200 characters of title and 10,000 of body, not one more', () => {
    expect(parseNewNote({ title: 'é'.repeat(200), body: 'b'.repeat(10_000) }).ok).toBe(true);
    expect(paths(parseNewNote({ title: 'x'.repeat(201) }))).toEqual(['/title']);
    expect(paths(parseNewNote({ title: 't', body: 'b'.repeat(10_001) }))).toEqual(['/body']);
  });

  it('answers VALIDATION_INVALID_INPUT (400) with one entry per bad field, each with a code', () => {
    const result = parseNewNote({ title: 1, body: null, extra: true });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('VALIDATION_INVALID_INPUT');
    expect(result.error.status).toBe(400);
    expect(result.error.errors).toEqual([
      { path: '/title', code: 'invalid_type', message: expect.stringMatching(/string/) },
      { path: '/body', code: 'invalid_type', message: expect.stringMatching(/string/) },
      { path: '/extra', code: 'unrecognized_key', message: expect.any(String) },
    ]);
  });

  it('names a missing title', () => {
    expect(paths(parseNewNote({}))).toEqual(['/title']);
  });

  it.each([[null], [undefined], ['title'], [42], [[{ title: 't' }]], [true]])(
    'refuses %j as a whole',
    (input) => {
      expect(paths(parseNewNote(input))).toEqual(['']);
    },
  );

  it('refuses an own __proto__ key (as JSON.parse makes it) before validation', () => {
    const input = JSON.parse('{"title":"t","__proto__":{"admin":true}}') as unknown;
    const result = parseNewNote(input);
    expect(!result.ok && result.error.code).toBe('VALIDATION_UNSAFE_INPUT');
    expect(paths(result)).toEqual(['/__proto__']);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('reports at most 20 field errors, and how many there were', () => {
    const input = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, i]));
    const result = parseNewNote({ title: 't', ...input });
    expect(paths(result)).toHaveLength(20);
    expect(!result.ok && result.error.details).toMatchObject({ errorCount: 500 });
  });
});

describe('parseNotePatch', () => {
  it('accepts one field or both', () => {
    expect(parseNotePatch({ body: '' })).toEqual({ ok: true, value: { body: '' } });
    expect(parseNotePatch({ title: ' T ', body: 'b' })).toEqual({
      ok: true,
      value: { title: 'T', body: 'b' },
    });
  });

  it('refuses an empty change, an empty title and unknown fields', () => {
    expect(paths(parseNotePatch({}))).toEqual(['']);
    expect(paths(parseNotePatch({ title: '' }))).toEqual(['/title']);
    expect(paths(parseNotePatch({ title: 't', id: 'x' }))).toEqual(['/id']);
  });
});

describe('parseSearch (?q= while the notes.search flag is on)', () => {
  it('trims q and keeps every other character as it is', () => {
    expect(parseSearch('  milk  ')).toEqual({ ok: true, value: 'milk' });
    expect(parseSearch("100%_'; DROP TABLE notes; --")).toEqual({
      ok: true,
      value: "100%_'; DROP TABLE notes; --",
    });
    expect(parseSearch('é'.repeat(200)).ok).toBe(true);
    // As titles are stored: NFC, no invisible characters.
    expect(parseSearch('cafe\u0301\u200b')).toEqual({ ok: true, value: 'caf\u00e9' });
  });

  it.each([
    ['empty', ''],
    ['blank', '   '],
    ['over 200 characters', 'x'.repeat(201)],
    ['10 kB', 'x'.repeat(10_000)],
    ['a NUL character', 'a\u0000b'],
    ['an unpaired surrogate', 'a\ud800b'],
    ['given twice', ['a', 'b']],
  ])('refuses a q that is %s with one error on /query/q', (_label, q) => {
    const result = parseSearch(q);
    expect(!result.ok && result.error.code).toBe('VALIDATION_INVALID_INPUT');
    expect(paths(result)).toEqual(['/query/q']);
  });
});
