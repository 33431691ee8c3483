import { createWebhookSigner, memoryReplayStore } from '@prod/crypto';
import { describe, expect, it } from 'vitest';

const secret = 'whsec_0123456789abcdefghijklmnopqrstuv';

describe('webhook signatures', () => {
  it('signs t=<seconds>,v1=<hex> over "<t>.<payload>" and verifies it', async () => {
    let now = 1_700_000_000_000;
    const webhooks = createWebhookSigner({ secrets: secret, now: () => now });
    const signed = webhooks.sign('{"id":"evt_1"}');
    expect(signed.header).toMatch(/^t=1700000000,v1=[0-9a-f]{64}$/);
    expect(await webhooks.verify('{"id":"evt_1"}', signed.header)).toEqual({
      ok: true,
      value: { timestamp: 1_700_000_000 },
    });
    const changed = await webhooks.verify('{"id":"evt_2"}', signed.header);
    expect(!changed.ok && changed.error.code).toBe('CRYPTO_SIGNATURE_INVALID');
    now += 301_000;
    const late = await webhooks.verify('{"id":"evt_1"}', signed.header);
    expect(!late.ok && late.error.code).toBe('CRYPTO_SIGNATURE_EXPIRED');
  });

  it('refuses a moved timestamp, malformed headers and other secrets', async () => {
    const webhooks = createWebhookSigner({ secrets: secret });
    const { header, timestamp } = webhooks.sign('body');
    const moved = header.replace(`t=${timestamp}`, `t=${timestamp + 1}`);
    for (const bad of [
      moved,
      undefined,
      '',
      't=1',
      'v1=00',
      `${header.slice(0, -1)}g`,
      'x'.repeat(5000),
    ]) {
      const result = await webhooks.verify('body', bad);
      expect(!result.ok && result.error.code).toBe('CRYPTO_SIGNATURE_INVALID');
    }
    const other = createWebhookSigner({ secrets: 'whsec_another-secret-of-32-bytes-at-least' });
    expect((await other.verify('body', header)).ok).toBe(false);
  });

  it('rotates: signs with every secret, accepts any', async () => {
    const next = 'whsec_the-next-secret-of-32-bytes-or-more';
    const during = createWebhookSigner({ secrets: [next, secret] });
    const oldOnly = createWebhookSigner({ secrets: secret });
    const newOnly = createWebhookSigner({ secrets: next });
    const { header } = during.sign('p');
    expect(header.split(',v1=').length).toBe(3);
    expect((await oldOnly.verify('p', header)).ok && (await newOnly.verify('p', header)).ok).toBe(
      true,
    );
    expect((await during.verify('p', oldOnly.sign('p').header)).ok).toBe(true);
  });

  it('refuses a replay within the window with a replay store', async () => {
    const webhooks = createWebhookSigner({ secrets: secret, replay: memoryReplayStore() });
    const { header } = webhooks.sign('once');
    expect((await webhooks.verify('once', header)).ok).toBe(true);
    const again = await webhooks.verify('once', header);
    expect(!again.ok && again.error.code).toBe('CRYPTO_REPLAYED');
  });

  it('memoryReplayStore forgets after the ttl and stays bounded', () => {
    let now = 0;
    const store = memoryReplayStore({ maxEntries: 3, now: () => now });
    expect(store.remember('a', 10)).toBe(true);
    expect(store.remember('a', 10)).toBe(false);
    now = 11;
    expect(store.remember('a', 10)).toBe(true);
    for (const key of ['b', 'c', 'd', 'e']) store.remember(key, 100);
    expect(store.remember('b', 100)).toBe(true); // evicted as the oldest
  });

  it('checks its options', () => {
    expect(() => createWebhookSigner({ secrets: 'short' })).toThrow(/secrets/);
    expect(() => createWebhookSigner({ secrets: [] })).toThrow(/secrets/);
    expect(() => createWebhookSigner({ secrets: secret, tolerance: -1 })).toThrow(/tolerance/);
  });
});
