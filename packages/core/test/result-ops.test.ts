import {
  all,
  andThen,
  collect,
  err,
  isProdError,
  map,
  mapErr,
  match,
  ok,
  orElse,
  ProdError,
  partition,
  type Result,
  tap,
  tapErr,
  unwrap,
  unwrapOr,
} from '@prod/core';
import { describe, expect, it, vi } from 'vitest';

const okNum = (n: number): Result<number, string> => ok(n);
const errStr = (e: string): Result<number, string> => err(e);

describe('map', () => {
  it('transforms a success', () => {
    expect(map(okNum(2), (n) => n * 3)).toStrictEqual(ok(6));
  });
  it('passes a failure through untouched, without calling fn', () => {
    const fn = vi.fn((n: number) => n);
    const failure = errStr('e');
    expect(map(failure, fn)).toBe(failure);
    expect(fn).not.toHaveBeenCalled();
  });
  it('lets a throw in fn escape (a bug is not an expected failure)', () => {
    expect(() =>
      map(okNum(1), () => {
        throw new RangeError('bug');
      }),
    ).toThrow(RangeError);
  });
});

describe('mapErr', () => {
  it('transforms a failure', () => {
    expect(mapErr(errStr('e'), (e) => e.length)).toStrictEqual(err(1));
  });
  it('passes a success through untouched, without calling fn', () => {
    const fn = vi.fn((e: string) => e);
    const success = okNum(1);
    expect(mapErr(success, fn)).toBe(success);
    expect(fn).not.toHaveBeenCalled();
  });
});

describe('andThen', () => {
  it('chains a step that succeeds', () => {
    expect(andThen(okNum(2), (n) => ok(String(n)))).toStrictEqual(ok('2'));
  });
  it('chains a step that fails', () => {
    expect(andThen(okNum(2), () => err('step'))).toStrictEqual(err('step'));
  });
  it('short-circuits on a failure', () => {
    const fn = vi.fn((n: number) => ok(n));
    expect(andThen(errStr('first'), fn)).toStrictEqual(err('first'));
    expect(fn).not.toHaveBeenCalled();
  });
});

describe('orElse', () => {
  it('recovers a failure', () => {
    expect(orElse(errStr('e'), (e) => ok(e.length))).toStrictEqual(ok(1));
  });
  it('can replace the error', () => {
    expect(orElse(errStr('e'), () => err(42))).toStrictEqual(err(42));
  });
  it('leaves a success alone', () => {
    const fn = vi.fn(() => ok(0));
    expect(orElse(okNum(5), fn)).toStrictEqual(ok(5));
    expect(fn).not.toHaveBeenCalled();
  });
});

describe('match', () => {
  it('folds both sides', () => {
    const handlers = { ok: (n: number) => `ok:${n}`, err: (e: string) => `err:${e}` };
    expect(match(okNum(1), handlers)).toBe('ok:1');
    expect(match(errStr('x'), handlers)).toBe('err:x');
  });
});

describe('tap / tapErr', () => {
  it('tap sees the value of a success only and returns the same Result', () => {
    const seen: number[] = [];
    const success = okNum(7);
    expect(tap(success, (n) => seen.push(n))).toBe(success);
    const failure = errStr('e');
    expect(tap(failure, (n) => seen.push(n))).toBe(failure);
    expect(seen).toEqual([7]);
  });
  it('tapErr sees the error of a failure only and returns the same Result', () => {
    const seen: string[] = [];
    const failure = errStr('bad');
    expect(tapErr(failure, (e) => seen.push(e))).toBe(failure);
    expect(tapErr(okNum(1), (e) => seen.push(e))).toStrictEqual(ok(1));
    expect(seen).toEqual(['bad']);
  });
});

describe('unwrap / unwrapOr', () => {
  it('unwrap returns the value of a success', () => {
    expect(unwrap(okNum(3))).toBe(3);
  });
  it('unwrap throws the ProdError itself, not a wrapper', () => {
    const error = new ProdError({ code: 'NOTE_NOT_FOUND', status: 404 });
    let thrown: unknown;
    try {
      unwrap(err(error));
    } catch (caught) {
      thrown = caught;
    }
    expect(thrown).toBe(error);
    expect(isProdError(thrown, 'NOTE_NOT_FOUND')).toBe(true);
  });
  it('unwrap throws non-Error errors as they are', () => {
    expect(() => unwrap(errStr('plain'))).toThrow('plain');
  });
  it('unwrapOr gives the fallback on failure only', () => {
    expect(unwrapOr(okNum(1), 0)).toBe(1);
    expect(unwrapOr(errStr('e'), 0)).toBe(0);
    expect(unwrapOr(ok(undefined), 'fallback')).toBeUndefined();
  });
});

describe('all', () => {
  it('collects values in order', () => {
    expect(all([ok(1), ok('a'), ok(null)])).toStrictEqual(ok([1, 'a', null]));
  });
  it('returns the first error', () => {
    expect(all([ok(1), err('first'), ok(2), err('second')])).toStrictEqual(err('first'));
  });
  it('gives an empty tuple for no inputs', () => {
    expect(all([])).toStrictEqual(ok([]));
  });
  it('handles a large input without recursion', () => {
    const many = Array.from({ length: 100_000 }, (_, i) => ok(i));
    const r = all(many);
    expect(r.ok && r.value.length).toBe(100_000);
  });
});

describe('collect', () => {
  it('collects values when all succeed', () => {
    expect(collect([ok(1), ok(2)])).toStrictEqual(ok([1, 2]));
  });
  it('returns every error, in order', () => {
    expect(collect([err('a'), ok(1), err('b')])).toStrictEqual(err(['a', 'b']));
  });
  it('gives an empty tuple for no inputs', () => {
    expect(collect([])).toStrictEqual(ok([]));
  });
});

describe('partition', () => {
  it('splits values and errors, each in order', () => {
    expect(partition([ok(1), err('a'), ok(2), err('b')])).toStrictEqual([
      [1, 2],
      ['a', 'b'],
    ]);
    expect(partition([])).toStrictEqual([[], []]);
  });
});
