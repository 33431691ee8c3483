/**
 * A Result chain (create + 5 map/andThen steps) in @prod/core, neverthrow and plain
 * try/catch, on success and on failure. The failure happens at step 2 (an andThen), so the
 * last 3 steps are skipped by every contender. Each failure group gives every contender the
 * same error payload, so only the plumbing differs. Run: `pnpm bench:micro core/bench/result`.
 */
import { andThen, err, map, ok, ProdError, type Result } from '@prod/core';
import { type Result as NtResult, err as ntErr, ok as ntOk } from 'neverthrow';
import { keep, runMicro } from '../../../config/bench-micro.js';

let input = 0;
const next = (): number => {
  input = (input + 1) & 0xffff;
  return input;
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

// Each contender hands its final Result (or value) to `keep`, so it escapes as a caller's
// would, and reads the outcome.
const prodOut = (r: Result<number, ProdError>): number => (r.ok ? r.value : r.error.status);
const ntOut = (r: NtResult<number, Error>): number => (r.isOk() ? r.value : 1);

const prebuilt = (): ProdError => PREBUILT;
const prodNoStack = (): ProdError =>
  new ProdError({ code: 'BENCH_FAILED', status: 422, captureStack: false });
const prodWithStack = (): ProdError => new ProdError({ code: 'BENCH_FAILED', status: 422 });
const plainError = (): Error => new Error('bench failed');

const PROD = '@prod/core';
const NT = 'neverthrow';

await runMicro({
  file: import.meta.url,
  title: '@prod/core: Result chain vs neverthrow and try/catch',
  groups: [
    {
      name: 'success: create + 5 steps',
      contenders: {
        [PROD]: () => keep(prodOut(prodChain(next(), undefined))),
        [NT]: () => keep(ntOut(ntChain(next(), undefined))),
        'try/catch': () => keep(throwChain(next(), undefined)),
      },
      ratios: [
        { ours: PROD, peer: NT },
        { ours: PROD, peer: 'try/catch' },
      ],
    },
    {
      name: 'failure at step 2, same pre-built error',
      contenders: {
        [PROD]: () => keep(prodOut(prodChain(next(), prebuilt))),
        [NT]: () => keep(ntOut(ntChain(next(), prebuilt))),
        'try/catch (throw pre-built)': () => keep(throwChain(next(), prebuilt)),
      },
      ratios: [
        { ours: PROD, peer: NT },
        { ours: PROD, peer: 'try/catch (throw pre-built)' },
      ],
    },
    {
      name: 'failure at step 2, error built per failure',
      contenders: {
        '@prod/core ProdError captureStack:false': () =>
          keep(prodOut(prodChain(next(), prodNoStack))),
        '@prod/core ProdError with stack': () => keep(prodOut(prodChain(next(), prodWithStack))),
        'neverthrow err(new Error)': () => keep(ntOut(ntChain(next(), plainError))),
        'neverthrow err(ProdError captureStack:false)': () =>
          keep(ntOut(ntChain(next(), prodNoStack))),
        'try/catch throw new Error': () => keep(throwChain(next(), plainError)),
        'try/catch throw ProdError captureStack:false': () => keep(throwChain(next(), prodNoStack)),
      },
      ratios: [
        { ours: '@prod/core ProdError captureStack:false', peer: 'neverthrow err(new Error)' },
        { ours: '@prod/core ProdError captureStack:false', peer: 'try/catch throw new Error' },
        {
          ours: '@prod/core ProdError captureStack:false',
          peer: 'neverthrow err(ProdError captureStack:false)',
          label: '@prod/core vs neverthrow, same ProdError payload',
        },
        {
          ours: '@prod/core ProdError captureStack:false',
          peer: 'try/catch throw ProdError captureStack:false',
          label: '@prod/core vs try/catch, same ProdError payload',
        },
        {
          ours: '@prod/core ProdError captureStack:false',
          peer: '@prod/core ProdError with stack',
          label: 'captureStack:false vs a stack-capturing ProdError',
        },
        {
          ours: '@prod/core ProdError with stack',
          peer: 'neverthrow err(new Error)',
          label: '@prod/core vs neverthrow, both capture a stack',
        },
      ],
    },
  ],
});
