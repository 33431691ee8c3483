import { bruteForceKey, clientIp, createBruteForce } from '@prod/ratelimit';
import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.useRealTimers();
});

describe('createBruteForce', () => {
  it('blocks a key after N consecutive failures, for blockDuration; a success resets it', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(10_000_000);
    const guard = createBruteForce({ limit: 3, window: 60_000, blockDuration: 120_000 });
    const key = bruteForceKey('alice', '203.0.113.9');
    expect(await guard.fail(key)).toEqual({ ok: true, value: { remaining: 2 } });
    expect(await guard.succeed(key)).toEqual({ ok: true, value: undefined });
    // a success in between: the count starts again
    await guard.fail(key);
    await guard.fail(key);
    const third = await guard.fail(key);
    expect(third.ok).toBe(false);
    if (!third.ok) {
      expect(third.error.code).toBe('RATELIMIT_BLOCKED');
      expect(third.error.status).toBe(429);
      expect(third.error.retryAfterMs).toBe(120_000);
    }
    const checked = await guard.check(key);
    expect(!checked.ok && checked.error.code).toBe('RATELIMIT_BLOCKED');
    // the same user from another address is not blocked
    expect((await guard.check(bruteForceKey('alice', '198.51.100.1'))).ok).toBe(true);
    vi.setSystemTime(10_000_000 + 119_000);
    expect((await guard.check(key)).ok).toBe(false);
    vi.setSystemTime(10_000_000 + 121_000);
    expect(await guard.check(key)).toEqual({ ok: true, value: { remaining: 3 } });
  });

  it('typed errors for bad keys and options', async () => {
    const guard = createBruteForce();
    for (const key of ['', 'x'.repeat(513), 7, null]) {
      const result = await guard.fail(key as never);
      expect(!result.ok && result.error.code).toBe('RATELIMIT_INVALID_KEY');
    }
    for (const options of [{ limit: 0 }, { window: 1500 }, { name: 'a b' }, { store: {} }]) {
      expect(() => createBruteForce(options as never)).toThrow(
        expect.objectContaining({ code: 'RATELIMIT_INVALID_OPTIONS' }),
      );
    }
  });
});

describe('clientIp', () => {
  it('groups IPv6 by /64 (or /56), unwraps IPv4-mapped addresses, refuses junk', () => {
    expect(clientIp('203.0.113.7')).toBe('203.0.113.7');
    expect(clientIp('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientIp('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(clientIp('2001:DB8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(clientIp('2001:db8:1:2ff:1::1', 56)).toBe('2001:db8:1:200::/56');
    expect(clientIp('fe80::1%eth0')).toBe('fe80::/64');
    expect(clientIp('::1', 128)).toBe('::1');
    expect(clientIp('2001:db8::1', 48)).toBe('2001:db8::/48');
    for (const junk of [undefined, '', 'localhost', '1.2.3.4.5', '::gggg', 'a'.repeat(100)]) {
      expect(clientIp(junk)).toBeUndefined();
    }
    expect(bruteForceKey(' Alice@Example.com', '2001:db8::1')).toBe(
      'alice@example.com|2001:db8::/64',
    );
  });
});
