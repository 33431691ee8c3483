import { bind, err, gen, genAsync, ok, type Result } from '@prod/core';
import { describe, expect, it } from 'vitest';

const parse = (text: string): Result<number, string> => {
  const n = Number(text);
  return Number.isNaN(n) ? err(`not a number: ${text}`) : ok(n);
};

describe('gen', () => {
  it('runs straight through when every step succeeds', () => {
    const r = gen(function* () {
      const a = yield* bind(parse('1'));
      const b = yield* bind(parse('2'));
      return ok(a + b);
    });
    expect(r).toStrictEqual(ok(3));
  });

  it('stops at the first failure and runs nothing after it', () => {
    const reached: string[] = [];
    const r = gen(function* () {
      reached.push('a');
      yield* bind(parse('x'));
      reached.push('b');
      yield* bind(parse('y'));
      return ok(0);
    });
    expect(r).toStrictEqual(err('not a number: x'));
    expect(reached).toEqual(['a']);
  });

  it('runs the finally blocks of the generator on a short-circuit', () => {
    const cleaned: string[] = [];
    const r = gen(function* () {
      try {
        try {
          yield* bind(parse('bad'));
          return ok(1);
        } finally {
          cleaned.push('inner');
        }
      } finally {
        cleaned.push('outer');
      }
    });
    expect(r.ok).toBe(false);
    expect(cleaned).toEqual(['inner', 'outer']);
  });

  it('returns an Err the body returns', () => {
    expect(
      gen(function* () {
        yield* bind(parse('1'));
        return err('explicit');
      }),
    ).toStrictEqual(err('explicit'));
  });

  it('lets a throw in the body escape', () => {
    expect(() =>
      gen(function* () {
        yield* bind(parse('1'));
        throw new RangeError('bug');
      }),
    ).toThrow(RangeError);
  });

  it('handles many steps without growing the stack', () => {
    const r = gen(function* () {
      let sum = 0;
      for (let i = 0; i < 50_000; i++) sum += yield* bind(ok(1));
      return ok(sum);
    });
    expect(r).toStrictEqual(ok(50_000));
  });
});

describe('bind', () => {
  it('throws if a generator is resumed after a failure (gen never does)', () => {
    const iterator = bind(err('e'));
    expect(iterator.next()).toStrictEqual({ done: false, value: err('e') });
    expect(() => iterator.next()).toThrow(/resumed after a failure/);
  });
});

describe('genAsync', () => {
  const later = async (text: string): Promise<Result<number, string>> => parse(text);

  it('awaits steps and returns the final Result', async () => {
    const r = await genAsync(async function* () {
      const a = yield* bind(await later('20'));
      const b = yield* bind(await later('22'));
      return ok(a + b);
    });
    expect(r).toStrictEqual(ok(42));
  });

  it('short-circuits and runs finally blocks, including async cleanup', async () => {
    const cleaned: string[] = [];
    let reachedAfter = false;
    const r = await genAsync(async function* () {
      try {
        yield* bind(await later('nope'));
        reachedAfter = true;
        return ok(1);
      } finally {
        await new Promise((resolve) => setTimeout(resolve, 1));
        cleaned.push('closed');
      }
    });
    expect(r).toStrictEqual(err('not a number: nope'));
    expect(reachedAfter).toBe(false);
    expect(cleaned).toEqual(['closed']);
  });

  it('rejects when the body throws', async () => {
    await expect(
      genAsync(async function* () {
        yield* bind(await later('1'));
        throw new RangeError('bug');
      }),
    ).rejects.toThrow(RangeError);
  });
});
