import { applyAuditMigration } from '@prod/audit';
import { err, ok, ProdError, type Result } from '@prod/core';
import { type HealthCheck, postgresCheck, type ShutdownHook } from '@prod/health';
import type { Logger } from '@prod/logger';
import pg from 'pg';
import type { ServiceConfig } from './config.js';
import { memoryNotesStore } from './memory-notes-store.js';
import type { NotesStore } from './notes-store.js';
import { openPglite } from './open-pglite.js';
import { serializedClient } from './serialized-client.js';
import { createNotesTable, type SqlClient, sqlNotesStore } from './sql-notes-store.js';

/** The store the configuration asks for, its readiness checks and how to close it. */
export interface OpenedStore {
  readonly store: NotesStore;
  /**
   * The database of a SQL store (undefined for the memory store), with the `audit_log` table
   * of @prod/audit created: the audit log's PostgreSQL sink writes there.
   */
  readonly db: SqlClient | undefined;
  readonly checks: readonly HealthCheck[];
  readonly hooks: readonly ShutdownHook[];
}

async function withTable(
  db: SqlClient,
  kind: 'pglite' | 'postgres',
  hook: ShutdownHook,
): Promise<Result<OpenedStore, ProdError>> {
  const fail = async (what: string, error: ProdError): Promise<Result<never, ProdError>> => {
    await Promise.resolve(hook.close(AbortSignal.timeout(1000))).catch(() => {});
    return err(
      new ProdError({
        code: error.code,
        status: error.status,
        message: `cannot prepare the ${what} on ${kind}: ${error.message}`,
        cause: error,
      }),
    );
  };
  const table = await createNotesTable(db);
  if (!table.ok) return fail('notes table', table.error);
  // The append-only audit table (idempotent, safe from several instances starting at once).
  // In production, run it as the table's owner with `writerRole` instead: README of @prod/audit.
  const audit = await applyAuditMigration(db);
  if (!audit.ok) return fail('audit table', audit.error);
  return ok({
    store: sqlNotesStore(db, kind),
    db,
    // In the background: a probe storm costs the database nothing.
    checks: [postgresCheck(db, { name: kind, interval: 5000 })],
    hooks: [hook],
  });
}

/**
 * Opens the configured notes store: PostgreSQL through a pg `Pool` (`DATABASE_URL`), a Map
 * (`NOTES_STORE=memory`, the default without a database), or an in-memory PGlite
 * (`NOTES_STORE=pglite`, embedded SQL). The SQL stores get their table and the audit log's
 * (`applyAuditMigration` of @prod/audit) created, and a readiness check.
 *
 * @returns `Ok(OpenedStore)`, or `Err` (`UNAVAILABLE` when PostgreSQL cannot be reached).
 */
export async function openStore(
  config: ServiceConfig,
  logger: Logger,
): Promise<Result<OpenedStore, ProdError>> {
  if (config.store === 'memory') {
    return ok({ store: memoryNotesStore(), db: undefined, checks: [], hooks: [] });
  }
  if (config.store === 'pglite') {
    const pglite = await openPglite();
    // One connection shared by the notes store and the audit log: see serializedClient.
    return withTable(serializedClient(pglite), 'pglite', {
      name: 'pglite',
      close: () => pglite.close(),
    });
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
  return withTable(pool, 'postgres', { name: 'postgres', close: () => pool.end() });
}
