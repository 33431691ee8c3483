import {
  type AsyncResult,
  all,
  andThen,
  andThenAsync,
  bind,
  collect,
  type Err,
  err,
  fromPromise,
  fromThrowable,
  gen,
  genAsync,
  map,
  mapAsync,
  mapErr,
  mapErrAsync,
  match,
  type Ok,
  ok,
  orElse,
  orElseAsync,
  type ProdError,
  partition,
  type Result,
  tap,
  tapAsync,
  tapErr,
  unwrap,
  unwrapOr,
} from '@prod/core';
import { describe, expectTypeOf, it } from 'vitest';

type NotFound = { readonly kind: 'not-found' };
type Invalid = { readonly kind: 'invalid' };
declare const found: Result<number, NotFound>;
declare const valid: Result<string, Invalid>;

describe('Result', () => {
  it('defaults the error to ProdError', () => {
    expectTypeOf<Result<number>>().toEqualTypeOf<Ok<number> | Err<ProdError>>();
    expectTypeOf<AsyncResult<number>>().toEqualTypeOf<Promise<Result<number, ProdError>>>();
  });

  it('narrows with if (r.ok)', () => {
    if (found.ok) {
      expectTypeOf(found.value).toEqualTypeOf<number>();
      // @ts-expect-error an Ok has no error
      void found.error;
    } else {
      expectTypeOf(found.error).toEqualTypeOf<NotFound>();
      // @ts-expect-error an Err has no value
      void found.value;
    }
  });

  it('ok and err infer their side', () => {
    expectTypeOf(ok(1)).toEqualTypeOf<Ok<number>>();
    expectTypeOf(ok()).toEqualTypeOf<Ok<void>>();
    expectTypeOf(err('x' as const)).toEqualTypeOf<Err<'x'>>();
    expectTypeOf(ok(1)).toExtend<Result<number, never>>();
  });
});

describe('combinators', () => {
  it('map and mapErr change one side', () => {
    expectTypeOf(map(found, (n) => String(n))).toEqualTypeOf<Result<string, NotFound>>();
    expectTypeOf(mapErr(found, (e) => e.kind)).toEqualTypeOf<Result<number, 'not-found'>>();
  });

  it('andThen unions the errors of both steps', () => {
    const r = andThen(found, (n) => (n > 0 ? ok(String(n)) : err<Invalid>({ kind: 'invalid' })));
    expectTypeOf(r).toEqualTypeOf<Result<string, NotFound | Invalid>>();
    const chained = andThen(found, () => valid);
    expectTypeOf(chained).toEqualTypeOf<Result<string, NotFound | Invalid>>();
  });

  it('orElse replaces the error type and unions the value', () => {
    expectTypeOf(orElse(found, () => valid)).toEqualTypeOf<Result<number | string, Invalid>>();
  });

  it('match returns the handlers’ common type', () => {
    expectTypeOf(match(found, { ok: (n) => n, err: () => 0 })).toEqualTypeOf<number>();
  });

  it('unwrap and unwrapOr give the value type', () => {
    expectTypeOf(unwrap(found)).toEqualTypeOf<number>();
    expectTypeOf(unwrapOr(found, null)).toEqualTypeOf<number | null>();
  });
});

describe('a side that cannot occur is never, not unknown', () => {
  it('steps that only succeed add no error type', () => {
    expectTypeOf(andThen(found, (n) => ok(n + 1))).toEqualTypeOf<Result<number, NotFound>>();
    expectTypeOf(map(ok(1), (n) => n + 1)).toEqualTypeOf<Result<number, never>>();
    expectTypeOf(tap(ok(1), () => undefined)).toEqualTypeOf<Result<number, never>>();
    expectTypeOf(orElse(found, () => ok(0))).toEqualTypeOf<Result<number, never>>();
    expectTypeOf(andThenAsync(found, async (n) => ok(n))).toEqualTypeOf<
      Promise<Result<number, NotFound>>
    >();
    expectTypeOf(mapAsync(ok(1), async (n) => n)).toEqualTypeOf<Promise<Result<number, never>>>();
    expectTypeOf(orElseAsync(found, async () => ok(0))).toEqualTypeOf<
      Promise<Result<number, never>>
    >();
    expectTypeOf(tapAsync(ok(1), async () => undefined)).toEqualTypeOf<
      Promise<Result<number, never>>
    >();
  });

  it('steps that only fail add no value type', () => {
    expectTypeOf(mapErr(err('e'), (e) => e.length)).toEqualTypeOf<Result<never, number>>();
    expectTypeOf(tapErr(err('e'), () => undefined)).toEqualTypeOf<Result<never, string>>();
    expectTypeOf(mapErrAsync(err('e'), async (e) => e.length)).toEqualTypeOf<
      Promise<Result<never, number>>
    >();
    expectTypeOf(andThen(found, () => err('x' as const))).toEqualTypeOf<
      Result<never, NotFound | 'x'>
    >();
    expectTypeOf(andThenAsync(found, async () => err('x' as const))).toEqualTypeOf<
      Promise<Result<never, NotFound | 'x'>>
    >();
    expectTypeOf(unwrap(err('e'))).toEqualTypeOf<never>();
    expectTypeOf(unwrapOr(err('e'), 0)).toEqualTypeOf<number>();
    expectTypeOf(partition([ok(1)])).toEqualTypeOf<[values: number[], errors: never[]]>();
    expectTypeOf(match(ok(1), { ok: (n) => n, err: () => 0 })).toEqualTypeOf<number>();
  });
});

describe('all / collect / partition', () => {
  it('all keeps tuple positions and unions the errors', () => {
    expectTypeOf(all([found, valid])).toEqualTypeOf<Result<[number, string], NotFound | Invalid>>();
    expectTypeOf(all([ok(1), ok('a')])).toEqualTypeOf<Result<[number, string], never>>();
    expectTypeOf(all([])).toEqualTypeOf<Result<[], never>>();
  });

  it('all over an array gives an array', () => {
    const many: Result<number, NotFound>[] = [];
    expectTypeOf(all(many)).toEqualTypeOf<Result<number[], NotFound>>();
  });

  it('collect gives every error as an array', () => {
    expectTypeOf(collect([found, valid])).toEqualTypeOf<
      Result<[number, string], (NotFound | Invalid)[]>
    >();
  });

  it('partition splits into typed arrays', () => {
    expectTypeOf(partition([found])).toEqualTypeOf<[values: number[], errors: NotFound[]]>();
  });
});

describe('gen', () => {
  it('infers the union of the yielded error types and the returned value', () => {
    const r = gen(function* () {
      const n = yield* bind(found);
      const s = yield* bind(valid);
      return ok({ n, s });
    });
    expectTypeOf(r).toEqualTypeOf<Result<{ n: number; s: string }, NotFound | Invalid>>();
  });

  it('adds the errors the body returns', () => {
    const r = gen(function* () {
      const n = yield* bind(found);
      return n > 0 ? ok(n) : err('negative' as const);
    });
    expectTypeOf(r).toEqualTypeOf<Result<number, NotFound | 'negative'>>();
  });

  it('bind gives the value type', () => {
    gen(function* () {
      const n = yield* bind(found);
      expectTypeOf(n).toEqualTypeOf<number>();
      return ok(n);
    });
  });

  it('genAsync does the same over awaited steps', async () => {
    const load = async (): Promise<Result<number, NotFound>> => found;
    const r = genAsync(async function* () {
      const n = yield* bind(await load());
      const s = yield* bind(valid);
      return ok(`${n}${s}`);
    });
    expectTypeOf(r).toEqualTypeOf<Promise<Result<string, NotFound | Invalid>>>();
  });
});

describe('async helpers', () => {
  it('fromPromise infers the resolved type, ProdError by default', () => {
    expectTypeOf(fromPromise(Promise.resolve(1))).toEqualTypeOf<
      Promise<Result<number, ProdError>>
    >();
    expectTypeOf(fromPromise(async () => 'x')).toEqualTypeOf<Promise<Result<string, ProdError>>>();
    expectTypeOf(fromPromise(() => 1)).toEqualTypeOf<Promise<Result<number, ProdError>>>();
    expectTypeOf(fromPromise(Promise.resolve(1), () => 'mapped' as const)).toEqualTypeOf<
      Promise<Result<number, 'mapped'>>
    >();
  });

  it('fromThrowable keeps the parameters', () => {
    const parse = fromThrowable((text: string, radix: number) => Number.parseInt(text, radix));
    expectTypeOf(parse).toEqualTypeOf<(text: string, radix: number) => Result<number, ProdError>>();
  });

  it('async variants keep precise types', () => {
    const pending = Promise.resolve(found);
    expectTypeOf(mapAsync(pending, async (n) => String(n))).toEqualTypeOf<
      Promise<Result<string, NotFound>>
    >();
    expectTypeOf(andThenAsync(pending, async () => valid)).toEqualTypeOf<
      Promise<Result<string, NotFound | Invalid>>
    >();
    expectTypeOf(andThenAsync(found, () => valid)).toEqualTypeOf<
      Promise<Result<string, NotFound | Invalid>>
    >();
  });
});
