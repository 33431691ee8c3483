// What `t` says on every answer, allowed or refused: the seconds until a request passes again
// once the `r` left are spent (draft-ietf-httpapi-ratelimit-headers-10/-11: the time until the
// quota has room again). Checked with a fake clock on the memory store: at the same instant every
// answer says the same `t` as the refusal that follows, and after `r=0;t=T` a request at T-1 s is
// refused and one at T s passes.
import {
  type Algorithm,
  createRateLimiter,
  memoryStore,
  type PolicyOptions,
  type RateLimitDecision,
  type RateLimiter,
  rateLimitHeaders,
} from '@prod/ratelimit';
import { afterEach, describe, expect, it, vi } from 'vitest';

const limiters: RateLimiter[] = [];
afterEach(async () => {
  for (const limiter of limiters.splice(0)) await limiter.close();
  vi.useRealTimers();
});

const EPOCH = 1_700_000_040_000; // a multiple of every window below: an aligned window start

/** A limiter on a fake clock (the fixed window's rate-limiter-flexible reads Date.now()). */
function make(policy: PolicyOptions): RateLimiter {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(EPOCH);
  const limiter = createRateLimiter({
    store: memoryStore({ now: () => Date.now() }),
    policies: [policy],
  });
  limiters.push(limiter);
  return limiter;
}

async function decide(limiter: RateLimiter, at: number, key = 'k'): Promise<RateLimitDecision> {
  vi.setSystemTime(EPOCH + at);
  const result = await limiter.consume(key);
  if (!result.ok) throw result.error;
  return result.value;
}

/** The `r` and `t` of the first policy, as the `RateLimit` header says them. */
function header(decision: RateLimitDecision): { r: number; t: number } {
  const field = rateLimitHeaders(decision).ratelimit ?? '';
  const match = /;r=(\d+);t=(\d+)/.exec(field);
  if (match === null) throw new Error(`no r and t in ${field}`);
  return { r: Number(match[1]), t: Number(match[2]) };
}

interface Scenario {
  readonly name: string;
  readonly policy: PolicyOptions;
  /** Requests sent before, as [ms from EPOCH, how many]. */
  readonly history: readonly (readonly [number, number])[];
  /** When the client spends what is left, in ms from EPOCH. */
  readonly at: number;
}

const policy = (algorithm: Algorithm, limit: number, window: number): PolicyOptions => ({
  name: 'p',
  algorithm,
  limit,
  window,
});

const SCENARIOS: Scenario[] = [
  // The reported case: one a minute, the first request 3 s into a window.
  { name: 'sliding 1/min', policy: policy('sliding-window', 1, 60_000), history: [], at: 3_000 },
  {
    name: 'sliding 60/min, fresh',
    policy: policy('sliding-window', 60, 60_000),
    history: [],
    at: 3_000,
  },
  {
    name: 'sliding 60/min, the previous window full',
    policy: policy('sliding-window', 60, 60_000),
    history: [[50_000, 60]],
    at: 90_000,
  },
  {
    name: 'sliding 10/min, traffic in both windows',
    policy: policy('sliding-window', 10, 60_000),
    history: [
      [10_000, 4],
      [59_000, 3],
      [61_000, 2],
    ],
    at: 100_000,
  },
  {
    name: 'sliding 3/2 s, late in the window',
    policy: policy('sliding-window', 3, 2_000),
    history: [[500, 2]],
    at: 3_900,
  },
  {
    name: 'token bucket 60/min',
    policy: policy('token-bucket', 60, 60_000),
    history: [],
    at: 1_000,
  },
  {
    name: 'token bucket 7/s, burst 3',
    policy: { ...policy('token-bucket', 7, 1_000), burst: 3 },
    history: [[0, 2]],
    at: 250,
  },
  {
    name: 'token bucket 5/min, partly refilled',
    policy: policy('token-bucket', 5, 60_000),
    history: [[0, 5]],
    at: 30_000,
  },
  { name: 'fixed window 5/min', policy: policy('fixed-window', 5, 60_000), history: [], at: 0 },
  {
    name: 'fixed window 5/min, later in its window',
    policy: policy('fixed-window', 5, 60_000),
    history: [[0, 2]],
    at: 41_500,
  },
];

/** Replays the history, then spends everything at `at`: every answer of that instant. */
async function exhaust(limiter: RateLimiter, scenario: Scenario): Promise<RateLimitDecision[]> {
  for (const [at, count] of scenario.history) {
    for (let i = 0; i < count; i += 1) await decide(limiter, at);
  }
  const answers: RateLimitDecision[] = [];
  for (let i = 0; i < 1000; i += 1) {
    const answer = await decide(limiter, scenario.at);
    answers.push(answer);
    if (!answer.allowed) return answers;
  }
  throw new Error('never refused');
}

describe('t on allowed answers: when a request passes again once r is spent', () => {
  for (const scenario of SCENARIOS) {
    it(`${scenario.name}: every answer of an instant says the t of the refusal after it`, async () => {
      const answers = await exhaust(make(scenario.policy), scenario);
      const refusal = answers.at(-1) as RateLimitDecision;
      const allowed = answers.slice(0, -1);
      expect(allowed.length).toBeGreaterThan(0);
      expect(allowed.at(-1)?.policies[0]?.remaining).toBe(0);
      // r counts down to 0 and t stays what the refusal says.
      expect(allowed.map((answer) => header(answer).r)).toEqual(
        allowed.map((_, i) => allowed.length - 1 - i),
      );
      expect(allowed.map((answer) => header(answer).t)).toEqual(
        allowed.map(() => header(refusal).t),
      );
      expect(allowed.map((answer) => answer.policies[0]?.resetMs)).toEqual(
        allowed.map(() => refusal.policies[0]?.resetMs),
      );
      expect(refusal.retryAfterMs).toBe(refusal.policies[0]?.resetMs);
      expect(rateLimitHeaders(refusal)['retry-after']).toBe(String(header(refusal).t));
    });

    it(`${scenario.name}: after r=0;t=T, refused at T-1 s, admitted at T s`, async () => {
      const limiter = make(scenario.policy);
      const answers = await exhaust(limiter, scenario);
      const last = answers.at(-2) as RateLimitDecision;
      const { r, t } = header(last);
      expect(r).toBe(0);
      expect(t).toBeGreaterThan(0);
      expect((await decide(limiter, scenario.at + (t - 1) * 1000)).allowed).toBe(false);
      expect((await decide(limiter, scenario.at + t * 1000)).allowed).toBe(true);
    });

    it(`${scenario.name}: to the millisecond, refused at resetMs - 1, admitted at resetMs`, async () => {
      const limiter = make(scenario.policy);
      const answers = await exhaust(limiter, scenario);
      const resetMs = answers.at(-2)?.policies[0]?.resetMs ?? 0;
      expect(resetMs).toBeGreaterThan(0);
      expect((await decide(limiter, scenario.at + resetMs - 1)).allowed).toBe(false);
      expect((await decide(limiter, scenario.at + resetMs)).allowed).toBe(true);
    });
  }

  it('the reported case: a 201 with r=0 says t=117, as the 429 after it does, and a client that waits 57 s is refused', async () => {
    const limiter = make(policy('sliding-window', 1, 60_000));
    const allowed = await decide(limiter, 3_000);
    expect(header(allowed)).toEqual({ r: 0, t: 117 });
    expect(header(await decide(limiter, 3_000))).toEqual({ r: 0, t: 117 });
    expect((await decide(limiter, 3_000 + 57_000)).allowed).toBe(false);
    expect((await decide(limiter, 3_000 + 116_000)).allowed).toBe(false);
    expect((await decide(limiter, 3_000 + 117_000)).allowed).toBe(true);
  });
});

describe('t on refusals that block', () => {
  for (const algorithm of ['sliding-window', 'token-bucket', 'fixed-window'] as const) {
    it(`${algorithm}: the refusal that starts a block says when a request passes, not only when the block ends`, async () => {
      const limiter = make({
        name: 'p',
        algorithm,
        limit: 2,
        window: 60_000,
        blockDuration: 10_000,
      });
      await decide(limiter, 1_000);
      await decide(limiter, 1_000);
      const refused = await decide(limiter, 1_000);
      expect(refused.allowed).toBe(false);
      const wait = refused.retryAfterMs;
      expect(wait).toBeGreaterThanOrEqual(10_000);
      expect(refused.policies[0]?.resetMs).toBe(wait);
      // A client that follows Retry-After (it sends nothing meanwhile) gets through then.
      expect((await decide(limiter, 1_000 + wait)).allowed).toBe(true);
    });
  }
});
