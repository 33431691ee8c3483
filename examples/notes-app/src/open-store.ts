import { err, ok, ProdError, type Result } from '@prod/core';
import {
  createMigrator,
  type DbMetricsTarget,
  type ExplainOptions,
  instrument,
  type MigrateReport,
  type SqlQueryable,
  type SqlSource,
} from '@prod/db';
import { type HealthCheck, postgresCheck, type ShutdownHook } from '@prod/health';
import type { Logger } from '@prod/logger';
import pg from 'pg';
import type { ServiceConfig } from './config.js';
import { memoryNotesStore } from './memory-notes-store.js';
import { NOTES_MIGRATIONS } from './migrations.js';
import type { NotesStore } from './notes-store.js';
import { openPglite } from './open-pglite.js';
import { serializedClient } from './serialized-client.js';
import { sqlNotesStore } from './sql-notes-store.js';

/** The store the configuration asks for, its readiness checks and how to close it. */
export interface OpenedStore {
  readonly store: NotesStore;
  /**
   * The database of a SQL store (undefined for the memory store), migrated: the `notes`,
   * `audit_log` and `api_keys` tables of `NOTES_MIGRATIONS`, where the audit log's PostgreSQL
   * sink and the API key store write too.
   */
  readonly db: SqlQueryable | undefined;
  /** What the migrator did at this start (undefined for the memory store). */
  readonly migrated: MigrateReport | undefined;
  readonly checks: readonly HealthCheck[];
  readonly hooks: readonly ShutdownHook[];
}

/** What {@link openStore} may be given beyond the configuration and the logger. */
export interface OpenStoreOptions {
  /**
   * Where the query histogram goes (`db_client_operation_duration_seconds`):
   * `createMetrics()` of @prod/metrics fits as it is. Default: no metrics.
   */
  readonly metrics?: DbMetricsTarget;
}

interface Database {
  readonly kind: 'pglite' | 'postgres';
  /** What the store, the migrator, the audit sink and the key store use. */
  readonly client: SqlQueryable & SqlSource;
  /** What `instrument` patches: the pool, or PGlite itself under the serialized client. */
  readonly driver: SqlSource;
  /** Where slow SELECTs are explained: a connection that waits its turn. */
  readonly explain: ExplainOptions;
  readonly hook: ShutdownHook;
}

async function prepared(
  database: Database,
  config: ServiceConfig,
  logger: Logger,
  options: OpenStoreOptions,
): Promise<Result<OpenedStore, ProdError>> {
  const { kind, client, hook } = database;
  const log = logger.module('db');
  // Several instances may start at once: each migration takes a transaction-level lock and
  // runs exactly once (behind a transaction-mode pooler too).
  const migrated = await createMigrator({
    client,
    migrations: NOTES_MIGRATIONS,
    logger: log,
  }).migrate();
  if (!migrated.ok) {
    await Promise.resolve(hook.close(AbortSignal.timeout(1000))).catch(() => {});
    const error = migrated.error;
    return err(
      new ProdError({
        code: error.code,
        status: error.status,
        message: `cannot migrate the database on ${kind}: ${error.message}`,
        cause: error,
      }),
    );
  }
  // After the migrations, so that their DDL is neither counted nor logged as slow.
  const instrumentation = instrument(database.driver, {
    slowMs: config.slowQueryMs,
    logger: log,
    explain: database.explain,
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
  });
  return ok({
    store: sqlNotesStore(client, kind),
    db: client,
    migrated: migrated.value,
    // In the background: a probe storm costs the database nothing.
    checks: [postgresCheck(client, { name: kind, interval: 5000 })],
    hooks: [
      {
        name: kind,
        close: async (signal) => {
          instrumentation.stop();
          await hook.close(signal);
        },
      },
    ],
  });
}

/**
 * Opens the configured notes store: PostgreSQL through a pg `Pool` (`DATABASE_URL`), a Map
 * (`NOTES_STORE=memory`, the default without a database), or an in-memory PGlite
 * (`NOTES_STORE=pglite`, embedded SQL). The SQL stores are migrated first (`NOTES_MIGRATIONS`
 * through @prod/db: the notes, the audit log and the API keys, one history), then
 * instrumented (@prod/db's `instrument`: every query timed on the metrics, slow ones over
 * `DB_SLOW_QUERY_MS` logged by module `db` with the request id and explained), and get a
 * readiness check.
 *
 * @returns `Ok(OpenedStore)`, or `Err` with the migrator's code (`DB_UNAVAILABLE` when
 * PostgreSQL cannot be reached, `DB_MIGRATION_*` for a migration that fails or changed);
 * nothing is left open then.
 */
export async function openStore(
  config: ServiceConfig,
  logger: Logger,
  options: OpenStoreOptions = {},
): Promise<Result<OpenedStore, ProdError>> {
  if (config.store === 'memory') {
    return ok({
      store: memoryNotesStore(),
      db: undefined,
      migrated: undefined,
      checks: [],
      hooks: [],
    });
  }
  if (config.store === 'pglite') {
    const pglite = await openPglite();
    // One connection shared by the notes store, the migrator, the audit log and the API keys:
    // see serializedClient.
    const client = serializedClient(pglite);
    return prepared(
      {
        kind: 'pglite',
        client,
        driver: pglite,
        explain: { client },
        hook: { name: 'pglite', close: () => pglite.close() },
      },
      config,
      logger,
      options,
    );
  }
  const pool = new pg.Pool({
    connectionString: config.databaseUrl?.reveal(),
    max: 10,
    connectionTimeoutMillis: 2000,
    // Client-side bound on every query, so a hung server cannot hold a request forever.
    query_timeout: 10_000,
  });
  // An idle client losing its connection is reported here; the pool replaces it.
  pool.on('error', (error) => logger.module('db').warn({ err: error }, 'idle client error'));
  return prepared(
    {
      kind: 'postgres',
      client: pool,
      driver: pool,
      explain: {},
      hook: { name: 'postgres', close: () => pool.end() },
    },
    config,
    logger,
    options,
  );
}
