import type { ProdError, Result } from '@prod/core';
import { parseListOptions, parseNewNote, parseNotePatch } from 'example-notes-app';
import { describe, expect, it } from 'vitest';

const paths = (result: Result<unknown, ProdError>): string[] =>
  result.ok ? [] : (result.error.errors ?? []).map((error) => error.path);

describe('parseNewNote', () => {
  it('trims the title and defaults the body', () => {
    expect(parseNewNote({ title: '  Hi  ' })).toEqual({
      ok: true,
      value: { title: 'Hi', body: '' },
    });
  });

  it('accepts 200 characters of title and 10,000 of body, not one more', () => {
    expect(parseNewNote({ title: 'é'.repeat(200), body: 'b'.repeat(10_000) }).ok).toBe(true);
    expect(paths(parseNewNote({ title: 'x'.repeat(201) }))).toEqual(['/title']);
    expect(paths(parseNewNote({ title: 't', body: 'b'.repeat(10_001) }))).toEqual(['/body']);
  });

  it('answers VALIDATION_FAILED (422) with one entry per bad field', () => {
    const result = parseNewNote({ title: 1, body: null, extra: true });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('VALIDATION_FAILED');
    expect(result.error.status).toBe(422);
    expect(result.error.errors).toEqual([
      { path: '/title', message: 'must be a string' },
      { path: '/body', message: 'must be a string' },
      { path: '/extra', message: 'is not a known field' },
    ]);
  });

  it('says "is required" for a missing title', () => {
    const result = parseNewNote({});
    expect(!result.ok && result.error.errors).toEqual([{ path: '/title', message: 'is required' }]);
  });

  it.each([[null], [undefined], ['title'], [42], [[{ title: 't' }]], [true]])(
    'refuses %j as a whole',
    (input) => {
      expect(paths(parseNewNote(input))).toEqual(['']);
    },
  );

  it('treats an own __proto__ key (as JSON.parse makes it) as an unknown field', () => {
    const input = JSON.parse('{"title":"t","__proto__":{"admin":true}}') as unknown;
    expect(paths(parseNewNote(input))).toEqual(['/__proto__']);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('reports at most 20 field errors', () => {
    const input = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, i]));
    expect(paths(parseNewNote({ title: 't', ...input }))).toHaveLength(20);
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

describe('parseListOptions', () => {
  it('defaults to 50 from the start', () => {
    expect(parseListOptions({})).toEqual({ ok: true, value: { limit: 50, offset: 0 } });
    expect(parseListOptions({ limit: '100', offset: '7' })).toEqual({
      ok: true,
      value: { limit: 100, offset: 7 },
    });
  });

  it.each([
    [{ limit: '0' }, '/limit'],
    [{ limit: '101' }, '/limit'],
    [{ limit: '1e2' }, '/limit'],
    [{ limit: ['1', '2'] }, '/limit'],
    [{ offset: '-1' }, '/offset'],
    [{ offset: '9'.repeat(400) }, '/offset'],
  ])('refuses %j', (query, path) => {
    const result = parseListOptions(query);
    expect(!result.ok && result.error.errors?.map((error) => error.path)).toEqual([path]);
  });
});

describe('parseListOptions with search (the notes.search flag on)', () => {
  const search = { search: true };

  it('trims q and keeps every character as it is', () => {
    expect(parseListOptions({ q: '  milk  ' }, search)).toEqual({
      ok: true,
      value: { limit: 50, offset: 0, q: 'milk' },
    });
    expect(parseListOptions({ q: "100%_'; DROP TABLE notes; --" }, search)).toMatchObject({
      ok: true,
      value: { q: "100%_'; DROP TABLE notes; --" },
    });
    expect(parseListOptions({ q: 'é'.repeat(200) }, search).ok).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['blank', '   '],
    ['over 200 characters', 'x'.repeat(201)],
    ['10 kB', 'x'.repeat(10_000)],
    ['a NUL character', 'a\u0000b'],
    ['an unpaired surrogate', 'a\ud800b'],
    ['given twice', ['a', 'b']],
  ])('refuses a q that is %s with one error on /q', (_label, q) => {
    const result = parseListOptions({ q }, search);
    expect(!result.ok && result.error.errors?.map((error) => error.path)).toEqual(['/q']);
  });

  it('does not look at q without search, whatever it holds', () => {
    for (const q of ['milk', '', 'x'.repeat(10_000), 'a\u0000b', ['a', 'b']]) {
      expect(parseListOptions({ q })).toEqual({ ok: true, value: { limit: 50, offset: 0 } });
    }
  });
});
