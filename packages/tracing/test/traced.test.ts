import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { err, ok, ProdError } from '@prod/core';
import { traced } from '@prod/tracing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { installSdk, type TestSdk } from './sdk.js';

let sdk: TestSdk;
beforeAll(() => {
  sdk = installSdk();
});
afterAll(async () => {
  await sdk.uninstall();
});
beforeEach(() => {
  sdk.exporter.reset();
});

describe('traced', () => {
  it('runs every call in its own span and returns the value untouched', () => {
    const value = ok(3);
    const add = traced('math.add', (a: number, b: number) => (a + b === 3 ? value : ok(a + b)));
    expect(add(1, 2)).toBe(value);
    expect(add(2, 2)).toEqual(ok(4));
    expect(sdk.spans().map((s) => s.name)).toEqual(['math.add', 'math.add']);
  });

  it('keeps the name and this of the wrapped function', () => {
    class Repo {
      prefix = 'note:';
      key = traced('repo.key', function keyOf(this: Repo, id: string) {
        return this.prefix + id;
      });
    }
    const repo = new Repo();
    expect(repo.key('1')).toBe('note:1');
    expect(repo.key.name).toBe('keyOf');
  });

  it('computes attributes from the arguments and applies the span options', async () => {
    const fetchNote = traced(
      'notes.fetch',
      async (id: string) =>
        err(new ProdError({ code: 'NOTE_NOT_FOUND', status: 404, details: { id } })),
      { kind: SpanKind.CLIENT, attributes: (id) => ({ 'note.id': id }) },
    );
    const result = await fetchNote('42');
    expect(result.ok).toBe(false);
    const span = sdk.span('notes.fetch');
    expect(span.attributes).toEqual({ 'note.id': '42', 'error.type': 'NOTE_NOT_FOUND' });
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('uses fixed attributes as given', () => {
    traced('fixed', () => undefined, { attributes: { component: 'x' } })();
    expect(sdk.span('fixed').attributes).toEqual({ component: 'x' });
  });

  it('records a throw and rethrows it', () => {
    const bug = new Error('bug');
    const explode = traced('explode', (): never => {
      throw bug;
    });
    expect(() => explode()).toThrow(bug);
    expect(sdk.span('explode').status.code).toBe(SpanStatusCode.ERROR);
  });
});

describe('traced: bad arguments', () => {
  it('throws TRACING_INVALID_OPTIONS at wrap time, naming what is wrong', () => {
    expect(() => traced('', () => 1)).toThrow(/option name must be a non-empty string/);
    expect(() => traced('x', 'fn' as never)).toThrow(/option fn must be a function/);
    expect(() => traced('x', () => 1, { attributes: 3 as never })).toThrow(/option attributes/);
    expect(() => traced('x', () => 1, { tracer: {} as never })).toThrow(/option tracer/);
  });
});
