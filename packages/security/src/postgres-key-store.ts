import { fromPromise, optionChecks, type ProdError, type Result } from '@prod/core';
import { SecurityErrors } from './errors.js';
import type { ApiKeyRecord, ApiKeyStore } from './key-store.js';
import type { SqlClient } from './sql-client.js';

/** Where the API key table lives. */
export interface ApiKeyTableOptions {
  /** Table name. Default `api_keys`. */
  readonly table?: string;
  /** Schema; default: the connection's `search_path`. */
  readonly schema?: string;
}

/** Options of {@link postgresKeyStore}. */
export interface PostgresKeyStoreOptions extends ApiKeyTableOptions {
  /** A pg `Pool` or `Client`, or a PGlite instance. */
  readonly db: SqlClient;
}

const check = optionChecks(SecurityErrors.SECURITY_INVALID_OPTIONS);
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

function tableName(options: ApiKeyTableOptions): { qualified: string; bare: string } {
  const given = check.object<ApiKeyTableOptions>('options', options);
  const table = check.string('table', given.table, 'api_keys', { nonEmpty: true });
  if (!IDENTIFIER.test(table)) check.fail('table', 'a lower-case SQL identifier', table);
  const schema = given.schema === undefined ? undefined : check.string('schema', given.schema, '');
  if (schema !== undefined && !IDENTIFIER.test(schema)) {
    check.fail('schema', 'a lower-case SQL identifier', schema);
  }
  return { qualified: schema === undefined ? `"${table}"` : `"${schema}"."${table}"`, bare: table };
}

/**
 * The table of the PostgreSQL key store as SQL statements, for your migration tool
 * (node-pg-migrate, Flyway, @prod/db): one row per key with its HMAC (never the key), unique by
 * hash, an index for listing an owner's keys. Idempotent.
 *
 * @throws `SECURITY_INVALID_OPTIONS` for a table or schema that is not a plain identifier.
 * @example
 * for (const statement of apiKeyMigrationSql({ table: 'api_keys' })) console.log(`${statement};`);
 */
export function apiKeyMigrationSql(options: ApiKeyTableOptions = {}): string[] {
  const { qualified, bare } = tableName(options);
  return [
    `CREATE TABLE IF NOT EXISTS ${qualified} (
  id text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
  key_hash char(64) NOT NULL UNIQUE CHECK (key_hash ~ '^[0-9a-f]{64}$'),
  hint text NOT NULL,
  owner text NOT NULL,
  name text,
  scopes text[] NOT NULL DEFAULT '{}',
  tier text,
  created_at timestamptz NOT NULL,
  expires_at timestamptz,
  revoked_at timestamptz
)`,
    `CREATE INDEX IF NOT EXISTS "${bare}_owner" ON ${qualified} (owner, created_at DESC)`,
  ];
}

/**
 * Creates the key store's table ({@link apiKeyMigrationSql}) through a SQL client, as one
 * statement that holds an advisory lock, so several instances may run it at once on start.
 *
 * @returns `Ok` once the table exists; `Err` (`UNAVAILABLE` when the server cannot be reached,
 * else the database's error as `INTERNAL`).
 * @example
 * declare const db: SqlClient; // new pg.Pool({ connectionString }), or a PGlite instance
 * const migrated = await applyApiKeyMigration(db);
 * if (!migrated.ok) throw migrated.error;
 * const store = postgresKeyStore({ db });
 */
export async function applyApiKeyMigration(
  db: SqlClient,
  options: ApiKeyTableOptions = {},
): Promise<Result<void, ProdError>> {
  if (typeof db?.query !== 'function') check.fail('db', 'a SQL client ({ query })', db);
  const { bare } = tableName(options);
  const statements = apiKeyMigrationSql(options);
  // One DO block: a single statement is its own transaction on every client (a pool lends
  // one connection for it), and the lock serializes concurrent first starts, which would
  // otherwise race on the catalog.
  const lock = `@prod/security:api-keys:${options.schema ?? ''}.${bare}`;
  const body = statements.map((statement) => `  ${statement};`).join('\n');
  return fromPromise(async () => {
    await db.query(
      `DO $prod$\nBEGIN\n  PERFORM pg_advisory_xact_lock(hashtextextended('${lock}', 0));\n${body}\nEND\n$prod$`,
    );
  });
}

interface KeyRow {
  id: string;
  key_hash: string;
  hint: string;
  owner: string;
  name: string | null;
  scopes: string[] | string;
  tier: string | null;
  created_at: number | string;
  expires_at: number | string | null;
  revoked_at: number | string | null;
}

const millis = (value: number | string): number => Math.round(Number(value));

function toRecord(row: KeyRow): ApiKeyRecord {
  return Object.freeze({
    id: row.id,
    hash: row.key_hash.trim(),
    hint: row.hint,
    owner: row.owner,
    ...(row.name === null ? {} : { name: row.name }),
    scopes: Object.freeze(Array.isArray(row.scopes) ? [...row.scopes] : parseTextArray(row.scopes)),
    ...(row.tier === null ? {} : { tier: row.tier }),
    createdAt: millis(row.created_at),
    ...(row.expires_at === null ? {} : { expiresAt: millis(row.expires_at) }),
    ...(row.revoked_at === null ? {} : { revokedAt: millis(row.revoked_at) }),
  });
}

// A driver without a text[] parser hands the array literal over as text: `{a,b,"c d"}`.
function parseTextArray(literal: string): string[] {
  const inner = literal.slice(1, -1);
  if (inner === '') return [];
  const out: string[] = [];
  for (const match of inner.matchAll(/"((?:[^"\\]|\\.)*)"|([^,]+)/g)) {
    out.push(match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : (match[2] ?? ''));
  }
  return out;
}

/**
 * The PostgreSQL key store (pg or PGlite): one row per key in the table of
 * {@link apiKeyMigrationSql}, looked up by its HMAC in one indexed query. Keys are shared by
 * every instance; a revocation is seen by the others within their cache TTL (or at once with a
 * revocation channel).
 *
 * @throws `SECURITY_INVALID_OPTIONS` without a client or with a bad table name.
 * @example
 * declare const db: SqlClient; // new pg.Pool({ connectionString })
 * const migrated = await applyApiKeyMigration(db);
 * if (!migrated.ok) throw migrated.error;
 * const apiKeys = createApiKeys({ secret: 'a-long-random-server-secret-from-config', store: postgresKeyStore({ db }) });
 */
export function postgresKeyStore(options: PostgresKeyStoreOptions): ApiKeyStore {
  const given = check.object<PostgresKeyStoreOptions>('options', options);
  const db = given.db;
  if (typeof db?.query !== 'function') check.fail('db', 'a SQL client ({ query })', db);
  const { qualified } = tableName(given);
  const columns = `id, key_hash, hint, owner, name, scopes, tier,
    extract(epoch FROM created_at) * 1000 AS created_at,
    extract(epoch FROM expires_at) * 1000 AS expires_at,
    extract(epoch FROM revoked_at) * 1000 AS revoked_at`;
  const rows = (result: { rows: unknown[] }): KeyRow[] => result.rows as KeyRow[];
  const at = (ms: number | undefined): number | null => (ms === undefined ? null : ms / 1000);

  return {
    async insert(record) {
      await db.query(
        `INSERT INTO ${qualified} (id, key_hash, hint, owner, name, scopes, tier, created_at, expires_at, revoked_at)
         VALUES ($1, $2, $3, $4, $5, $6::text[], $7, to_timestamp($8::float8), to_timestamp($9::float8), to_timestamp($10::float8))`,
        [
          record.id,
          record.hash,
          record.hint,
          record.owner,
          record.name ?? null,
          [...record.scopes],
          record.tier ?? null,
          at(record.createdAt),
          at(record.expiresAt),
          at(record.revokedAt),
        ],
      );
    },
    async findByHash(hashes) {
      const found = rows(
        await db.query(
          `SELECT ${columns} FROM ${qualified} WHERE key_hash = ANY($1::text[]) LIMIT 1`,
          [[...hashes]],
        ),
      );
      return found[0] === undefined ? undefined : toRecord(found[0]);
    },
    async get(id) {
      const found = rows(await db.query(`SELECT ${columns} FROM ${qualified} WHERE id = $1`, [id]));
      return found[0] === undefined ? undefined : toRecord(found[0]);
    },
    async listByOwner(owner) {
      const found = rows(
        await db.query(
          `SELECT ${columns} FROM ${qualified} WHERE owner = $1 ORDER BY created_at DESC, id`,
          [owner],
        ),
      );
      return found.map(toRecord);
    },
    async revoke(id, revokedAt) {
      const found = rows(
        await db.query(
          `UPDATE ${qualified} SET revoked_at = COALESCE(revoked_at, to_timestamp($2::float8))
           WHERE id = $1 RETURNING ${columns}`,
          [id, revokedAt / 1000],
        ),
      );
      return found[0] === undefined ? undefined : toRecord(found[0]);
    },
  };
}
