/**
 * A Result chain (create + 5 map/andThen steps) in @prod/core, neverthrow and plain
 * try/catch, on success and on failure. The failure happens at step 2 (an andThen), so the
 * last 3 steps are skipped by every contender. Each failure group gives every contender the
 * same error payload, so only the plumbing differs.
 */
import { andThen, err, map, ok, ProdError, type Result } from '@prod/core';
import { type Result as NtResult, err as ntErr, ok as ntOk } from 'neverthrow';
import { bench, describe } from 'vitest';

// Results land here so the engine cannot drop the work as dead code.
let sink = 0;
let input = 0;
const next = (): number => {
  input = (input + 1) & 0xffff;
  return input;
};
const consume = (value: number): void => {
  sink = (sink + value) | 0;
};

const inc = (n: number): number => n + 1;
const double = (n: number): number => n * 2;

// One payload shared by every "pre-built" contender.
const PREBUILT = new ProdError({ code: 'BENCH_FAILED', status: 422, captureStack: false });

// --- @prod/core --------------------------------------------------------------------------

type Make = () => ProdError;
const prodChain = (i: number, failWith: Make | undefined): Result<number, ProdError> => {
  const r0 = ok(i);
  const r1 = map(r0, inc);
  const r2 = andThen(r1, (n): Result<number, ProdError> => (failWith ? err(failWith()) : ok(n)));
  const r3 = map(r2, double);
  const r4 = andThen(r3, (n): Result<number, ProdError> => (n >= 0 ? ok(n) : err(PREBUILT)));
  return map(r4, inc);
};

// --- neverthrow ----------------------------------------------------------------------------

type MakeAny = () => Error;
const ntChain = (i: number, failWith: MakeAny | undefined): NtResult<number, Error> =>
  ntOk<number, Error>(i)
    .map(inc)
    .andThen((n): NtResult<number, Error> => (failWith ? ntErr(failWith()) : ntOk(n)))
    .map(double)
    .andThen((n): NtResult<number, Error> => (n >= 0 ? ntOk(n) : ntErr(PREBUILT)))
    .map(inc);

// --- try/catch -----------------------------------------------------------------------------

const throwChain = (i: number, failWith: MakeAny | undefined): number => {
  try {
    let v = inc(i);
    if (failWith) throw failWith();
    v = double(v);
    if (v < 0) throw PREBUILT;
    return inc(v);
  } catch {
    return -1;
  }
};

const prodOut = (r: Result<number, ProdError>): number => (r.ok ? r.value : r.error.status);
const ntOut = (r: NtResult<number, Error>): number => (r.isOk() ? r.value : 1);

const prebuilt = (): ProdError => PREBUILT;
const prodNoStack = (): ProdError =>
  new ProdError({ code: 'BENCH_FAILED', status: 422, captureStack: false });
const prodWithStack = (): ProdError => new ProdError({ code: 'BENCH_FAILED', status: 422 });
const plainError = (): Error => new Error('bench failed');

describe('success: create + 5 steps', () => {
  bench('@prod/core', () => consume(prodOut(prodChain(next(), undefined))));
  bench('neverthrow', () => consume(ntOut(ntChain(next(), undefined))));
  bench('try/catch', () => consume(throwChain(next(), undefined)));
});

describe('failure at step 2, same pre-built error', () => {
  bench('@prod/core', () => consume(prodOut(prodChain(next(), prebuilt))));
  bench('neverthrow', () => consume(ntOut(ntChain(next(), prebuilt))));
  bench('try/catch (throw pre-built)', () => consume(throwChain(next(), prebuilt)));
});

describe('failure at step 2, error built per failure', () => {
  bench('@prod/core ProdError captureStack:false', () =>
    consume(prodOut(prodChain(next(), prodNoStack))),
  );
  bench('@prod/core ProdError with stack', () =>
    consume(prodOut(prodChain(next(), prodWithStack))),
  );
  bench('neverthrow err(new Error)', () => consume(ntOut(ntChain(next(), plainError))));
  bench('neverthrow err(ProdError captureStack:false)', () =>
    consume(ntOut(ntChain(next(), prodNoStack))),
  );
  bench('try/catch throw new Error', () => consume(throwChain(next(), plainError)));
  bench('try/catch throw ProdError captureStack:false', () =>
    consume(throwChain(next(), prodNoStack)),
  );
});

// Read once so the sink is observably used.
export const benchSink = (): number => sink;
