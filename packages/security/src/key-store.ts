/** What is known about an API key, without the key itself. */
export interface ApiKeyInfo {
  /** A random id (not secret): name the key by it in audit logs, revocations, support. */
  readonly id: string;
  /** Who the key acts for (a user or service id); the actor's `id`. */
  readonly owner: string;
  /** A label for people ("CI deploys"). */
  readonly name?: string;
  readonly scopes: readonly string[];
  /** The caller's plan or class, read by @prod/ratelimit for per-tier limits. */
  readonly tier?: string;
  /** `prod_...a1B2`: safe to show in a list of keys. */
  readonly hint: string;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  /** Epoch milliseconds; undefined: never expires. */
  readonly expiresAt?: number;
  /** Epoch milliseconds; undefined: not revoked. */
  readonly revokedAt?: number;
}

/** A stored API key: its description and its keyed hash (never the key). */
export interface ApiKeyRecord extends ApiKeyInfo {
  /** HMAC-SHA-256 of the key under the server secret, lower-case hex (64 characters). */
  readonly hash: string;
}

/**
 * Where API keys are kept, looked up by their keyed hash. `memoryKeyStore()` is the default;
 * `postgresKeyStore()` keeps them in PostgreSQL or PGlite. Implement it over any database: each
 * method may throw (or reject) when the database fails, which callers see as
 * `SECURITY_KEY_STORE_UNAVAILABLE`.
 */
export interface ApiKeyStore {
  /** Stores a new key. Ids and hashes are unique (a duplicate should throw). */
  insert(record: ApiKeyRecord): Promise<void>;
  /**
   * The key whose hash is one of `hashes` (the same key under the current and the previous
   * server secrets, while rotating), or undefined. One lookup, by an indexed column.
   */
  findByHash(hashes: readonly string[]): Promise<ApiKeyRecord | undefined>;
  /** The key with this id, or undefined. */
  get(id: string): Promise<ApiKeyRecord | undefined>;
  /** The keys of one owner, newest first. */
  listByOwner(owner: string): Promise<ApiKeyRecord[]>;
  /**
   * Marks the key revoked at `at` (epoch ms) unless it already is, and gives it back as stored
   * afterwards (an earlier revocation keeps its time); undefined when there is no such key.
   */
  revoke(id: string, at: number): Promise<ApiKeyRecord | undefined>;
}
