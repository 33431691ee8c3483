import { randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { type ContextLogger, err, ok, optionChecks, type ProdError, type Result } from '@prod/core';
import { DbErrors } from './errors.js';
import { concurrentlyRanges } from './fingerprint.js';
import { diffSnapshots, snapshotSchema } from './internal/catalog.js';
import { isConnectionError, isLockTimeout, serverFields } from './internal/pg-errors.js';
import { firstRow, int32Hash, quoteIdent, sleep } from './internal/sql.js';
import { lineColumn } from './internal/sql-parser.js';
import {
  compareVersions,
  fromDefinitions,
  loadMigrations,
  type Migration,
  type MigrationSource,
  type MigrationStep,
  normalizeVersion,
} from './migration.js';
import { type SqlClient, type SqlQueryable, type SqlSource, toSqlClient } from './sql-client.js';
import type { SchemaDifference, SqlStatement } from './types.js';

/** Where a migrator logs what it applies (pino's level methods fit). */
export type MigrationLogger = Pick<ContextLogger, 'info' | 'warn'>;

/** Options of {@link createMigrator}. */
export interface MigratorOptions {
  /** The database: a pg `Pool`, a PGlite instance or any {@link SqlClient}. */
  readonly client: SqlSource;
  /** A folder of migration files (see {@link loadMigrations}) or definitions in code. */
  readonly migrations: MigrationSource;
  /** The history table. Default `prod_db_migrations`. */
  readonly table?: string;
  /** The schema of the history table. Default the connection's `current_schema()`. */
  readonly schema?: string;
  /**
   * How long a runner waits for another one (its lock, or a no-transaction migration it is
   * applying) before giving up with `DB_MIGRATION_LOCKED`. Default 30 000 ms; 0 fails at once;
   * `Infinity` waits forever.
   */
  readonly lockTimeoutMs?: number;
  /**
   * `lock_timeout` of the migrations' own statements, so that an ALTER TABLE waiting behind a
   * long query fails (and can be retried) instead of queueing all traffic behind it.
   * Default 10 000 ms; 0 disables it.
   */
  readonly statementLockTimeoutMs?: number;
  /** `statement_timeout` of the migrations' statements. Default 0 (none). */
  readonly statementTimeoutMs?: number;
  /** Who runs, for the history (`installed_by` is the database user). Default `<hostname>:<pid>`. */
  readonly runner?: string;
  /** Apply a pending migration older than the newest applied one instead of refusing. Default false. */
  readonly outOfOrder?: boolean;
  /**
   * After how long without a heartbeat a no-transaction migration claimed by a runner that
   * died counts as abandoned (when its statement is no longer running on the server either).
   * Default 30 000 ms.
   */
  readonly staleClaimMs?: number;
  /** Where applied, skipped and reverted migrations are logged. Default: nowhere. */
  readonly logger?: MigrationLogger;
}

/** A migration as the history and the sources see it. */
export interface MigrationStatus {
  /** The file name (or the definition's id). */
  readonly id: string;
  readonly version: string | undefined;
  readonly name: string;
  readonly kind: 'versioned' | 'repeatable' | 'baseline';
  /**
   * - `applied`: in the history, unchanged;
   * - `pending`: not applied yet;
   * - `changed`: applied, but its source changed since (a checksum mismatch);
   * - `missing`: applied, but no source has it any more;
   * - `outdated`: a repeatable migration whose source changed: it will be re-applied;
   * - `below-baseline`: older than the baseline, never run;
   * - `running`: a no-transaction migration being applied now.
   */
  readonly state:
    | 'applied'
    | 'pending'
    | 'changed'
    | 'missing'
    | 'outdated'
    | 'below-baseline'
    | 'running';
  /** The source's checksum (SHA-256), when there is a source. */
  readonly checksum: string | undefined;
  readonly appliedChecksum?: string;
  readonly appliedAt?: Date;
  readonly installedBy?: string;
  readonly runner?: string;
  readonly durationMs?: number;
}

/** What {@link Migrator.migrate} did. */
export interface MigrateReport {
  /** Applied by this call, in order. */
  readonly applied: ReadonlyArray<{
    readonly id: string;
    readonly version: string | undefined;
    readonly durationMs: number;
  }>;
  /** Pending when the call started but applied meanwhile by another runner. */
  readonly skipped: readonly string[];
  /** The newest applied version afterwards. */
  readonly version: string | undefined;
}

/** One problem {@link Migrator.validate} found. */
export interface ValidationIssue {
  readonly code:
    | 'DB_MIGRATION_CHECKSUM_MISMATCH'
    | 'DB_MIGRATION_MISSING'
    | 'DB_MIGRATION_OUT_OF_ORDER'
    | 'DB_MIGRATION_FAILED';
  readonly id: string;
  readonly message: string;
}

/** One step of a {@link Migrator.plan}. */
export interface PlannedStep {
  readonly id: string;
  readonly version: string | undefined;
  readonly kind: 'versioned' | 'repeatable' | 'down';
  readonly transaction: boolean;
  /** The SQL it runs, or a comment for a migration written as a function. */
  readonly sql: string;
}

/** What {@link Migrator.plan} would do, without doing it. */
export interface MigrationPlan {
  readonly steps: readonly PlannedStep[];
  /** The whole plan as one SQL script, transactions and comments included. */
  readonly script: string;
}

/** What {@link Migrator.drift} found. */
export interface DriftReport {
  readonly drifted: boolean;
  /** The schema compared with what the migrations produce. */
  readonly schema: string;
  readonly differences: readonly SchemaDifference[];
}

/** Options of {@link Migrator.drift}. */
export interface DriftOptions {
  /**
   * Where to replay the migrations: by default a scratch schema in the same database, inside
   * a transaction that is rolled back. Give an empty database instead (its current schema is
   * used, and rolled back too) when migrations name schemas explicitly or create extensions.
   */
  readonly scratch?: SqlSource;
}

/** Migrations of one history table. */
export interface Migrator {
  /**
   * Applies the pending migrations (up to `target`), each in its own transaction (or, marked
   * no-transaction, outside one under a claim in the history), then the changed repeatable
   * ones. Several runners at once apply each migration exactly once.
   *
   * @returns `Ok(MigrateReport)`, or `Err` `DB_MIGRATION_FAILED` (the statement, its line and
   *   the server's reason; that migration rolled back), `DB_MIGRATION_INTERRUPTED`,
   *   `DB_MIGRATION_LOCKED`, `DB_MIGRATION_CHECKSUM_MISMATCH`, `DB_MIGRATION_MISSING`,
   *   `DB_MIGRATION_OUT_OF_ORDER`, `DB_MIGRATION_INVALID`, `DB_MIGRATION_SYNTAX`, `DB_UNAVAILABLE`.
   */
  migrate(options?: { readonly target?: string }): Promise<Result<MigrateReport, ProdError>>;
  /** Every migration with its state. Reads only: the history table is not created. */
  status(): Promise<Result<MigrationStatus[], ProdError>>;
  /**
   * Checks the history against the sources: changed, missing, failed or out-of-order
   * migrations. Pending ones are fine.
   *
   * @returns `Ok(statuses)` when valid, else `Err` with the first issue's code and every issue in
   *   `details.issues`.
   */
  validate(): Promise<Result<MigrationStatus[], ProdError>>;
  /**
   * Adopts an existing database: records `version` as applied without running anything, so
   * that only later migrations run. Refused (`DB_MIGRATION_BASELINE_REFUSED`) when the
   * history already has applied migrations.
   */
  baseline(options: {
    readonly version: string;
    readonly name?: string;
  }): Promise<Result<void, ProdError>>;
  /**
   * Reverts the `count` newest applied migrations (default 1), newest first, each with its
   * down step in a transaction. Nothing runs unless all of them have a down step
   * (`DB_MIGRATION_NO_DOWN`).
   */
  down(count?: number): Promise<Result<string[], ProdError>>;
  /** What `migrate()` (or `down(n)` with `{ down: n }`) would run, as SQL, without running it. */
  plan(options?: {
    readonly target?: string;
    readonly down?: number;
  }): Promise<Result<MigrationPlan, ProdError>>;
  /**
   * Compares the live schema with what the applied migrations produce, by replaying them in
   * a scratch schema (or database) inside a transaction that is rolled back and comparing the
   * catalogs: tables, columns, constraints, indexes, views, functions, triggers, types.
   */
  drift(options?: DriftOptions): Promise<Result<DriftReport, ProdError>>;
  /** The qualified history table, e.g. `"public"."prod_db_migrations"` (after a first call). */
  readonly table: string;
}

interface HistoryRow {
  readonly rank: string | number;
  readonly version: string | null;
  readonly name: string;
  readonly script: string;
  readonly kind: 'versioned' | 'repeatable' | 'baseline';
  readonly checksum: string;
  readonly state: 'running' | 'applied' | 'reverted';
  readonly installed_by: string;
  readonly runner: string;
  readonly installed_on: Date | string;
  readonly duration_ms: number | null;
  readonly heartbeat_at: Date | string | null;
  readonly claim: string | null;
  readonly stale: boolean;
}

const LOCK_NAMESPACE = 0x70726f64 | 0; // 'prod'

// Thrown inside a transaction to roll it back and carry a ready error out.
class Abort {
  constructor(readonly error: ProdError) {}
}

const asDate = (value: Date | string): Date => (value instanceof Date ? value : new Date(value));

function describeStatement(statement: SqlStatement | undefined): string {
  if (statement === undefined) return '';
  return ` statement ${statement.index} (line ${statement.line})`;
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}...` : flat;
}

/**
 * The error of a failed migration step: which file and statement, where in the file, and the
 * server's reason, as `DB_MIGRATION_FAILED`, or `DB_MIGRATION_INTERRUPTED` when the
 * connection died.
 */
function stepError(
  migration: Migration,
  step: MigrationStep,
  statement: SqlStatement | undefined,
  lastSql: string | undefined,
  error: unknown,
  direction: 'up' | 'down',
): ProdError {
  const fields = serverFields(error);
  const file = migration.id;
  let line = statement?.line;
  let column = statement?.column;
  if (statement !== undefined && step.kind === 'sql' && fields.position !== undefined) {
    const at = lineColumn(step.text, statement.offset + Number(fields.position) - 1);
    line = at.line;
    column = at.column;
  }
  const details = {
    file,
    direction,
    ...(statement === undefined ? {} : { statement: statement.index }),
    ...(line === undefined ? {} : { line }),
    ...(column === undefined ? {} : { column }),
    sql: excerpt(statement?.text ?? lastSql ?? ''),
    ...(fields.code === undefined ? {} : { sqlState: fields.code }),
    reason: fields.message,
    ...(fields.detail === undefined ? {} : { detail: fields.detail }),
    ...(fields.hint === undefined ? {} : { hint: fields.hint }),
  };
  const where =
    describeStatement(statement) || (lastSql === undefined ? '' : ` at "${excerpt(lastSql)}"`);
  const state = fields.code === undefined ? '' : ` [${fields.code}]`;
  if (isConnectionError(error)) {
    return DbErrors.DB_MIGRATION_INTERRUPTED({
      message: `${file}${where}: the connection was lost (${fields.message}); the server rolled the migration back and it is still pending`,
      details,
      cause: error,
    });
  }
  return DbErrors.DB_MIGRATION_FAILED({
    message: `${file}${where} failed: ${fields.message}${state}${line !== undefined && statement !== undefined && line !== statement.line ? ` (at line ${line})` : ''}; the migration was rolled back`,
    details,
    cause: error,
  });
}

function unavailable(what: string, error: unknown): ProdError {
  const fields = serverFields(error);
  if (isConnectionError(error)) {
    return DbErrors.DB_UNAVAILABLE({
      message: `${what}: ${fields.message}`,
      details: { reason: fields.message },
      cause: error,
    });
  }
  return DbErrors.DB_QUERY_FAILED({
    message: `${what}: ${fields.message}`,
    details: {
      reason: fields.message,
      ...(fields.code === undefined ? {} : { sqlState: fields.code }),
    },
    cause: error,
  });
}

/**
 * Creates a migrator: versioned and repeatable migrations recorded in a history table
 * (checksum, duration, database user, runner, time), applied under a transaction-level
 * advisory lock so that several instances starting at once apply each migration exactly once,
 * also behind a transaction-mode pooler (no session state is ever used).
 *
 * When to use: at service start (`await migrator.migrate()` before listening), in CI
 * (`validate()`, `drift()`), or from the `prod-db` CLI.
 *
 * Details: each migration runs in its own transaction with the lock, a re-check of the history
 * and its history row, so a failure rolls back that migration alone. A migration marked
 * no-transaction (`CREATE INDEX CONCURRENTLY`) cannot hold a transaction-level lock while it
 * runs, and a session-level one would deadlock with the index build waiting on the peers
 * that wait on the lock; so it is claimed instead: a `running` row inserted under the lock,
 * a heartbeat while the statement runs, and peers that poll in short transactions until the
 * row becomes `applied` (or is abandoned: no heartbeat and no statement on the server).
 *
 * Gotchas: throws `DB_INVALID_OPTIONS` at once for bad options; migrations are loaded and
 * parsed at each call, so edits are seen.
 *
 * @example
 * declare const pool: SqlSource;
 * const migrator = createMigrator({ client: pool, migrations: './migrations' });
 * const result = await migrator.migrate();
 * if (!result.ok) throw result.error; // names the file, the statement and why
 * console.log(result.value.applied.map((m) => m.id));
 */
export function createMigrator(options: MigratorOptions): Migrator {
  const check = optionChecks(DbErrors.DB_INVALID_OPTIONS);
  check.object('options', options);
  const source = options.client as unknown;
  if (
    typeof source !== 'object' ||
    source === null ||
    typeof (source as SqlQueryable).query !== 'function'
  ) {
    check.fail('client', 'a pg Pool, a PGlite instance or a SqlClient', source);
  }
  const migrations = options.migrations as unknown;
  if (typeof migrations !== 'string' && !Array.isArray(migrations)) {
    check.fail('migrations', 'a folder path or an array of migration definitions', migrations);
  }
  if (typeof migrations === 'string' && migrations === '')
    check.fail('migrations', 'a non-empty folder path', migrations);
  const tableName = check.string('table', options.table, 'prod_db_migrations', { nonEmpty: true });
  if (tableName.length > 50) check.fail('table', 'a name of at most 50 characters', tableName);
  const schemaOption =
    options.schema === undefined
      ? undefined
      : check.string('schema', options.schema, '', { nonEmpty: true });
  const lockTimeoutMs = check.duration('lockTimeoutMs', options.lockTimeoutMs, 30_000, {
    allowInfinity: true,
  });
  const statementLockTimeoutMs = check.duration(
    'statementLockTimeoutMs',
    options.statementLockTimeoutMs,
    10_000,
  );
  const statementTimeoutMs = check.duration('statementTimeoutMs', options.statementTimeoutMs, 0);
  const runner = check
    .string('runner', options.runner, `${hostname()}:${process.pid}`, { nonEmpty: true })
    .slice(0, 200);
  const outOfOrder = check.boolean('outOfOrder', options.outOfOrder, false);
  const staleClaimMs = check.duration('staleClaimMs', options.staleClaimMs, 30_000, { min: 100 });
  const logger = options.logger;
  if (
    logger !== undefined &&
    (typeof logger !== 'object' ||
      logger === null ||
      typeof logger.info !== 'function' ||
      typeof logger.warn !== 'function')
  ) {
    check.fail('logger', 'an object with info() and warn()', logger);
  }
  const db: SqlClient = toSqlClient(options.client);
  const pollMs = Math.min(250, Math.max(20, staleClaimMs / 10));

  let resolved: { schema: string; qualified: string; key: number } | undefined;
  const target = async (): Promise<
    Result<{ schema: string; qualified: string; key: number }, ProdError>
  > => {
    if (resolved !== undefined) return ok(resolved);
    let schema = schemaOption;
    if (schema === undefined) {
      try {
        schema =
          (await firstRow<{ schema: string | null }>(db, 'SELECT current_schema() AS schema'))
            ?.schema ?? undefined;
      } catch (error) {
        return err(unavailable('cannot read the current schema', error));
      }
      if (schema === undefined || schema === null) {
        return err(
          DbErrors.DB_INVALID_OPTIONS({
            message:
              'option schema: the connection has no current schema (empty search_path); pass schema',
            details: { option: 'schema' },
          }),
        );
      }
    }
    const qualified = `${quoteIdent(schema)}.${quoteIdent(tableName)}`;
    resolved = { schema, qualified, key: int32Hash(`${schema}.${tableName}`) };
    return ok(resolved);
  };

  const load = (): Promise<Result<Migration[], ProdError>> =>
    typeof migrations === 'string'
      ? loadMigrations(migrations)
      : fromDefinitions(migrations as Parameters<typeof fromDefinitions>[0]);

  const lockTimeoutSetting = (ms: number): string =>
    `SET LOCAL lock_timeout = ${Number.isFinite(ms) ? Math.max(1, Math.round(ms)) : 0}`;

  /** Takes the migration lock inside `tx`; false when another runner kept it past the timeout. */
  const lock = async (tx: SqlQueryable, key: number, waitMs: number): Promise<boolean> => {
    if (waitMs <= 0) {
      const row = await firstRow<{ locked: boolean }>(
        tx,
        'SELECT pg_try_advisory_xact_lock($1, $2) AS locked',
        [LOCK_NAMESPACE, key],
      );
      return row?.locked === true;
    }
    await tx.query(lockTimeoutSetting(waitMs));
    try {
      await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_NAMESPACE, key]);
      return true;
    } catch (error) {
      if (isLockTimeout(error)) return false;
      throw error;
    }
  };

  const holder = async (key: number): Promise<string> => {
    try {
      const row = await firstRow<{
        pid: number;
        application_name: string;
        since: Date | string | null;
      }>(
        db,
        `SELECT a.pid, a.application_name, a.xact_start AS since
           FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND l.granted AND l.classid::int = $1 AND l.objid::int = $2 AND l.objsubid = 2
          LIMIT 1`,
        [LOCK_NAMESPACE, key],
      );
      if (row === undefined) return 'another runner';
      const app = row.application_name === '' ? '' : ` (${row.application_name})`;
      return `backend ${row.pid}${app}${row.since === null ? '' : ` since ${asDate(row.since).toISOString()}`}`;
    } catch {
      return 'another runner';
    }
  };

  const locked = async (qualified: string, key: number, what: string): Promise<ProdError> => {
    const who = await holder(key);
    return DbErrors.DB_MIGRATION_LOCKED({
      message: `${what}: ${who} held the migration lock on ${qualified} for more than ${lockTimeoutMs} ms`,
      details: {
        table: qualified,
        holder: who,
        lockTimeoutMs: Number.isFinite(lockTimeoutMs) ? lockTimeoutMs : 'Infinity',
      },
    });
  };

  const historyExists = async (q: SqlQueryable, qualified: string): Promise<boolean> =>
    (
      await firstRow<{ present: boolean }>(q, 'SELECT to_regclass($1) IS NOT NULL AS present', [
        qualified,
      ])
    )?.present === true;

  const readHistory = async (q: SqlQueryable, qualified: string): Promise<HistoryRow[]> => {
    const { rows } = await q.query(
      `SELECT rank, version, name, script, kind, checksum, state, installed_by, runner, installed_on, duration_ms,
              heartbeat_at, claim, (heartbeat_at IS NULL OR heartbeat_at < now() - make_interval(secs => $1)) AS stale
         FROM ${qualified} ORDER BY rank`,
      [staleClaimMs / 1000],
    );
    return rows as unknown as HistoryRow[];
  };

  const ensureHistory = async (): Promise<
    Result<{ schema: string; qualified: string; key: number }, ProdError>
  > => {
    const resolvedTarget = await target();
    if (!resolvedTarget.ok) return resolvedTarget;
    const { schema, qualified, key } = resolvedTarget.value;
    try {
      if (await historyExists(db, qualified)) return ok(resolvedTarget.value);
      const created = await db.transaction(async (tx) => {
        if (!(await lock(tx, key, lockTimeoutMs))) return false;
        await tx.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
        await tx.query(
          `CREATE TABLE IF NOT EXISTS ${qualified} (
             rank bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
             version text,
             name text NOT NULL,
             script text NOT NULL,
             kind text NOT NULL CHECK (kind IN ('versioned', 'repeatable', 'baseline')),
             checksum text NOT NULL,
             state text NOT NULL CHECK (state IN ('running', 'applied', 'reverted')),
             installed_by text NOT NULL DEFAULT current_user,
             runner text NOT NULL,
             installed_on timestamptz NOT NULL DEFAULT now(),
             duration_ms integer,
             heartbeat_at timestamptz,
             claim text,
             reverted_on timestamptz
           )`,
        );
        // The last guard of "exactly once": one live row per version, whatever happens.
        await tx.query(
          `CREATE UNIQUE INDEX IF NOT EXISTS ${quoteIdent(`${tableName}_version`)} ON ${qualified} (version)
             WHERE kind IN ('versioned', 'baseline') AND state <> 'reverted'`,
        );
        return true;
      });
      if (!created) return err(await locked(qualified, key, 'cannot create the history table'));
    } catch (error) {
      return err(unavailable(`cannot create the history table ${qualified}`, error));
    }
    return ok(resolvedTarget.value);
  };

  /** Runs the statements (or the function) of one step on `q`, mapping a failure to its error. */
  const runStep = async (
    q: SqlQueryable,
    migration: Migration,
    step: MigrationStep,
    direction: 'up' | 'down',
    marker?: string,
  ): Promise<void> => {
    if (step.kind === 'code') {
      let lastSql: string | undefined;
      const recording: SqlQueryable = {
        query: (text, values) => {
          lastSql = text;
          return values === undefined ? q.query(text) : q.query(text, values);
        },
      };
      try {
        await step.run(recording);
      } catch (error) {
        throw new Abort(stepError(migration, step, undefined, lastSql, error, direction));
      }
      return;
    }
    for (const statement of step.statements) {
      try {
        await q.query(marker === undefined ? statement.text : `/* ${marker} */ ${statement.text}`);
      } catch (error) {
        throw new Abort(stepError(migration, step, statement, undefined, error, direction));
      }
    }
  };

  const sessionSettings = async (tx: SqlQueryable): Promise<void> => {
    await tx.query(
      lockTimeoutSetting(
        statementLockTimeoutMs === 0 ? Number.POSITIVE_INFINITY : statementLockTimeoutMs,
      ),
    );
    await tx.query(`SET LOCAL statement_timeout = ${Math.round(statementTimeoutMs)}`);
  };

  const liveRows = (rows: readonly HistoryRow[]): HistoryRow[] =>
    rows.filter((row) => row.state !== 'reverted');

  type Outcome = { kind: 'applied'; durationMs: number } | { kind: 'skipped' };

  /** Applies one transactional migration (or re-applies a repeatable one). */
  const applyInTransaction = async (
    migration: Migration,
    qualified: string,
    key: number,
  ): Promise<Result<Outcome, ProdError>> => {
    const started = performance.now();
    try {
      const outcome = await db.transaction(async (tx): Promise<Outcome | 'locked'> => {
        if (!(await lock(tx, key, lockTimeoutMs))) return 'locked';
        const rows = liveRows(await readHistory(tx, qualified));
        if (migration.kind === 'versioned') {
          if (rows.some((row) => row.version === migration.version && row.state === 'applied'))
            return { kind: 'skipped' };
        } else {
          const last = rows
            .filter((row) => row.kind === 'repeatable' && row.name === migration.name)
            .at(-1);
          if (last?.checksum === migration.checksum) return { kind: 'skipped' };
        }
        await sessionSettings(tx);
        await runStep(tx, migration, migration.up, 'up');
        const durationMs = Math.round(performance.now() - started);
        await tx.query(
          `INSERT INTO ${qualified} (version, name, script, kind, checksum, state, runner, duration_ms)
           VALUES ($1, $2, $3, $4, $5, 'applied', $6, $7)`,
          [
            migration.version ?? null,
            migration.name,
            migration.id,
            migration.kind,
            migration.checksum,
            runner,
            durationMs,
          ],
        );
        return { kind: 'applied', durationMs };
      });
      if (outcome === 'locked') return err(await locked(qualified, key, migration.id));
      return ok(outcome);
    } catch (error) {
      if (error instanceof Abort) return err(error.error);
      // The COMMIT (deferred constraints) or the connection failed.
      return err(stepError(migration, migration.up, undefined, 'COMMIT', error, 'up'));
    }
  };

  const indexState = async (index: {
    schema: string | undefined;
    name: string;
  }): Promise<'valid' | 'invalid' | 'absent'> => {
    const row = await firstRow<{ valid: boolean }>(
      db,
      `SELECT i.indisvalid AS valid FROM pg_index i
         JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relname = $1 AND n.nspname = COALESCE($2, current_schema())`,
      [index.name, index.schema ?? null],
    );
    return row === undefined ? 'absent' : row.valid ? 'valid' : 'invalid';
  };

  const dropInvalidIndex = async (index: {
    schema: string | undefined;
    name: string;
  }): Promise<void> => {
    const name =
      index.schema === undefined
        ? quoteIdent(index.name)
        : `${quoteIdent(index.schema)}.${quoteIdent(index.name)}`;
    await db.query(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`);
  };

  /**
   * Applies a no-transaction migration under a claim row: inserted under the lock, kept alive by
   * a heartbeat, made `applied` on success and deleted on failure. Peers wait for it by
   * polling in short transactions, which never hold anything the index build waits on for long.
   */
  const applyOutsideTransaction = async (
    migration: Migration,
    qualified: string,
    key: number,
  ): Promise<Result<Outcome, ProdError>> => {
    const claim = `prod-db:claim=${randomUUID()}`;
    const deadline = Number.isFinite(lockTimeoutMs)
      ? Date.now() + lockTimeoutMs
      : Number.POSITIVE_INFINITY;
    let tookOver = false;
    for (;;) {
      let state: 'done' | 'claimed' | 'wait' | 'locked';
      let waitingFor: HistoryRow | undefined;
      try {
        state = await db.transaction(async (tx) => {
          if (!(await lock(tx, key, Math.max(0, Math.min(lockTimeoutMs, deadline - Date.now())))))
            return 'locked';
          const rows = liveRows(await readHistory(tx, qualified)).filter(
            (row) => row.version === migration.version,
          );
          if (rows.some((row) => row.state === 'applied')) return 'done';
          const running = rows.find((row) => row.state === 'running');
          if (running !== undefined) {
            const active = await firstRow<{ n: number }>(
              tx,
              'SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE $1 AND pid <> pg_backend_pid()',
              [`%${running.claim ?? '-'}%`],
            );
            if (!running.stale || (active?.n ?? 0) > 0) {
              waitingFor = running;
              return 'wait';
            }
            // Abandoned: its runner died and its statement is not running any more.
            await tx.query(
              `UPDATE ${qualified} SET claim = $1, runner = $2, heartbeat_at = now(), installed_on = now() WHERE rank = $3`,
              [claim, runner, running.rank],
            );
            tookOver = true;
            return 'claimed';
          }
          await tx.query(
            `INSERT INTO ${qualified} (version, name, script, kind, checksum, state, runner, heartbeat_at, claim)
             VALUES ($1, $2, $3, 'versioned', $4, 'running', $5, now(), $6)`,
            [migration.version, migration.name, migration.id, migration.checksum, runner, claim],
          );
          return 'claimed';
        });
      } catch (error) {
        return err(unavailable(`${migration.id}: cannot claim the migration`, error));
      }
      if (state === 'done') return ok({ kind: 'skipped' });
      if (state === 'locked') return err(await locked(qualified, key, migration.id));
      if (state === 'wait') {
        if (Date.now() >= deadline) {
          const by =
            waitingFor === undefined
              ? 'another runner'
              : `${waitingFor.runner} (since ${asDate(waitingFor.installed_on).toISOString()})`;
          return err(
            DbErrors.DB_MIGRATION_LOCKED({
              message: `${migration.id}: still being applied by ${by} after ${lockTimeoutMs} ms`,
              details: { file: migration.id, holder: by, table: qualified },
            }),
          );
        }
        await sleep(pollMs);
        continue;
      }
      break;
    }
    if (tookOver)
      logger?.warn(
        { migration: migration.id, runner },
        'took over an abandoned no-transaction migration',
      );
    const started = performance.now();
    const heartbeat = setInterval(
      () => {
        db.query(`UPDATE ${qualified} SET heartbeat_at = now() WHERE claim = $1`, [claim]).catch(
          () => {},
        );
      },
      Math.max(50, staleClaimMs / 3),
    );
    heartbeat.unref?.();
    const release = async (): Promise<void> => {
      clearInterval(heartbeat);
      await db
        .query(`DELETE FROM ${qualified} WHERE claim = $1 AND state = 'running'`, [claim])
        .catch(() => {});
    };
    const step = migration.up;
    const index = step.kind === 'sql' ? step.statements[0]?.concurrentIndex : undefined;
    let skipStatement = false;
    if (index !== undefined) {
      try {
        const before = await indexState(index);
        // An invalid index is what an interrupted build leaves: useless, and it would make
        // `IF NOT EXISTS` skip the build. A valid one after a takeover means the dead runner's
        // build finished.
        if (before === 'invalid') await dropInvalidIndex(index);
        else if (before === 'valid' && tookOver) skipStatement = true;
      } catch (error) {
        await release();
        return err(unavailable(`${migration.id}: cannot inspect index ${index.name}`, error));
      }
    }
    if (!skipStatement) {
      try {
        await runStep(db, migration, step, 'up', claim);
      } catch (error) {
        if (index !== undefined) {
          try {
            if ((await indexState(index)) === 'invalid') await dropInvalidIndex(index);
          } catch {
            // The connection is gone too: the next runner drops the invalid index before its build.
          }
        }
        await release();
        return err(
          error instanceof Abort
            ? error.error
            : stepError(migration, step, undefined, undefined, error, 'up'),
        );
      }
    }
    const durationMs = Math.round(performance.now() - started);
    clearInterval(heartbeat);
    try {
      await db.query(
        `UPDATE ${qualified} SET state = 'applied', duration_ms = $2, heartbeat_at = NULL WHERE claim = $1`,
        [claim, durationMs],
      );
    } catch (error) {
      return err(
        unavailable(
          `${migration.id} ran, but recording it failed (the next run sees its claim and finishes it)`,
          error,
        ),
      );
    }
    return ok({ kind: 'applied', durationMs });
  };

  const statuses = (
    sources: readonly Migration[],
    rows: readonly HistoryRow[],
  ): MigrationStatus[] => {
    const live = liveRows(rows);
    const baseline = live.find((row) => row.kind === 'baseline' && row.state === 'applied');
    const byVersion = new Map<string, HistoryRow>();
    for (const row of live)
      if (row.version !== null && row.kind === 'versioned') byVersion.set(row.version, row);
    const out: MigrationStatus[] = [];
    const applied = (row: HistoryRow): Partial<MigrationStatus> => ({
      appliedChecksum: row.checksum,
      appliedAt: asDate(row.installed_on),
      installedBy: row.installed_by,
      runner: row.runner,
      ...(row.duration_ms === null ? {} : { durationMs: row.duration_ms }),
    });
    if (baseline !== undefined) {
      out.push({
        id: baseline.script,
        version: baseline.version ?? undefined,
        name: baseline.name,
        kind: 'baseline',
        state: 'applied',
        checksum: undefined,
        ...applied(baseline),
      });
    }
    const known = new Set<string>();
    for (const migration of sources) {
      const base = {
        id: migration.id,
        version: migration.version,
        name: migration.name,
        kind: migration.kind,
        checksum: migration.checksum,
      };
      if (migration.kind === 'versioned') {
        const version = migration.version as string;
        known.add(version);
        const row = byVersion.get(version);
        if (row === undefined) {
          const below =
            baseline?.version != null && compareVersions(version, baseline.version) <= 0;
          out.push({ ...base, state: below ? 'below-baseline' : 'pending' });
        } else if (row.state === 'running')
          out.push({ ...base, state: 'running', ...applied(row) });
        else
          out.push({
            ...base,
            state: row.checksum === migration.checksum ? 'applied' : 'changed',
            ...applied(row),
          });
      } else {
        const last = live
          .filter((row) => row.kind === 'repeatable' && row.name === migration.name)
          .at(-1);
        if (last === undefined) out.push({ ...base, state: 'pending' });
        else
          out.push({
            ...base,
            state: last.checksum === migration.checksum ? 'applied' : 'outdated',
            ...applied(last),
          });
      }
    }
    for (const row of byVersion.values()) {
      if (!known.has(row.version as string)) {
        out.push({
          id: row.script,
          version: row.version ?? undefined,
          name: row.name,
          kind: 'versioned',
          state: 'missing',
          checksum: undefined,
          ...applied(row),
        });
      }
    }
    return out;
  };

  const issuesOf = (list: readonly MigrationStatus[]): ValidationIssue[] => {
    const issues: ValidationIssue[] = [];
    const newestApplied = list
      .filter(
        (s) =>
          s.kind === 'versioned' &&
          (s.state === 'applied' || s.state === 'changed' || s.state === 'missing'),
      )
      .map((s) => s.version as string)
      .sort(compareVersions)
      .at(-1);
    for (const s of list) {
      if (s.state === 'changed') {
        issues.push({
          code: 'DB_MIGRATION_CHECKSUM_MISMATCH',
          id: s.id,
          message: `${s.id} was applied with checksum ${s.appliedChecksum?.slice(0, 12)}... but the file now has ${s.checksum?.slice(0, 12)}...: an applied migration must not change (write a new one)`,
        });
      } else if (s.state === 'missing') {
        issues.push({
          code: 'DB_MIGRATION_MISSING',
          id: s.id,
          message: `${s.id} (version ${s.version}) is applied but no migration source has it any more`,
        });
      } else if (
        s.state === 'pending' &&
        s.kind === 'versioned' &&
        !outOfOrder &&
        newestApplied !== undefined &&
        compareVersions(s.version as string, newestApplied) < 0
      ) {
        issues.push({
          code: 'DB_MIGRATION_OUT_OF_ORDER',
          id: s.id,
          message: `${s.id} is pending but older than the newest applied version ${newestApplied} (set outOfOrder to apply it)`,
        });
      }
    }
    return issues;
  };

  const issueError = (issues: readonly ValidationIssue[]): ProdError => {
    const first = issues[0] as ValidationIssue;
    const factory = DbErrors[first.code];
    return factory({
      message:
        issues.length === 1
          ? first.message
          : `${first.message} (and ${issues.length - 1} more: ${issues
              .slice(1)
              .map((i) => i.id)
              .join(', ')})`,
      details: { file: first.id, issues: issues.map((i) => ({ ...i })) },
    });
  };

  const loadState = async (): Promise<
    Result<{ sources: Migration[]; rows: HistoryRow[]; qualified: string }, ProdError>
  > => {
    const sources = await load();
    if (!sources.ok) return sources;
    const resolvedTarget = await target();
    if (!resolvedTarget.ok) return resolvedTarget;
    const { qualified } = resolvedTarget.value;
    try {
      const rows = (await historyExists(db, qualified)) ? await readHistory(db, qualified) : [];
      return ok({ sources: sources.value, rows, qualified });
    } catch (error) {
      return err(unavailable(`cannot read the history table ${qualified}`, error));
    }
  };

  const migrator: Migrator = {
    get table(): string {
      return (
        resolved?.qualified ??
        `${schemaOption === undefined ? '' : `${quoteIdent(schemaOption)}.`}${quoteIdent(tableName)}`
      );
    },

    async migrate(migrateOptions = {}) {
      const targetVersion =
        migrateOptions.target === undefined ? undefined : normalizeVersion(migrateOptions.target);
      if (migrateOptions.target !== undefined && targetVersion === undefined) {
        return err(
          DbErrors.DB_INVALID_OPTIONS({
            message: `option target must be a version such as 3 or 1.2, got ${JSON.stringify(migrateOptions.target)}`,
            details: { option: 'target' },
          }),
        );
      }
      const sources = await load();
      if (!sources.ok) return sources;
      const history = await ensureHistory();
      if (!history.ok) return history;
      const { qualified, key } = history.value;
      let rows: HistoryRow[];
      try {
        rows = await readHistory(db, qualified);
      } catch (error) {
        return err(unavailable(`cannot read the history table ${qualified}`, error));
      }
      const list = statuses(sources.value, rows);
      const issues = issuesOf(list);
      if (issues.length > 0) return err(issueError(issues));
      const applied: Array<{ id: string; version: string | undefined; durationMs: number }> = [];
      const skipped: string[] = [];
      const pendingIds = new Set(
        list
          .filter((s) => s.state === 'pending' || s.state === 'outdated' || s.state === 'running')
          .map((s) => s.id),
      );
      for (const migration of sources.value) {
        if (!pendingIds.has(migration.id)) continue;
        if (
          migration.kind === 'versioned' &&
          targetVersion !== undefined &&
          compareVersions(migration.version as string, targetVersion) > 0
        )
          continue;
        const outcome = migration.transaction
          ? await applyInTransaction(migration, qualified, key)
          : await applyOutsideTransaction(migration, qualified, key);
        if (!outcome.ok) {
          const error = outcome.error;
          logger?.warn(
            { migration: migration.id, code: error.code, err: error },
            'migration failed',
          );
          return err(withApplied(error, applied));
        }
        if (outcome.value.kind === 'applied') {
          applied.push({
            id: migration.id,
            version: migration.version,
            durationMs: outcome.value.durationMs,
          });
          logger?.info(
            { migration: migration.id, durationMs: outcome.value.durationMs, runner },
            'migration applied',
          );
        } else skipped.push(migration.id);
      }
      let version: string | undefined;
      try {
        version = liveRows(await readHistory(db, qualified))
          .filter((row) => row.state === 'applied' && row.version !== null)
          .map((row) => row.version as string)
          .sort(compareVersions)
          .at(-1);
      } catch (error) {
        return err(unavailable(`cannot read the history table ${qualified}`, error));
      }
      return ok({ applied, skipped, version });
    },

    async status() {
      const state = await loadState();
      if (!state.ok) return state;
      return ok(statuses(state.value.sources, state.value.rows));
    },

    async validate() {
      const state = await loadState();
      if (!state.ok) return state;
      const list = statuses(state.value.sources, state.value.rows);
      const issues = issuesOf(list);
      return issues.length > 0 ? err(issueError(issues)) : ok(list);
    },

    async baseline(baselineOptions) {
      const version = normalizeVersion(
        String((baselineOptions as { version?: unknown } | undefined)?.version),
      );
      if (version === undefined) {
        return err(
          DbErrors.DB_INVALID_OPTIONS({
            message: 'option version must be a version such as 3 or 1.2',
            details: { option: 'version' },
          }),
        );
      }
      const history = await ensureHistory();
      if (!history.ok) return history;
      const { qualified, key } = history.value;
      try {
        const outcome = await db.transaction(async (tx) => {
          if (!(await lock(tx, key, lockTimeoutMs))) return 'locked' as const;
          const rows = liveRows(await readHistory(tx, qualified));
          if (rows.some((row) => row.kind !== 'repeatable')) return 'refused' as const;
          const name = baselineOptions.name ?? `baseline ${version}`;
          await tx.query(
            `INSERT INTO ${qualified} (version, name, script, kind, checksum, state, runner, duration_ms)
             VALUES ($1, $2, $3, 'baseline', '', 'applied', $4, 0)`,
            [version, name, `B${version}__${name}`, runner],
          );
          return 'done' as const;
        });
        if (outcome === 'locked') return err(await locked(qualified, key, 'baseline'));
        if (outcome === 'refused') {
          return err(
            DbErrors.DB_MIGRATION_BASELINE_REFUSED({
              message: `${qualified} already records applied migrations: a baseline is only for a database without history`,
              details: { table: qualified, version },
            }),
          );
        }
        logger?.info({ version, runner }, 'baseline recorded');
        return ok(undefined);
      } catch (error) {
        return err(unavailable(`cannot record the baseline in ${qualified}`, error));
      }
    },

    async down(count = 1) {
      if (!Number.isInteger(count) || count < 1) {
        return err(
          DbErrors.DB_INVALID_OPTIONS({
            message: `down(count): count must be an integer >= 1, got ${String(count)}`,
            details: { option: 'count' },
          }),
        );
      }
      const state = await loadState();
      if (!state.ok) return state;
      const { sources, rows, qualified } = state.value;
      const resolvedTarget = await target();
      if (!resolvedTarget.ok) return resolvedTarget;
      const { key } = resolvedTarget.value;
      const byVersion = new Map(
        sources.filter((m) => m.version !== undefined).map((m) => [m.version as string, m]),
      );
      const newest = liveRows(rows)
        .filter(
          (row) => row.kind === 'versioned' && row.state === 'applied' && row.version !== null,
        )
        .sort((a, b) => compareVersions(b.version as string, a.version as string))
        .slice(0, count);
      const chosen: Migration[] = [];
      for (const row of newest) {
        const migration = byVersion.get(row.version as string);
        if (migration === undefined) {
          return err(
            DbErrors.DB_MIGRATION_MISSING({
              message: `${row.script} is applied but no source has it: cannot revert it`,
              details: { file: row.script },
            }),
          );
        }
        if (migration.down === undefined) {
          return err(
            DbErrors.DB_MIGRATION_NO_DOWN({
              message: `${migration.id} has no down step (add U${migration.version}__${migration.name}.sql or export down): nothing was reverted`,
              details: { file: migration.id },
            }),
          );
        }
        chosen.push(migration);
      }
      const reverted: string[] = [];
      for (const migration of chosen) {
        const downStep = migration.down as MigrationStep;
        const transactional =
          downStep.kind === 'code'
            ? migration.transaction
            : downStep.statements.every((s) => s.outsideTransaction === undefined);
        try {
          const outcome = await db.transaction(async (tx) => {
            if (!(await lock(tx, key, lockTimeoutMs))) return 'locked' as const;
            const current = liveRows(await readHistory(tx, qualified))
              .filter(
                (row) =>
                  row.kind === 'versioned' && row.state === 'applied' && row.version !== null,
              )
              .sort((a, b) => compareVersions(b.version as string, a.version as string))[0];
            if (current === undefined || current.version !== migration.version)
              return 'moved' as const;
            if (transactional) {
              await sessionSettings(tx);
              await runStep(tx, migration, downStep, 'down');
            }
            await tx.query(
              `UPDATE ${qualified} SET state = 'reverted', reverted_on = now() WHERE rank = $1`,
              [current.rank],
            );
            return 'done' as const;
          });
          if (outcome === 'locked')
            return err(withReverted(await locked(qualified, key, migration.id), reverted));
          if (outcome === 'moved') {
            return err(
              withReverted(
                DbErrors.DB_MIGRATION_LOCKED({
                  message: `${migration.id}: the history changed while reverting (another runner)`,
                  details: { file: migration.id },
                }),
                reverted,
              ),
            );
          }
          if (!transactional) await runStep(db, migration, downStep, 'down');
        } catch (error) {
          if (error instanceof Abort) return err(withReverted(error.error, reverted));
          return err(
            withReverted(
              stepError(migration, downStep, undefined, 'COMMIT', error, 'down'),
              reverted,
            ),
          );
        }
        reverted.push(migration.id);
        logger?.info({ migration: migration.id, runner }, 'migration reverted');
      }
      return ok(reverted);
    },

    async plan(planOptions = {}) {
      const state = await loadState();
      if (!state.ok) return state;
      const { sources, rows } = state.value;
      const steps: PlannedStep[] = [];
      const sqlOf = (migration: Migration, step: MigrationStep): string =>
        step.kind === 'sql'
          ? step.statements.map((s) => `${s.text};`).join('\n')
          : `-- ${migration.id}: a function; its SQL is known only when it runs`;
      if (planOptions.down !== undefined) {
        const count = planOptions.down;
        const byVersion = new Map(
          sources.filter((m) => m.version !== undefined).map((m) => [m.version as string, m]),
        );
        const newest = liveRows(rows)
          .filter(
            (row) => row.kind === 'versioned' && row.state === 'applied' && row.version !== null,
          )
          .sort((a, b) => compareVersions(b.version as string, a.version as string))
          .slice(0, count);
        for (const row of newest) {
          const migration = byVersion.get(row.version as string);
          const down = migration?.down;
          steps.push({
            id: migration?.id ?? row.script,
            version: row.version ?? undefined,
            kind: 'down',
            transaction:
              down?.kind === 'sql'
                ? down.statements.every((s) => s.outsideTransaction === undefined)
                : (migration?.transaction ?? true),
            sql:
              migration === undefined
                ? `-- ${row.script}: no source`
                : down === undefined
                  ? `-- ${migration.id}: no down step`
                  : sqlOf(migration, down),
          });
        }
      } else {
        const targetVersion =
          planOptions.target === undefined ? undefined : normalizeVersion(planOptions.target);
        const list = statuses(sources, rows);
        const issues = issuesOf(list);
        if (issues.length > 0) return err(issueError(issues));
        const pending = new Set(
          list.filter((s) => s.state === 'pending' || s.state === 'outdated').map((s) => s.id),
        );
        for (const migration of sources) {
          if (!pending.has(migration.id)) continue;
          if (
            migration.kind === 'versioned' &&
            targetVersion !== undefined &&
            compareVersions(migration.version as string, targetVersion) > 0
          )
            continue;
          steps.push({
            id: migration.id,
            version: migration.version,
            kind: migration.kind,
            transaction: migration.transaction,
            sql: sqlOf(migration, migration.up),
          });
        }
      }
      const script = steps
        .map((step) => {
          const head = `-- ${step.kind === 'down' ? 'revert' : 'apply'} ${step.id}${step.transaction ? '' : ' (outside a transaction)'}`;
          return step.transaction
            ? `${head}\nBEGIN;\n${step.sql}\nCOMMIT;`
            : `${head}\n${step.sql}`;
        })
        .join('\n\n');
      return ok({ steps, script: steps.length === 0 ? '-- nothing to do' : script });
    },

    async drift(driftOptions = {}) {
      const state = await loadState();
      if (!state.ok) return state;
      const { sources, rows } = state.value;
      const resolvedTarget = await target();
      if (!resolvedTarget.ok) return resolvedTarget;
      const { schema } = resolvedTarget.value;
      const live = liveRows(rows);
      const appliedVersions = live
        .filter((row) => row.state === 'applied' && row.version !== null)
        .map((row) => row.version as string);
      const newest = appliedVersions.sort(compareVersions).at(-1);
      const replay = sources.filter((m) =>
        m.kind === 'versioned'
          ? newest !== undefined && compareVersions(m.version as string, newest) <= 0
          : live.some((row) => row.kind === 'repeatable' && row.name === m.name),
      );
      const scratchClient =
        driftOptions.scratch === undefined ? db : toSqlClient(driftOptions.scratch);
      const ownSchema = driftOptions.scratch === undefined;
      const scratchSchema = ownSchema
        ? `prod_db_drift_${randomBytes(6).toString('hex')}`
        : undefined;
      let expected: Map<string, string> | undefined;
      let failure: ProdError | undefined;
      const ROLLBACK = Symbol('rollback');
      try {
        await scratchClient.transaction(async (tx) => {
          let into: string;
          if (scratchSchema !== undefined) {
            await tx.query(`CREATE SCHEMA ${quoteIdent(scratchSchema)}`);
            const path = await firstRow<{ path: string }>(
              tx,
              'SELECT current_setting($1) AS path',
              ['search_path'],
            );
            const rest = (path?.path ?? '')
              .split(',')
              .map((part) => part.trim())
              .filter((part) => part !== '' && part.replace(/^"|"$/g, '') !== schema);
            await tx.query(
              `SET LOCAL search_path = ${[quoteIdent(scratchSchema), ...rest].join(', ')}`,
            );
            into = scratchSchema;
          } else {
            into =
              (await firstRow<{ schema: string }>(tx, 'SELECT current_schema() AS schema'))
                ?.schema ?? 'public';
          }
          for (const migration of replay) {
            const step = migration.up;
            if (step.kind === 'sql') {
              for (const statement of step.statements) {
                let text = statement.text;
                if (statement.outsideTransaction !== undefined) {
                  if (statement.node !== 'IndexStmt' && statement.node !== 'DropStmt') continue;
                  const ranges = concurrentlyRanges(text);
                  for (const [from, to] of ranges.reverse())
                    text = text.slice(0, from) + text.slice(to);
                }
                try {
                  await tx.query(text);
                } catch (error) {
                  failure = stepError(migration, step, statement, undefined, error, 'up');
                  throw ROLLBACK;
                }
              }
            } else {
              try {
                await step.run(tx);
              } catch (error) {
                failure = stepError(migration, step, undefined, undefined, error, 'up');
                throw ROLLBACK;
              }
            }
          }
          const currentPath = await firstRow<{ path: string }>(
            tx,
            'SELECT current_setting($1) AS path',
            ['search_path'],
          );
          expected = await snapshotSchema(tx, into, tableName);
          await tx.query(`SET LOCAL search_path = ${currentPath?.path ?? quoteIdent(into)}`);
          throw ROLLBACK;
        });
      } catch (error) {
        if (error !== ROLLBACK)
          return err(unavailable('cannot replay the migrations for drift detection', error));
      }
      if (failure !== undefined) return err(failure);
      let actual: Map<string, string>;
      try {
        actual = await db.transaction(async (tx) => {
          await tx.query('SET TRANSACTION READ ONLY');
          return snapshotSchema(tx, schema, tableName);
        });
      } catch (error) {
        return err(unavailable(`cannot read the catalog of schema ${schema}`, error));
      }
      const differences = diffSnapshots(expected ?? new Map(), actual);
      return ok({ drifted: differences.length > 0, schema, differences });
    },
  };
  return migrator;
}

function withApplied(error: ProdError, applied: ReadonlyArray<{ id: string }>): ProdError {
  if (applied.length === 0) return error;
  Object.assign(error.details as Record<string, unknown>, {
    appliedBefore: applied.map((a) => a.id),
  });
  return error;
}

function withReverted(error: ProdError, reverted: readonly string[]): ProdError {
  if (reverted.length === 0) return error;
  Object.assign(error.details as Record<string, unknown>, { revertedBefore: [...reverted] });
  return error;
}
