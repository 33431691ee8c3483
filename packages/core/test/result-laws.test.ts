import { all, andThen, collect, err, isResult, map, ok, type Result } from '@prod/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// Results over arbitrary values and errors, both sides equally likely.
const anyResult = fc.oneof(fc.anything().map(ok), fc.anything().map(err)) as fc.Arbitrary<
  Result<unknown, unknown>
>;
const intResult = fc.oneof(fc.integer().map(ok), fc.string().map(err)) as fc.Arbitrary<
  Result<number, string>
>;
// Pure functions drawn by fast-check: the same input always gives the same output.
const intFn = fc.func(fc.integer());
const intToResult = fc.func(intResult);

describe('map is a functor', () => {
  it('identity: map(r, x => x) equals r', () => {
    fc.assert(
      fc.property(anyResult, (r) => {
        expect(map(r, (x) => x)).toStrictEqual(r);
      }),
    );
  });

  it('composition: map(map(r, f), g) equals map(r, x => g(f(x)))', () => {
    fc.assert(
      fc.property(intResult, intFn, intFn, (r, f, g) => {
        expect(map(map(r, f), g)).toStrictEqual(map(r, (x) => g(f(x))));
      }),
    );
  });
});

describe('andThen is a monad bind', () => {
  it('left identity: andThen(ok(a), f) equals f(a)', () => {
    fc.assert(
      fc.property(fc.integer(), intToResult, (a, f) => {
        expect(andThen(ok(a), f)).toStrictEqual(f(a));
      }),
    );
  });

  it('right identity: andThen(r, ok) equals r', () => {
    fc.assert(
      fc.property(anyResult, (r) => {
        expect(andThen(r, (x) => ok(x))).toStrictEqual(r);
      }),
    );
  });

  it('associativity: andThen(andThen(r, f), g) equals andThen(r, x => andThen(f(x), g))', () => {
    fc.assert(
      fc.property(intResult, intToResult, intToResult, (r, f, g) => {
        expect(andThen(andThen(r, f), g)).toStrictEqual(andThen(r, (x) => andThen(f(x), g)));
      }),
    );
  });
});

describe('all and collect agree', () => {
  it('both succeed with the same values, or both fail; all gives the first of collect’s errors', () => {
    fc.assert(
      fc.property(fc.array(intResult, { maxLength: 20 }), (results) => {
        const first = all(results);
        const every = collect(results);
        expect(first.ok).toBe(every.ok);
        if (first.ok && every.ok) {
          expect(first.value).toStrictEqual(every.value);
          expect(first.value).toStrictEqual(results.map((r) => (r.ok ? r.value : undefined)));
        }
        if (!first.ok && !every.ok) {
          expect(every.error.length).toBe(results.filter((r) => !r.ok).length);
          expect(first.error).toBe(every.error[0]);
        }
      }),
    );
  });
});

describe('JSON round trip', () => {
  it('keeps isResult and the ok flag for any JSON value or error', () => {
    const jsonResult = fc.oneof(
      fc.jsonValue().map((v) => ok(v)),
      fc.jsonValue().map((e) => err(e)),
      fc.constant(ok()),
      fc.constant(ok(undefined)),
    ) as fc.Arbitrary<Result<unknown, unknown>>;
    fc.assert(
      fc.property(jsonResult, (r) => {
        const back: unknown = JSON.parse(JSON.stringify(r));
        expect(isResult(back)).toBe(true);
        expect((back as Result<unknown, unknown>).ok).toBe(r.ok);
      }),
    );
  });

  it('never takes a non-Result JSON value for a Result unless it has the Ok/Err shape', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const shaped =
          typeof value === 'object' &&
          value !== null &&
          !Array.isArray(value) &&
          (((value as { ok?: unknown }).ok === true &&
            ('value' in value || Object.keys(value).length === 1)) ||
            ((value as { ok?: unknown }).ok === false && 'error' in value));
        expect(isResult(value)).toBe(shaped);
      }),
    );
  });
});
