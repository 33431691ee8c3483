import type { ApiKeyRecord, ApiKeyStore } from './key-store.js';

/**
 * The in-process key store (the default): keys live as long as the process, and each process
 * has its own. For a demo, tests, or a single instance that issues its keys at start; use
 * `postgresKeyStore` to share keys between instances and restarts.
 *
 * @example
 * const apiKeys = createApiKeys({ secret: 'a-long-random-server-secret-from-config', store: memoryKeyStore() });
 */
export function memoryKeyStore(): ApiKeyStore {
  const byId = new Map<string, ApiKeyRecord>();
  const idByHash = new Map<string, string>();
  return {
    async insert(record) {
      if (byId.has(record.id)) throw new Error(`an API key with id ${record.id} exists`);
      if (idByHash.has(record.hash)) throw new Error('an API key with this hash exists');
      const stored = Object.freeze({ ...record, scopes: Object.freeze([...record.scopes]) });
      byId.set(record.id, stored);
      idByHash.set(record.hash, record.id);
    },
    async findByHash(hashes) {
      for (const hash of hashes) {
        const id = idByHash.get(hash);
        if (id !== undefined) return byId.get(id);
      }
      return undefined;
    },
    async get(id) {
      return byId.get(id);
    },
    async listByOwner(owner) {
      return [...byId.values()]
        .filter((record) => record.owner === owner)
        .sort((a, b) => b.createdAt - a.createdAt);
    },
    async revoke(id, at) {
      const found = byId.get(id);
      if (found === undefined || found.revokedAt !== undefined) return found;
      const revoked = Object.freeze({ ...found, revokedAt: at });
      byId.set(id, revoked);
      return revoked;
    },
  };
}
