// The cases every ApiKeyStore passes (memory, PGlite, the real PostgreSQL), and the same cases
// through createApiKeys on that store: one suite, so the stores cannot drift.
import { type ApiKeyRecord, type ApiKeyStore, createApiKeys } from '@prod/security';
import { describe, expect, it } from 'vitest';

const SECRET = 'a-server-secret-of-at-least-32-bytes!!';

function record(overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  const n = Math.random().toString(16).slice(2, 10);
  return {
    id: `id-${n}`,
    hash: (n.repeat(8) + '0'.repeat(64)).slice(0, 64),
    hint: 'prod_...abcd',
    owner: 'owner-1',
    scopes: ['notes:read', 'notes:write'],
    createdAt: 1_700_000_000_123,
    ...overrides,
  };
}

/** Runs the store cases against stores made by `make` (each case gets a fresh one). */
export function describeKeyStore(
  name: string,
  make: () => Promise<ApiKeyStore> | ApiKeyStore,
): void {
  describe(`${name} key store`, () => {
    it('stores a key and finds it by any of several hashes, with every field as given', async () => {
      const store = await make();
      const stored = record({
        name: 'CI deploys',
        tier: 'pro',
        expiresAt: 1_800_000_000_456,
        scopes: ['a', 'b:c', 'with"quote'],
      });
      await store.insert(stored);
      const found = await store.findByHash(['f'.repeat(64), stored.hash]);
      expect(found).toEqual(stored);
      expect(await store.get(stored.id)).toEqual(stored);
      expect(await store.findByHash(['e'.repeat(64)])).toBeUndefined();
      expect(await store.get('no-such-id')).toBeUndefined();
    });

    it('keeps optional fields absent, not null', async () => {
      const store = await make();
      const stored = record({ scopes: [] });
      await store.insert(stored);
      const found = await store.get(stored.id);
      expect(found).toEqual(stored);
      expect(found && 'tier' in found).toBe(false);
      expect(found && 'expiresAt' in found).toBe(false);
      expect(found && 'revokedAt' in found).toBe(false);
    });

    it('refuses a second key with the same id or hash', async () => {
      const store = await make();
      const first = record();
      await store.insert(first);
      await expect(store.insert({ ...record(), id: first.id })).rejects.toThrow();
      await expect(store.insert({ ...record(), hash: first.hash })).rejects.toThrow();
    });

    it('lists the keys of one owner, newest first', async () => {
      const store = await make();
      const older = record({ owner: 'lister', createdAt: 1_700_000_000_000 });
      const newer = record({ owner: 'lister', createdAt: 1_700_000_500_000 });
      await store.insert(older);
      await store.insert(newer);
      await store.insert(record({ owner: 'someone-else' }));
      expect((await store.listByOwner('lister')).map((key) => key.id)).toEqual([
        newer.id,
        older.id,
      ]);
      expect(await store.listByOwner('nobody')).toEqual([]);
    });

    it('revokes once: a second revocation keeps the first time', async () => {
      const store = await make();
      const stored = record();
      await store.insert(stored);
      const revoked = await store.revoke(stored.id, 1_750_000_000_789);
      expect(revoked?.revokedAt).toBe(1_750_000_000_789);
      const again = await store.revoke(stored.id, 1_760_000_000_000);
      expect(again?.revokedAt).toBe(1_750_000_000_789);
      expect((await store.findByHash([stored.hash]))?.revokedAt).toBe(1_750_000_000_789);
      expect(await store.revoke('no-such-id', 1)).toBeUndefined();
    });

    it('serves createApiKeys: issue, verify, revoke', async () => {
      const apiKeys = createApiKeys({ secret: SECRET, store: await make(), cacheTtl: 0 });
      const issued = await apiKeys.issue({ owner: 'svc-1', scopes: ['notes:write'], tier: 'pro' });
      if (!issued.ok) throw issued.error;
      const verified = await apiKeys.verify(issued.value.token);
      expect(verified).toEqual({
        ok: true,
        value: {
          id: 'svc-1',
          type: 'api-key',
          scopes: ['notes:write'],
          tier: 'pro',
          via: 'api-key',
          keyId: issued.value.key.id,
        },
      });
      expect((await apiKeys.revoke(issued.value.key.id)).ok).toBe(true);
      const after = await apiKeys.verify(issued.value.token);
      expect(!after.ok && after.error.code).toBe('SECURITY_TOKEN_REVOKED');
    });
  });
}
