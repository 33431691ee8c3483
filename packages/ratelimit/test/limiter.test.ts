import { runWithContext } from '@prod/core';
import {
  createRateLimiter,
  definePolicy,
  memoryStore,
  type RateLimitDecision,
  type RateLimiter,
  rateLimitPart,
} from '@prod/ratelimit';
import { fakeRequest } from '@prod/testing';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { afterEach, describe, expect, it, vi } from 'vitest';

const limiters: RateLimiter[] = [];
afterEach(async () => {
  for (const limiter of limiters.splice(0)) await limiter.close();
  vi.useRealTimers();
});

function clock(start = 1_700_000_000_000): {
  now: () => number;
  advance: (ms: number) => void;
  set: (ms: number) => void;
} {
  let now = start;
  return {
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
    set: (ms) => {
      now = ms;
    },
  };
}

async function decide(
  limiter: RateLimiter,
  key: string | Record<string, string>,
  cost = 1,
): Promise<RateLimitDecision> {
  const result = await limiter.consume(key, { cost });
  if (!result.ok) throw result.error;
  return result.value;
}

function make(options: Parameters<typeof createRateLimiter>[0]): RateLimiter {
  const limiter = createRateLimiter(options);
  limiters.push(limiter);
  return limiter;
}

describe('fixed window (rate-limiter-flexible)', () => {
  it('admits the limit, refuses the next, and says when to retry', async () => {
    const limiter = make({ policies: [{ name: 'per-minute', limit: 3, window: 60_000 }] });
    const seen = [];
    for (let i = 0; i < 4; i += 1) seen.push(await decide(limiter, 'a'));
    expect(seen.map((d) => d.allowed)).toEqual([true, true, true, false]);
    expect(seen.map((d) => d.policies[0]?.remaining)).toEqual([2, 1, 0, 0]);
    const refused = seen[3] as RateLimitDecision;
    expect(refused.outcome).toBe('limited');
    expect(refused.violated).toEqual(['per-minute']);
    expect(refused.retryAfterMs).toBeGreaterThan(59_000);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(60_000);
    // another key has its own budget
    expect((await decide(limiter, 'b')).allowed).toBe(true);
  });

  it('a window starts at the first request of its key and resets after it', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000_000);
    const limiter = make({ policies: [{ name: 'p', limit: 1, window: 1000 }] });
    expect((await decide(limiter, 'k')).allowed).toBe(true);
    expect((await decide(limiter, 'k')).allowed).toBe(false);
    vi.setSystemTime(1_000_999);
    expect((await decide(limiter, 'k')).allowed).toBe(false);
    vi.setSystemTime(1_001_001);
    expect((await decide(limiter, 'k')).allowed).toBe(true);
  });

  it('a cost larger than what is left is refused without draining the budget (rate-limiter-flexible#286)', async () => {
    const limiter = make({ policies: [{ name: 'p', limit: 10, window: 60_000 }] });
    expect((await decide(limiter, 'k', 4)).policies[0]?.remaining).toBe(6);
    const big = await decide(limiter, 'k', 8);
    expect(big.allowed).toBe(false);
    // refunded: the 6 that were left are still there
    await new Promise((resolve) => setImmediate(resolve));
    const after = await decide(limiter, 'k', 6);
    expect(after.allowed).toBe(true);
    expect(after.policies[0]?.remaining).toBe(0);
  });

  it('blockDuration keeps a key refused after the limit whatever the window says', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(5_000_000);
    const limiter = make({
      policies: [{ name: 'p', limit: 1, window: 1000, blockDuration: 10_000 }],
    });
    await decide(limiter, 'k');
    const blocked = await decide(limiter, 'k');
    expect(blocked.allowed).toBe(false);
    expect(blocked.retryAfterMs).toBeGreaterThan(9_000);
    vi.setSystemTime(5_005_000);
    expect((await decide(limiter, 'k')).allowed).toBe(false);
    vi.setSystemTime(5_010_100);
    expect((await decide(limiter, 'k')).allowed).toBe(true);
  });
});

describe('fixed window in memory, against rate-limiter-flexible used directly', () => {
  // Each step: advance the clock (ms), then a request of this cost.
  const steps: readonly (readonly [number, number])[] = [
    [0, 1],
    [10, 2],
    [10, 2],
    [10, 1],
    [10, 3],
    [400, 1],
    [700, 1],
    [1500, 2],
    [1000, 5],
    [10, 1],
    [5000, 1],
  ];

  for (const blockDuration of [0, 3000]) {
    it(`decides as its consume does, on its counters, without calling it (blockDuration ${blockDuration})`, async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(9_000_000);
      const policy = { name: 'p', limit: 5, window: 1000, blockDuration };
      // The single-policy path, and the general one (a second policy that never refuses).
      const single = make({ policies: [policy] });
      const several = make({ policies: [policy, { name: 'wide', limit: 1e6, window: 60_000 }] });
      const peer = new RateLimiterMemory({
        keyPrefix: '',
        points: 5,
        duration: 1,
        blockDuration: blockDuration / 1000,
      });
      const consume = vi.spyOn(RateLimiterMemory.prototype, 'consume');
      try {
        for (const [advance, cost] of steps) {
          vi.setSystemTime(Date.now() + advance);
          const expected = await peer.consume('k', cost).then(
            (res) => ({ allowed: true, remaining: res.remainingPoints, ms: res.msBeforeNext }),
            (res: unknown) => {
              if (!(res instanceof RateLimiterRes)) throw res;
              return { allowed: false, remaining: 0, ms: res.msBeforeNext };
            },
          );
          for (const limiter of [single, several]) {
            const decided = await decide(limiter, 'k', cost);
            const state = decided.policies[0];
            const seen = {
              allowed: decided.allowed,
              remaining: state?.remaining,
              ms: state?.resetMs,
            };
            expect(seen).toEqual(expected);
            if (!decided.allowed) expect(decided.retryAfterMs).toBe(Math.max(1, expected.ms));
          }
        }
        // Only the peer's calls: ours counted on rate-limiter-flexible's storage directly.
        expect(consume).toHaveBeenCalledTimes(steps.length);
      } finally {
        consume.mockRestore();
      }
    });
  }

  it('rateLimitPart decides a memory fixed window without a promise, admitted or refused', () => {
    const limiter = make({ policies: [{ name: 'p', limit: 1, window: 60_000 }] });
    const part = rateLimitPart(limiter);
    const request = (): ReturnType<typeof fakeRequest> => fakeRequest({ ip: '10.1.2.3' });
    expect(part.onRequest?.(request())).toBeUndefined();
    const refused = part.onRequest?.(request());
    expect(refused).not.toBeInstanceOf(Promise);
    expect((refused as { readonly status?: number } | undefined)?.status).toBe(429);
  });

  it('keeps the rate-limiter-flexible counters reset() clears', async () => {
    const limiter = make({ policies: [{ name: 'p', limit: 2, window: 60_000 }] });
    await decide(limiter, 'k');
    await decide(limiter, 'k');
    expect((await decide(limiter, 'k')).allowed).toBe(false);
    expect((await limiter.reset('k')).ok).toBe(true);
    expect((await decide(limiter, 'k')).policies[0]?.remaining).toBe(1);
  });
});

describe('sliding window (memory)', () => {
  it('refuses the burst at a window edge that a fixed window would let through', async () => {
    const time = clock(60_000 * 1000); // aligned on a window start
    const limiter = make({
      store: memoryStore({ now: time.now }),
      policies: [{ name: 's', limit: 10, window: 60_000, algorithm: 'sliding-window' }],
    });
    time.advance(59_990);
    let admitted = 0;
    for (let i = 0; i < 10; i += 1) if ((await decide(limiter, 'k')).allowed) admitted += 1;
    time.advance(20); // 10 ms into the next window
    for (let i = 0; i < 10; i += 1) if ((await decide(limiter, 'k')).allowed) admitted += 1;
    expect(admitted).toBe(10);
    // half a window later, half the previous window's weight is gone
    time.advance(30_000);
    let later = 0;
    for (let i = 0; i < 10; i += 1) if ((await decide(limiter, 'k')).allowed) later += 1;
    expect(later).toBe(5);
  });

  it('tells how long until a request fits', async () => {
    const time = clock(60_000 * 1000);
    const limiter = make({
      store: memoryStore({ now: time.now }),
      policies: [{ name: 's', limit: 2, window: 60_000, algorithm: 'sliding-window' }],
    });
    await decide(limiter, 'k');
    await decide(limiter, 'k');
    const refused = await decide(limiter, 'k');
    expect(refused.allowed).toBe(false);
    time.advance(refused.retryAfterMs);
    expect((await decide(limiter, 'k')).allowed).toBe(true);
  });
});

describe('token bucket (GCRA, memory)', () => {
  it('lets a burst through, then refills at the rate', async () => {
    const time = clock();
    const limiter = make({
      store: memoryStore({ now: time.now }),
      policies: [{ name: 'b', limit: 10, window: 1000, burst: 5, algorithm: 'token-bucket' }],
    });
    const burst = [];
    for (let i = 0; i < 6; i += 1) burst.push((await decide(limiter, 'k')).allowed);
    expect(burst).toEqual([true, true, true, true, true, false]);
    const refused = await decide(limiter, 'k');
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(100);
    time.advance(100); // one token per 100 ms
    expect((await decide(limiter, 'k')).allowed).toBe(true);
    expect((await decide(limiter, 'k')).allowed).toBe(false);
    time.advance(1000);
    const full = await decide(limiter, 'k');
    expect(full.policies[0]?.remaining).toBe(4);
  });

  it('never admits more than burst + rate x span over any span', async () => {
    const time = clock();
    const limiter = make({
      store: memoryStore({ now: time.now }),
      policies: [{ name: 'b', limit: 20, window: 1000, burst: 20, algorithm: 'token-bucket' }],
    });
    const admittedAt: number[] = [];
    for (let t = 0; t < 5000; t += 5) {
      time.set(1_700_000_000_000 + t);
      if ((await decide(limiter, 'k')).allowed) admittedAt.push(t);
    }
    for (const start of admittedAt) {
      const within = admittedAt.filter((t) => t >= start && t < start + 1000).length;
      expect(within).toBeLessThanOrEqual(20 + 20);
    }
    // the steady rate after the first burst is the limit
    expect(admittedAt.filter((t) => t >= 2000 && t < 3000).length).toBe(20);
  });
});

describe('several policies', () => {
  it('the tightest decides, and a refusal by one refunds the others', async () => {
    const time = clock(3600_000 * 500);
    const limiter = make({
      store: memoryStore({ now: time.now }),
      policies: [
        { name: 'burst', limit: 2, window: 1000, algorithm: 'token-bucket' },
        { name: 'hourly', limit: 100, window: 3600_000, algorithm: 'sliding-window' },
      ],
    });
    await decide(limiter, 'k');
    const second = await decide(limiter, 'k');
    expect(second.policies.map((p) => [p.name, p.remaining])).toEqual([
      ['burst', 0],
      ['hourly', 98],
    ]);
    const third = await decide(limiter, 'k');
    expect(third.allowed).toBe(false);
    expect(third.violated).toEqual(['burst']);
    time.advance(1000);
    const fourth = await decide(limiter, 'k');
    expect(fourth.allowed).toBe(true);
    // the refused request did not count against the hourly budget
    expect(fourth.policies[1]?.remaining).toBe(97);
  });

  it('keys per policy: a policy without a key does not apply', async () => {
    const limiter = make({
      policies: [
        { name: 'per-ip', limit: 1, window: 60_000, algorithm: 'sliding-window' },
        { name: 'per-key', limit: 5, window: 60_000, algorithm: 'sliding-window' },
      ],
    });
    const only = await decide(limiter, { 'per-key': 'k1' });
    expect(only.policies.map((p) => p.name)).toEqual(['per-key']);
  });
});

describe('tiers', () => {
  const policies = [
    { name: 'per-minute', limit: 2, window: 60_000, algorithm: 'sliding-window' as const },
  ];

  it('reads the tier of the context actor, with its own limits; Infinity is unlimited', async () => {
    const limiter = make({
      policies,
      tiers: {
        free: { 'per-minute': 2 },
        pro: { 'per-minute': 5 },
        enterprise: { 'per-minute': Infinity },
      },
      defaultTier: 'free',
    });
    const asActor = (tier: string | undefined, key: string) =>
      runWithContext(
        { requestId: 'r', actor: { id: key, ...(tier ? { tier } : {}) } as never },
        () => limiter.check(fakeRequest({ ip: key })),
      );
    const pro = await asActor('pro', '10.0.0.1');
    expect(pro.ok && pro.value.tier).toBe('pro');
    expect(pro.ok && pro.value.policies[0]?.limit).toBe(5);
    const unknown = await asActor('platinum', '10.0.0.2');
    expect(unknown.ok && unknown.value.tier).toBe('free');
    const none = await asActor(undefined, '10.0.0.3');
    expect(none.ok && none.value.policies[0]?.limit).toBe(2);
    const enterprise = await asActor('enterprise', '10.0.0.4');
    expect(enterprise.ok && enterprise.value.policies).toEqual([]);
    expect(enterprise.ok && enterprise.value.allowed).toBe(true);
  });

  it("keys an api-key policy on the verified key of the actor, else on the header's hash", async () => {
    const limiter = make({
      policies: [{ name: 'per-key', limit: 1, window: 60_000, key: 'api-key' }],
    });
    const asKey = (keyId: string | undefined, header: string | undefined) =>
      runWithContext(
        { requestId: 'r', actor: { id: 'owner', ...(keyId ? { keyId } : {}) } as never },
        () =>
          limiter.check(
            fakeRequest({ headers: header === undefined ? {} : { 'x-api-key': header } }),
          ),
      );
    // The same verified key, sent as Bearer (no header) and then with another header value.
    expect((await asKey('key-1', undefined)).ok && true).toBe(true);
    const again = await asKey('key-1', 'anything');
    expect(again.ok && again.value.allowed).toBe(false);
    // Without a verified key, the header decides.
    expect((await asKey(undefined, 'raw-a')).ok).toBe(true);
    const sameHeader = await asKey(undefined, 'raw-a');
    expect(sameHeader.ok && sameHeader.value.allowed).toBe(false);
    const otherHeader = await asKey(undefined, 'raw-b');
    expect(otherHeader.ok && otherHeader.value.allowed).toBe(true);
  });

  it('an explicit tier wins', async () => {
    const limiter = make({ policies, tiers: { pro: { 'per-minute': 50 } } });
    const result = await limiter.consume('k', { tier: 'pro' });
    expect(result.ok && result.value.policies[0]?.limit).toBe(50);
  });
});

describe('concurrency', () => {
  it('holds a slot until release, and frees it once', async () => {
    const limiter = make({ policies: [{ name: 'in-flight', limit: 2, algorithm: 'concurrency' }] });
    const one = await decide(limiter, 'k');
    const two = await decide(limiter, 'k');
    expect(two.policies[0]?.remaining).toBe(0);
    const three = await decide(limiter, 'k');
    expect(three.allowed).toBe(false);
    one.release();
    one.release();
    expect((await decide(limiter, 'k')).allowed).toBe(true);
    expect((await decide(limiter, 'k')).allowed).toBe(false);
  });
});

describe('shadow mode', () => {
  it('counts what it would refuse and refuses nothing', async () => {
    const limiter = make({ shadow: true, policies: [{ name: 'p', limit: 1, window: 60_000 }] });
    await decide(limiter, 'k');
    const second = await decide(limiter, 'k');
    expect(second.allowed).toBe(true);
    expect(second.shadowViolated).toEqual(['p']);
    expect(second.violated).toEqual([]);
  });
});

describe('load-based lowering', () => {
  it('answers "reduced" over the lowered limit while under pressure, and recovers', async () => {
    let busy = false;
    const limiter = make({
      policies: [{ name: 'p', limit: 10, window: 60_000, algorithm: 'sliding-window' }],
      pressure: { signal: () => busy, reduceTo: 0.5, interval: 60_000 },
    });
    for (let i = 0; i < 5; i += 1) await decide(limiter, 'k');
    busy = true;
    expect(limiter.samplePressure()).toBe(true);
    const reduced = await decide(limiter, 'k');
    expect(reduced.allowed).toBe(false);
    expect(reduced.outcome).toBe('reduced');
    expect(reduced.policies[0]?.limit).toBe(5);
    expect(reduced.retryAfterMs).toBeGreaterThanOrEqual(1000);
    busy = false;
    expect(limiter.samplePressure()).toBe(false);
    expect((await decide(limiter, 'k')).allowed).toBe(true);
  });
});

describe('bad input', () => {
  it('refuses bad options at construction with RATELIMIT_INVALID_OPTIONS', () => {
    const bad: unknown[] = [
      { policies: [{ name: 'p', limit: -1, window: 1000 }] },
      { policies: [{ name: 'p', limit: 1, window: 1500 }] },
      { policies: [{ name: 'p', limit: 1 }] },
      { policies: [{ name: 'has space', limit: 1, window: 1000 }] },
      { policies: [{ name: '__proto__', limit: 1, window: 1000 }] },
      { policies: [{ name: 'p', limit: 1, window: 1000, algorithm: 'leaky' }] },
      { policies: [{ name: 'p', limit: 1, window: 1000, key: 'cookie' }] },
      {
        policies: [
          { name: 'p', limit: 1, window: 1000 },
          { name: 'p', limit: 2, window: 1000 },
        ],
      },
      { policies: 'p' },
      { store: {} },
      { tiers: { free: { p: '10' } } },
      { defaultTier: 'gold', tiers: {} },
      { pressure: { reduceTo: 2 } },
      { ipv6Subnet: 200 },
    ];
    for (const options of bad) {
      expect(() => createRateLimiter(options as never), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'RATELIMIT_INVALID_OPTIONS' }),
      );
    }
    expect(() => definePolicy({ name: 'x'.repeat(65), limit: 1, window: 1000 })).toThrow(
      /policy.name/,
    );
  });

  it('returns typed errors for bad keys and costs, and changes nothing', async () => {
    const limiter = make({
      policies: [{ name: 'p', limit: 1, window: 60_000, algorithm: 'sliding-window' }],
    });
    for (const key of ['', 42, null, ['a'], { p: 7 }]) {
      const result = await limiter.consume(key as never);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error.code).toBe('RATELIMIT_INVALID_KEY');
    }
    for (const cost of [0, -1, 1.5, Number.NaN, '2']) {
      const result = await limiter.consume('k', { cost: cost as never });
      expect(!result.ok && result.error.code).toBe('RATELIMIT_INVALID_COST');
    }
    expect((await decide(limiter, 'k')).allowed).toBe(true);
  });

  it('a huge key is hashed, not stored as is; a key function returning junk is a typed error', async () => {
    const limiter = make({
      policies: [
        {
          name: 'p',
          limit: 1,
          window: 60_000,
          algorithm: 'sliding-window',
          key: (r) => r.headers['x-k'] as string,
        },
      ],
    });
    const huge = 'x'.repeat(1_000_000);
    const first = await limiter.check(fakeRequest({ headers: { 'x-k': huge } }));
    const second = await limiter.check(fakeRequest({ headers: { 'x-k': huge } }));
    expect(first.ok && first.value.allowed).toBe(true);
    expect(second.ok && second.value.allowed).toBe(false);
    const junk = make({
      policies: [{ name: 'p', limit: 1, window: 60_000, key: () => 42 as never }],
    });
    const result = await junk.check(fakeRequest());
    expect(!result.ok && result.error.code).toBe('RATELIMIT_INVALID_KEY');
  });

  it('a flood of random keys stays within maxKeys', async () => {
    const store = memoryStore({ maxKeys: 1000 });
    const limiter = make({
      store,
      policies: [{ name: 'p', limit: 1, window: 60_000, algorithm: 'token-bucket' }],
    });
    for (let i = 0; i < 5000; i += 1) await limiter.consume(`k${i}`);
    expect((store as unknown as { size: number }).size).toBeLessThanOrEqual(1000);
  });
});
