import type { ProdError, Result } from '@prod/core';
import { err, ok } from '@prod/core';
import type { SqlQueryable } from '@prod/db';
import {
  type ApiKeyStore,
  type ApiKeys,
  createApiKeys,
  memoryKeyStore,
  postgresKeyStore,
  type SqlClient,
} from '@prod/security';
import { API_KEY_FORMAT } from './api-key-format.js';
import type { ServiceConfig } from './config.js';
import { QUEUES_SCOPE, WRITE_SCOPE } from './notes-part.js';

/** How long a demo key issued into PostgreSQL lives: each start issues one, none piles up. */
export const DEMO_KEY_LIFETIME_MS = 24 * 60 * 60 * 1000;

/** The API keys of a service, and the key it issued for this start, if any. */
export interface ServiceApiKeys {
  readonly apiKeys: ApiKeys;
  /**
   * The demo key issued at this start (no `NOTES_API_KEY`, outside production): the start
   * banner prints it. Undefined when a key is configured, and in production (a key printed
   * into collected logs would be a leaked key).
   */
  readonly demoKey: string | undefined;
}

/** What {@link serviceApiKeys} is given beyond the configuration. */
export interface ServiceApiKeysOptions {
  /** The HMAC secret of the key store (`API_KEY_SECRET`, or an ephemeral one). */
  readonly secret: string;
  /**
   * The database of a SQL store, migrated (table `api_keys`): keys are kept there, shared by
   * every instance on PostgreSQL. Undefined (the memory store): in this process only.
   */
  readonly db: SqlQueryable | undefined;
  /** Whether the database outlives the process (PostgreSQL): a demo key then expires. */
  readonly persistent: boolean;
}

/**
 * The API keys of @prod/security for the notes service: `notes_...` keys, stored only as an
 * HMAC under `API_KEY_SECRET` (in the `api_keys` table of a SQL store, else in memory), cached
 * 30 s. At start it registers `NOTES_API_KEY` (idempotently: the same key on every start and
 * instance) or, without one and outside production, issues a demo key: owner `demo`, scopes
 * `notes:write` and `queues:read`, tier `free`, expiring after a day when the keys are kept in PostgreSQL.
 *
 * @returns `Ok(ServiceApiKeys)`; `Err` `SECURITY_INVALID_INPUT` for a configured key that was
 * revoked, `SECURITY_KEY_STORE_UNAVAILABLE` when the database does not answer.
 */
export async function serviceApiKeys(
  config: ServiceConfig,
  options: ServiceApiKeysOptions,
): Promise<Result<ServiceApiKeys, ProdError>> {
  const store: ApiKeyStore =
    options.db === undefined
      ? memoryKeyStore()
      : // @prod/security types its client's rows as a mutable array; @prod/db's are read-only.
        postgresKeyStore({ db: options.db as unknown as SqlClient });
  const apiKeys = createApiKeys({ prefix: API_KEY_FORMAT.prefix, secret: options.secret, store });
  const scopes = [WRITE_SCOPE, QUEUES_SCOPE];
  if (config.apiKey !== undefined) {
    const registered = await apiKeys.issue({
      owner: 'operator',
      name: 'NOTES_API_KEY',
      scopes,
      token: config.apiKey.reveal(),
    });
    if (!registered.ok) {
      apiKeys.close();
      return err(registered.error);
    }
    return ok({ apiKeys, demoKey: undefined });
  }
  if (config.settings.profile === 'production') return ok({ apiKeys, demoKey: undefined });
  const demo = await apiKeys.issue({
    owner: 'demo',
    name: 'demo key',
    scopes,
    tier: 'free',
    ...(options.persistent ? { expiresIn: DEMO_KEY_LIFETIME_MS } : {}),
  });
  if (!demo.ok) {
    apiKeys.close();
    return err(demo.error);
  }
  return ok({ apiKeys, demoKey: demo.value.token });
}
