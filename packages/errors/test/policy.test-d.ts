import { ok, type ProdError, type Result } from '@prod/core';
import { circuitBreaker, fallback, type Policy, policy, retry, timeout } from '@prod/errors';
import { describe, expectTypeOf, it } from 'vitest';

describe('Policy types', () => {
  it('keeps the work value and widens the error by ProdError', () => {
    const r = retry().execute(() => ok(1) as Result<number, 'NOPE'>);
    expectTypeOf(r).resolves.toEqualTypeOf<Result<number, 'NOPE' | ProdError>>();
  });

  it('widens the value by what a fallback may substitute', () => {
    const p = policy(
      fallback(() => ok('default' as const)),
      retry(),
      timeout(10),
    );
    expectTypeOf(p).toEqualTypeOf<Policy<'default'>>();
    const r = p.execute(async () => ok(42));
    expectTypeOf(r).resolves.toEqualTypeOf<Result<number | 'default', ProdError>>();
  });

  it('a composition without fallback adds nothing to the value', () => {
    expectTypeOf(policy(retry(), circuitBreaker())).toEqualTypeOf<Policy<never>>();
  });

  it('infers no error type from work that cannot fail', () => {
    expectTypeOf(retry().execute(() => ok(1))).resolves.toEqualTypeOf<Result<number, ProdError>>();
  });

  it('rejects work that returns a plain value', () => {
    // @ts-expect-error work must return a Result
    void retry().execute(() => 42);
  });
});
