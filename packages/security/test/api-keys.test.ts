import { createHmac } from 'node:crypto';
import { tokenFormat } from '@prod/crypto';
import {
  type ApiKeyRecord,
  type ApiKeyStore,
  createApiKeys,
  memoryKeyStore,
  type RevocationChannel,
} from '@prod/security';
import { describe, expect, it, vi } from 'vitest';
import { describeKeyStore } from './support/store-cases.js';

const SECRET = 'a-server-secret-of-at-least-32-bytes!!';
const OLD_SECRET = 'the-previous-server-secret-32-bytes!!!';

/** A store that counts every call and can be told to fail or hang. */
function countingStore(inner: ApiKeyStore = memoryKeyStore()) {
  const calls = { insert: 0, findByHash: 0, get: 0, listByOwner: 0, revoke: 0 };
  let mode: 'ok' | 'throw' | 'hang' = 'ok';
  const gate = <T>(method: keyof typeof calls, work: () => Promise<T>): Promise<T> => {
    calls[method] += 1;
    if (mode === 'throw') return Promise.reject(new Error('connection refused'));
    if (mode === 'hang') return new Promise<T>(() => {});
    return work();
  };
  const store: ApiKeyStore = {
    insert: (record) => gate('insert', () => inner.insert(record)),
    findByHash: (hashes) => gate('findByHash', () => inner.findByHash(hashes)),
    get: (id) => gate('get', () => inner.get(id)),
    listByOwner: (owner) => gate('listByOwner', () => inner.listByOwner(owner)),
    revoke: (id, at) => gate('revoke', () => inner.revoke(id, at)),
  };
  return {
    store,
    calls,
    set mode(value: 'ok' | 'throw' | 'hang') {
      mode = value;
    },
  };
}

/** A revocation channel in memory, shared by several "instances". */
function localChannel(): RevocationChannel & { published: string[] } {
  const listeners = new Set<(keyId: string) => void>();
  const published: string[] = [];
  return {
    published,
    async publish(keyId) {
      published.push(keyId);
      for (const listener of listeners) listener(keyId);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

async function issue(apiKeys: ReturnType<typeof createApiKeys>, input = {}) {
  const issued = await apiKeys.issue({ owner: 'user-42', scopes: ['notes:write'], ...input });
  if (!issued.ok) throw issued.error;
  return issued.value;
}

const codeOf = (result: { ok: boolean; error?: { code: string } }) =>
  result.ok ? 'ok' : result.error?.code;

describeKeyStore('memory', () => memoryKeyStore());

describe('createApiKeys', () => {
  it('issues prefixed, checksummed keys and stores only their HMAC under the server secret', async () => {
    const counting = countingStore();
    const inserted: ApiKeyRecord[] = [];
    const store: ApiKeyStore = {
      ...counting.store,
      insert: async (record) => {
        inserted.push(record);
        await counting.store.insert(record);
      },
    };
    const apiKeys = createApiKeys({ secret: SECRET, prefix: 'acme_live', store });
    const { token, key } = await issue(apiKeys, { name: 'CI', tier: 'pro' });
    expect(token).toMatch(/^acme_live_[0-9A-Za-z]{38}$/);
    expect(tokenFormat({ prefix: 'acme_live' }).parse(token).ok).toBe(true);
    expect(key).toMatchObject({
      owner: 'user-42',
      scopes: ['notes:write'],
      tier: 'pro',
      name: 'CI',
    });
    expect(key.hint).toBe(`acme_live_...${token.slice(-4)}`);
    expect('hash' in key).toBe(false);
    const [stored] = inserted;
    expect(stored?.hash).toBe(createHmac('sha256', SECRET).update(token).digest('hex'));
    expect(JSON.stringify(inserted)).not.toContain(token);
    expect(`leaked: ${token}`.match(apiKeys.format.pattern)).toEqual([token]);
  });

  it('verifies a key into an actor with owner, scopes, tier and key id', async () => {
    const apiKeys = createApiKeys({ secret: SECRET });
    const { token, key } = await issue(apiKeys, { tier: 'enterprise' });
    expect(await apiKeys.verify(token)).toEqual({
      ok: true,
      value: {
        id: 'user-42',
        type: 'api-key',
        scopes: ['notes:write'],
        tier: 'enterprise',
        via: 'api-key',
        keyId: key.id,
      },
    });
  });

  it('refuses malformed keys and bad checksums without a store lookup', async () => {
    const counting = countingStore();
    const apiKeys = createApiKeys({ secret: SECRET, store: counting.store });
    const { token } = await issue(apiKeys);
    const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    const at = token.length - 10;
    const typo =
      token.slice(0, at) +
      alphabet[(alphabet.indexOf(token[at] as string) + 1) % 62] +
      token.slice(at + 1);
    for (const bad of [
      typo,
      token.slice(1),
      `${token}x`,
      token.replace('prod_', 'acme_'),
      '',
      42,
      null,
      {},
      'x'.repeat(100_000),
    ]) {
      const result = await apiKeys.verify(bad);
      expect(codeOf(result)).toBe('SECURITY_INVALID_TOKEN');
    }
    expect(counting.calls.findByHash).toBe(0);
  });

  it('refuses a well-formed key nobody issued after one lookup, then from the cache', async () => {
    const counting = countingStore();
    const apiKeys = createApiKeys({ secret: SECRET, store: counting.store });
    const madeUp = tokenFormat({ prefix: 'prod' }).generate().token;
    expect(codeOf(await apiKeys.verify(madeUp))).toBe('SECURITY_INVALID_TOKEN');
    expect(codeOf(await apiKeys.verify(madeUp))).toBe('SECURITY_INVALID_TOKEN');
    expect(counting.calls.findByHash).toBe(1);
  });

  it('caches lookups for cacheTtl and shares one lookup between concurrent requests', async () => {
    let now = 1_000_000;
    const counting = countingStore();
    const apiKeys = createApiKeys({
      secret: SECRET,
      store: counting.store,
      cacheTtl: 30_000,
      now: () => now,
    });
    const { token } = await issue(apiKeys);
    const results = await Promise.all(Array.from({ length: 20 }, () => apiKeys.verify(token)));
    expect(results.every((result) => result.ok)).toBe(true);
    expect(counting.calls.findByHash).toBe(1);
    now += 29_999;
    await apiKeys.verify(token);
    expect(counting.calls.findByHash).toBe(1);
    now += 2;
    await apiKeys.verify(token);
    expect(counting.calls.findByHash).toBe(2);
  });

  it('looks every request up with cacheTtl 0', async () => {
    const counting = countingStore();
    const apiKeys = createApiKeys({ secret: SECRET, store: counting.store, cacheTtl: 0 });
    const { token } = await issue(apiKeys);
    await apiKeys.verify(token);
    await apiKeys.verify(token);
    expect(counting.calls.findByHash).toBe(2);
  });

  it('refuses an expired key at its expiry, cached or not', async () => {
    let now = 1_000_000;
    const apiKeys = createApiKeys({ secret: SECRET, now: () => now });
    const { token, key } = await issue(apiKeys, { expiresIn: 60_000 });
    expect(key.expiresAt).toBe(1_060_000);
    expect((await apiKeys.verify(token)).ok).toBe(true);
    now = 1_059_999;
    expect((await apiKeys.verify(token)).ok).toBe(true);
    now = 1_060_000;
    expect(codeOf(await apiKeys.verify(token))).toBe('SECURITY_TOKEN_EXPIRED');
    const dated = await issue(apiKeys, { expiresAt: new Date(2_000_000) });
    expect(dated.key.expiresAt).toBe(2_000_000);
  });

  it('revokes at once on this instance, within one cache TTL on another, at once with a channel', async () => {
    let now = 1_000_000;
    const shared = memoryKeyStore();
    const a = createApiKeys({ secret: SECRET, store: shared, now: () => now, cacheTtl: 10_000 });
    const b = createApiKeys({ secret: SECRET, store: shared, now: () => now, cacheTtl: 10_000 });
    const { token, key } = await issue(a);
    expect((await a.verify(token)).ok).toBe(true);
    expect((await b.verify(token)).ok).toBe(true);
    const revoked = await a.revoke(key.id);
    expect(revoked.ok && revoked.value.revokedAt).toBe(1_000_000);
    expect(codeOf(await a.verify(token))).toBe('SECURITY_TOKEN_REVOKED');
    // b still serves its cached lookup until its TTL passes, and not one millisecond longer.
    now += 9_999;
    expect((await b.verify(token)).ok).toBe(true);
    now += 1;
    expect(codeOf(await b.verify(token))).toBe('SECURITY_TOKEN_REVOKED');

    const channel = localChannel();
    const c = createApiKeys({
      secret: SECRET,
      store: shared,
      now: () => now,
      revocations: channel,
    });
    const d = createApiKeys({
      secret: SECRET,
      store: shared,
      now: () => now,
      revocations: channel,
    });
    const second = await issue(c);
    expect((await d.verify(second.token)).ok).toBe(true);
    expect((await c.revoke(second.key.id)).ok).toBe(true);
    expect(channel.published).toEqual([second.key.id]);
    expect(codeOf(await d.verify(second.token))).toBe('SECURITY_TOKEN_REVOKED');
    d.close();
  });

  it('does not cache a lookup that was in flight while the key was revoked', async () => {
    const inner = memoryKeyStore();
    const gate: { release: (() => void) | undefined } = { release: undefined };
    // Through a function: the compiler would narrow `gate.release` after each assignment.
    const release = (): void => gate.release?.();
    const slow: ApiKeyStore = {
      ...inner,
      findByHash: async (hashes) => {
        const found = await inner.findByHash(hashes);
        await new Promise<void>((resolve) => {
          gate.release = resolve;
        });
        return found;
      },
    };
    const apiKeys = createApiKeys({ secret: SECRET, store: slow });
    const { token, key } = await issue(apiKeys);
    const before = apiKeys.verify(token);
    await vi.waitFor(() => expect(gate.release).toBeDefined());
    expect((await apiKeys.revoke(key.id)).ok).toBe(true);
    release();
    expect((await before).ok).toBe(true);
    gate.release = undefined;
    const after = apiKeys.verify(token);
    await vi.waitFor(() => expect(gate.release).toBeDefined());
    release();
    expect(codeOf(await after)).toBe('SECURITY_TOKEN_REVOKED');
  });

  it('ignores revocation notices it cannot act on, and a forged notice only costs a lookup', async () => {
    const channel = localChannel();
    const counting = countingStore();
    const apiKeys = createApiKeys({ secret: SECRET, store: counting.store, revocations: channel });
    const { token, key } = await issue(apiKeys);
    await apiKeys.verify(token);
    await channel.publish(key.id);
    expect((await apiKeys.verify(token)).ok).toBe(true);
    expect(counting.calls.findByHash).toBe(2);
  });

  it('compares the stored hash in constant time: a store that matches loosely lets nothing in', async () => {
    const inner = memoryKeyStore();
    const apiKeys0 = createApiKeys({ secret: SECRET, store: inner });
    const { key } = await issue(apiKeys0);
    const stored = await inner.get(key.id);
    // A store that answers its one key for any hash (a case-insensitive or prefix match).
    const sloppy: ApiKeyStore = { ...inner, findByHash: async () => stored };
    const apiKeys = createApiKeys({ secret: SECRET, store: sloppy });
    const other = tokenFormat({ prefix: 'prod' }).generate().token;
    expect(codeOf(await apiKeys.verify(other))).toBe('SECURITY_INVALID_TOKEN');
  });

  it('uses the constant-time comparison of @prod/crypto for the decision', async () => {
    const crypto = await import('@prod/crypto');
    const spy = vi.spyOn(crypto, 'safeEqual');
    const apiKeys = createApiKeys({ secret: SECRET });
    const { token } = await issue(apiKeys);
    spy.mockClear();
    await apiKeys.verify(token);
    const hash = createHmac('sha256', SECRET).update(token).digest('hex');
    expect(spy.mock.calls.some(([a, b]) => a === hash && b === hash)).toBe(true);
  });

  it('finds keys issued under the previous secret while rotating, in one lookup', async () => {
    const store = countingStore();
    const before = createApiKeys({ secret: OLD_SECRET, store: store.store });
    const { token } = await issue(before);
    const rotated = createApiKeys({ secret: [SECRET, OLD_SECRET], store: store.store });
    const calls = store.calls.findByHash;
    expect((await rotated.verify(token)).ok).toBe(true);
    expect(store.calls.findByHash).toBe(calls + 1);
    const fresh = await issue(rotated);
    expect(codeOf(await before.verify(fresh.token))).toBe('SECURITY_INVALID_TOKEN');
    const only = createApiKeys({ secret: SECRET, store: store.store });
    expect(codeOf(await only.verify(token))).toBe('SECURITY_INVALID_TOKEN');
  });

  it('answers 503 SECURITY_KEY_STORE_UNAVAILABLE when the store fails or hangs, and caches nothing', async () => {
    const counting = countingStore();
    const apiKeys = createApiKeys({ secret: SECRET, store: counting.store, lookupTimeout: 50 });
    const { token } = await issue(apiKeys);
    counting.mode = 'throw';
    const failed = await apiKeys.verify(token);
    expect(codeOf(failed)).toBe('SECURITY_KEY_STORE_UNAVAILABLE');
    expect(!failed.ok && [failed.error.status, failed.error.retryable]).toEqual([503, true]);
    counting.mode = 'hang';
    const started = performance.now();
    expect(codeOf(await apiKeys.verify(token))).toBe('SECURITY_KEY_STORE_UNAVAILABLE');
    expect(performance.now() - started).toBeLessThan(2000);
    expect(codeOf(await apiKeys.issue({ owner: 'x' }))).toBe('SECURITY_KEY_STORE_UNAVAILABLE');
    counting.mode = 'ok';
    expect((await apiKeys.verify(token)).ok).toBe(true);
  });

  it('gets, lists and revokes by id, with typed errors for unknown ids', async () => {
    const apiKeys = createApiKeys({ secret: SECRET });
    const one = await issue(apiKeys, { owner: 'owner-a' });
    await issue(apiKeys, { owner: 'owner-b' });
    expect((await apiKeys.get(one.key.id)).ok).toBe(true);
    const listed = await apiKeys.list('owner-a');
    expect(listed.ok && listed.value.map((key) => key.id)).toEqual([one.key.id]);
    expect(listed.ok && listed.value.every((key) => !('hash' in key))).toBe(true);
    expect(codeOf(await apiKeys.get('nope'))).toBe('SECURITY_KEY_NOT_FOUND');
    expect(codeOf(await apiKeys.revoke('nope'))).toBe('SECURITY_KEY_NOT_FOUND');
    const first = await apiKeys.revoke(one.key.id);
    const second = await apiKeys.revoke(one.key.id);
    expect(first.ok && second.ok && second.value.revokedAt === first.value.revokedAt).toBe(true);
  });

  it('registers a configured key once, idempotently, and refuses one of another format', async () => {
    const counting = countingStore();
    const apiKeys = createApiKeys({ secret: SECRET, store: counting.store });
    const configured = tokenFormat({ prefix: 'prod' }).generate().token;
    const first = await apiKeys.issue({ owner: 'ci', scopes: ['deploy'], token: configured });
    if (!first.ok) throw first.error;
    expect(first.value.token).toBe(configured);
    expect((await apiKeys.verify(configured)).ok).toBe(true);
    const again = await apiKeys.issue({ owner: 'ci', scopes: ['deploy'], token: configured });
    expect(again.ok && again.value.key.id).toBe(first.value.key.id);
    expect(counting.calls.insert).toBe(1);
    const other = tokenFormat({ prefix: 'acme' }).generate().token;
    expect(codeOf(await apiKeys.issue({ owner: 'ci', token: other }))).toBe(
      'SECURITY_INVALID_INPUT',
    );
    const typo = `${configured.slice(0, -1)}${configured.at(-1) === '0' ? '1' : '0'}`;
    expect(codeOf(await apiKeys.issue({ owner: 'ci', token: typo }))).toBe(
      'SECURITY_INVALID_INPUT',
    );
    await apiKeys.revoke(first.value.key.id);
    expect(codeOf(await apiKeys.issue({ owner: 'ci', token: configured }))).toBe(
      'SECURITY_INVALID_INPUT',
    );
  });

  it('refuses input it cannot store, and stores nothing', async () => {
    const counting = countingStore();
    const apiKeys = createApiKeys({ secret: SECRET, store: counting.store, now: () => 1_000 });
    const bad: unknown[] = [
      null,
      {},
      { owner: '' },
      { owner: 'x'.repeat(257) },
      { owner: 'line\nbreak' },
      { owner: 'lone \ud800 surrogate' },
      { owner: 'o', scopes: 'notes:write' },
      { owner: 'o', scopes: ['has space'] },
      { owner: 'o', scopes: ['quote"'.replace('"', '\\')] },
      { owner: 'o', scopes: Array.from({ length: 101 }, (_, i) => `s${i}`) },
      { owner: 'o', tier: '' },
      { owner: 'o', expiresAt: 999 },
      { owner: 'o', expiresIn: -1 },
      { owner: 'o', expiresIn: 1, expiresAt: 5_000 },
      { owner: 'o', expiresAt: Number.NaN },
    ];
    for (const input of bad) {
      const result = await apiKeys.issue(input as never);
      expect(codeOf(result), JSON.stringify(input)).toBe('SECURITY_INVALID_INPUT');
    }
    expect(counting.calls.insert).toBe(0);
  });

  it('checks its options at construction', () => {
    const bad: unknown[] = [
      undefined,
      {},
      { secret: 'short' },
      { secret: [] },
      { secret: [SECRET, 'short'] },
      { secret: SECRET, prefix: 'Bad-Prefix' },
      { secret: SECRET, store: {} },
      { secret: SECRET, cacheTtl: -1 },
      { secret: SECRET, cacheSize: 0 },
      { secret: SECRET, lookupTimeout: 0 },
      { secret: SECRET, revocations: {} },
      { secret: SECRET, now: 5 },
    ];
    for (const options of bad) {
      expect(() => createApiKeys(options as never), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'SECURITY_INVALID_OPTIONS' }),
      );
    }
    expect(() => createApiKeys({ secret: new Uint8Array(32) })).not.toThrow();
  });
});
