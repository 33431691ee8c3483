/**
 * Policy overhead of @prod/errors against cockatiel 3 and opossum 9, on a call that resolves
 * at once, so the policy is all that differs. Every group also times the work alone, which is
 * subtracted for the overhead ratios. Run: `pnpm bench:micro errors/bench/policies`.
 */
import { ok } from '@prod/core';
import { circuitBreaker, policy, retry, timeout } from '@prod/errors';
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
import { keep, type MicroRatio, runMicro } from '../../../config/bench-micro.js';

// The work every contender runs: a call that resolves at once. @prod work returns a Result;
// the peers' work returns the value.
const value = { id: 1 };
const prodWork = (): Promise<{ ok: true; value: typeof value }> => Promise.resolve(ok(value));
const peerWork = (): Promise<typeof value> => Promise.resolve(value);

const ALONE = 'work alone (no policy)';
const alone = async (): Promise<void> => {
  keep(await prodWork());
};
// Each comparison twice: total time per call, and the policy's own overhead (work subtracted).
const both = (ours: string, peer: string): MicroRatio[] => [
  { ours, peer },
  { ours, peer, minus: ALONE },
];

const prodRetry = retry({ maxAttempts: 3 });
const peerRetry = cockatielRetry(handleAll, {
  maxAttempts: 3,
  backoff: new ExponentialBackoff(),
});

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
const opossumTimeout = new CircuitBreaker(peerWork, {
  timeout: 1_000,
  resetTimeout: 10_000,
  errorThresholdPercentage: 50,
});

await runMicro({
  file: import.meta.url,
  title: '@prod/errors: policy overhead vs cockatiel and opossum',
  groups: [
    {
      name: 'retry (success on first attempt)',
      contenders: {
        [ALONE]: alone,
        '@prod/errors retry': async () => keep(await prodRetry.execute(prodWork)),
        'cockatiel retry': async () => keep(await peerRetry.execute(peerWork)),
      },
      ratios: both('@prod/errors retry', 'cockatiel retry'),
    },
    {
      name: 'circuit breaker (closed)',
      contenders: {
        [ALONE]: alone,
        '@prod/errors circuitBreaker': async () => keep(await prodBreaker.execute(prodWork)),
        'cockatiel circuitBreaker': async () => keep(await peerBreaker.execute(peerWork)),
        'opossum CircuitBreaker': async () => keep(await opossum.fire()),
      },
      ratios: [
        ...both('@prod/errors circuitBreaker', 'cockatiel circuitBreaker'),
        ...both('@prod/errors circuitBreaker', 'opossum CircuitBreaker'),
      ],
    },
    {
      name: 'retry + breaker + timeout composed',
      contenders: {
        [ALONE]: alone,
        '@prod/errors policy(retry, breaker, timeout)': async () =>
          keep(await prodComposed.execute(prodWork)),
        'cockatiel wrap(retry, breaker, timeout)': async () =>
          keep(await peerComposed.execute(peerWork)),
        'opossum breaker + timeout (no retry)': async () => keep(await opossumTimeout.fire()),
      },
      ratios: [
        ...both(
          '@prod/errors policy(retry, breaker, timeout)',
          'cockatiel wrap(retry, breaker, timeout)',
        ),
        ...both(
          '@prod/errors policy(retry, breaker, timeout)',
          'opossum breaker + timeout (no retry)',
        ),
      ],
    },
  ],
});
