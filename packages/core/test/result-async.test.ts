import {
  andThenAsync,
  err,
  fromPromise,
  fromThrowable,
  isProdError,
  mapAsync,
  mapErrAsync,
  ok,
  orElseAsync,
  ProdError,
  type Result,
  tapAsync,
} from '@prod/core';
import { describe, expect, it, vi } from 'vitest';

const delay = <T>(value: T): Promise<T> => new Promise((resolve) => setTimeout(resolve, 1, value));

describe('fromPromise', () => {
  it('settles a resolved promise into Ok', async () => {
    expect(await fromPromise(Promise.resolve(5))).toStrictEqual(ok(5));
    expect(await fromPromise(() => delay('x'))).toStrictEqual(ok('x'));
  });

  it('settles a rejection into Err with a ProdError keeping the reason as cause', async () => {
    const reason = new Error('nope');
    const r = await fromPromise(Promise.reject(reason));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(isProdError(r.error, 'INTERNAL')).toBe(true);
      expect(r.error.cause).toBe(reason);
    }
  });

  it('catches a synchronous throw inside the thunk, before any promise exists', async () => {
    const r = await fromPromise((): Promise<number> => {
      throw Object.assign(new Error('sync'), { code: 'ECONNREFUSED' });
    });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('UNAVAILABLE');
  });

  it('accepts a thunk returning a plain value', async () => {
    expect(await fromPromise(() => 3)).toStrictEqual(ok(3));
  });

  it('uses mapError when given', async () => {
    const r = await fromPromise(Promise.reject(new Error('x')), (reason) =>
      reason instanceof Error ? reason.message : 'other',
    );
    expect(r).toStrictEqual(err('x'));
  });

  it('keeps a ProdError rejection as the very error', async () => {
    const error = new ProdError({ code: 'A', status: 409 });
    const r = await fromPromise(Promise.reject(error));
    expect(!r.ok && r.error).toBe(error);
  });
});

describe('fromThrowable', () => {
  it('wraps a throwing function into one that returns a Result, passing the arguments', () => {
    const parse = fromThrowable((text: string) => JSON.parse(text) as unknown);
    expect(parse('{"a":1}')).toStrictEqual(ok({ a: 1 }));
    const bad = parse('{');
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.error.code).toBe('INTERNAL');
      expect(bad.error.cause).toBeInstanceOf(SyntaxError);
    }
  });

  it('uses mapError when given', () => {
    const parse = fromThrowable(
      (text: string) => JSON.parse(text) as unknown,
      () => 'bad json' as const,
    );
    expect(parse('{')).toStrictEqual(err('bad json'));
  });
});

describe('async variants', () => {
  const success: Promise<Result<number, string>> = delay(ok(2));
  const failure = (): Promise<Result<number, string>> => delay(err('e'));

  it('mapAsync maps a pending Result with an async step', async () => {
    expect(await mapAsync(success, async (n) => n * 10)).toStrictEqual(ok(20));
    expect(await mapAsync(ok(1), (n) => n + 1)).toStrictEqual(ok(2));
    const fn = vi.fn(async (n: number) => n);
    expect(await mapAsync(failure(), fn)).toStrictEqual(err('e'));
    expect(fn).not.toHaveBeenCalled();
  });

  it('mapErrAsync maps the error only', async () => {
    expect(await mapErrAsync(failure(), async (e) => e.toUpperCase())).toStrictEqual(err('E'));
    expect(await mapErrAsync(success, async () => 'never')).toStrictEqual(ok(2));
  });

  it('andThenAsync chains async steps that may fail', async () => {
    expect(await andThenAsync(success, async (n) => ok(n * 2))).toStrictEqual(ok(4));
    expect(await andThenAsync(success, async () => err(404))).toStrictEqual(err(404));
    const fn = vi.fn(async (n: number) => ok(n));
    expect(await andThenAsync(failure(), fn)).toStrictEqual(err('e'));
    expect(fn).not.toHaveBeenCalled();
  });

  it('orElseAsync recovers asynchronously', async () => {
    expect(await orElseAsync(failure(), async () => ok(0))).toStrictEqual(ok(0));
    expect(await orElseAsync(success, async () => ok(0))).toStrictEqual(ok(2));
  });

  it('tapAsync waits for the side effect and keeps the Result', async () => {
    const seen: number[] = [];
    const r = await tapAsync(success, async (n) => {
      await delay(undefined);
      seen.push(n);
    });
    expect(r).toStrictEqual(ok(2));
    expect(seen).toEqual([2]);
    await tapAsync(failure(), (n) => {
      seen.push(n);
    });
    expect(seen).toEqual([2]);
  });

  it('rejects when a step throws (a bug, not an expected failure)', async () => {
    await expect(
      mapAsync(success, () => {
        throw new RangeError('bug');
      }),
    ).rejects.toThrow(RangeError);
  });
});
