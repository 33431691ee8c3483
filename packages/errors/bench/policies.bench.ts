import { createRequire } from 'node:module';
import * as sourceCore from '@prod/core';
import * as source from '@prod/errors';
import {
  ConsecutiveBreaker,
  circuitBreaker as cockatielBreaker,
  retry as cockatielRetry,
  timeout as cockatielTimeout,
  ExponentialBackoff,
  handleAll,
  TimeoutStrategy,
  wrap,
} from 'cockatiel';
import CircuitBreaker from 'opossum';
import { bench, describe } from 'vitest';

// Measure what users run: the built package, loaded by Node itself like the peers are. Code
// under test goes through vitest's module transform, which turns every cross-module call into a
// getter call and would bill that to @prod/errors alone. Without a build, fall back to source.
function loadBuilt(): {
  errors: typeof source;
  ok: typeof import('@prod/core').ok;
  built: boolean;
} {
  const require = createRequire(import.meta.url);
  try {
    const errors = require('../dist/index.cjs') as typeof source;
    const core = require('@prod/core') as typeof import('@prod/core');
    return { errors, ok: core.ok, built: true };
  } catch {
    return { errors: source, ok: sourceCore.ok, built: false };
  }
}
const { errors, ok, built } = loadBuilt();
const { circuitBreaker, policy, retry, timeout } = errors;
if (!built) console.warn('@prod/errors bench: dist/ missing, measuring source (run pnpm build)');

// The work every contender runs: a call that resolves at once, so what is measured is the
// policy's own overhead. @prod work returns a Result; the peers' work returns the value.
const value = { id: 1 };
const prodWork = (): Promise<{ ok: true; value: typeof value }> => Promise.resolve(ok(value));
const peerWork = (): Promise<typeof value> => Promise.resolve(value);

// The cost of the call itself and of the harness, to subtract from every other result.
describe('baseline (no policy)', () => {
  bench('work alone', async () => {
    await prodWork();
  });
});

describe('retry (success on first attempt)', () => {
  const prodRetry = retry({ maxAttempts: 3 });
  const peerRetry = cockatielRetry(handleAll, {
    maxAttempts: 3,
    backoff: new ExponentialBackoff(),
  });
  bench('@prod/errors retry', async () => {
    await prodRetry.execute(prodWork);
  });
  bench('cockatiel retry', async () => {
    await peerRetry.execute(peerWork);
  });
});

describe('circuit breaker (closed)', () => {
  const prodBreaker = circuitBreaker({ consecutiveFailures: 5, halfOpenAfterMs: 10_000 });
  const peerBreaker = cockatielBreaker(handleAll, {
    halfOpenAfter: 10_000,
    breaker: new ConsecutiveBreaker(5),
  });
  const opossum = new CircuitBreaker(peerWork, {
    timeout: false,
    resetTimeout: 10_000,
    errorThresholdPercentage: 50,
  });
  bench('@prod/errors circuitBreaker', async () => {
    await prodBreaker.execute(prodWork);
  });
  bench('cockatiel circuitBreaker', async () => {
    await peerBreaker.execute(peerWork);
  });
  bench('opossum CircuitBreaker', async () => {
    await opossum.fire();
  });
});

describe('retry + breaker + timeout composed', () => {
  const prodComposed = policy(
    retry({ maxAttempts: 3 }),
    circuitBreaker({ consecutiveFailures: 5, halfOpenAfterMs: 10_000 }),
    timeout(1_000),
  );
  const peerComposed = wrap(
    cockatielRetry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() }),
    cockatielBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }),
    cockatielTimeout(1_000, TimeoutStrategy.Aggressive),
  );
  // opossum has no retry: its nearest equivalent is a breaker with its built-in timeout.
  const opossum = new CircuitBreaker(peerWork, {
    timeout: 1_000,
    resetTimeout: 10_000,
    errorThresholdPercentage: 50,
  });
  bench('@prod/errors policy(retry, breaker, timeout)', async () => {
    await prodComposed.execute(prodWork);
  });
  bench('cockatiel wrap(retry, breaker, timeout)', async () => {
    await peerComposed.execute(peerWork);
  });
  bench('opossum CircuitBreaker with timeout (no retry)', async () => {
    await opossum.fire();
  });
});
