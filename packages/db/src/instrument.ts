import { AsyncLocalStorage } from 'node:async_hooks';
import { type ContextLogger, currentContext, optionChecks, type RequestContext } from '@prod/core';
import { DbErrors } from './errors.js';
import type { QueryFingerprint } from './fingerprint.js';
import { type DurationHistogram, durationHistogram } from './internal/histogram.js';
import { sqlState } from './internal/pg-errors.js';
import { type QueryShape, queryShapeCache } from './internal/query-shape.js';
import { firstRow } from './internal/sql.js';
import { type SqlClient, type SqlQueryable, type SqlSource, toSqlClient } from './sql-client.js';
import type { MetricsRegistryLike } from './types.js';

/** Where the query histogram goes: `createMetrics()` of @prod/metrics fits as it is (`{ registry }`). */
export interface DbMetricsTarget {
  readonly registry: MetricsRegistryLike;
  /** Prepended to the metric name (`notes_` -> `notes_db_client_operation_duration_seconds`). Default `''`. */
  readonly prefix?: string;
}

/** Where findings are logged: pino's `warn` fits. Default: the request context's logger. */
export type InstrumentLogger = Pick<ContextLogger, 'warn'>;

/** Options of the EXPLAIN of slow SELECTs. */
export interface ExplainOptions {
  /**
   * Where EXPLAIN runs: another pool, so that a slow moment never takes a connection from the
   * application. Default: the instrumented client itself (a connection of its own pool).
   */
  readonly client?: SqlSource;
  /** At most one EXPLAIN per fingerprint in this window. Default 300 000 ms (5 minutes). */
  readonly intervalMs?: number;
  /** At most this many EXPLAINs a minute in total. Default 10. */
  readonly maxPerMinute?: number;
  /** A sequential scan matters from this many (estimated) table rows. Default 10 000. */
  readonly largeTableRows?: number;
  /** `statement_timeout` of the EXPLAIN. Default 2000 ms. */
  readonly timeoutMs?: number;
}

/** Options of {@link instrument}. */
export interface InstrumentOptions {
  /** A query at least this slow is logged (and, a SELECT, explained). Default 200 ms. */
  readonly slowMs?: number;
  readonly metrics?: DbMetricsTarget;
  readonly logger?: InstrumentLogger;
  /** EXPLAIN slow SELECTs and look for sequential scans of large tables. Default on; `false` turns it off. */
  readonly explain?: ExplainOptions | false;
  /** Per-request limits, logged once per request when passed. Default 50 queries, 1000 ms. */
  readonly budget?: { readonly maxQueries?: number; readonly maxTotalMs?: number } | false;
  /** Log an N+1 pattern when one fingerprint runs more than `threshold` times in a request. Default 10. */
  readonly nPlusOne?: { readonly threshold?: number } | false;
  /** Every finding, also when no logger is set (tests, alerts, your own sink). */
  readonly onEvent?: (event: DbEvent) => void;
  /** `db_system_name` of the metric. Default `postgresql`. */
  readonly system?: string;
  /** Distinct (operation, table, error) series before new tables fold into `_other`. Default 500. */
  readonly maxSeries?: number;
}

/** What a finding carries about the request it happened in. */
export interface RequestRef {
  readonly requestId: string | undefined;
  readonly traceId: string | undefined;
  readonly route: string | undefined;
}

/** A finding of {@link instrument}. */
export type DbEvent =
  | ({
      readonly kind: 'slow-query';
      readonly fingerprint: string;
      readonly fingerprintId: string;
      readonly operation: string;
      readonly table: string | undefined;
      readonly durationMs: number;
      readonly error: string | undefined;
    } & RequestRef)
  | ({
      readonly kind: 'seq-scan';
      readonly fingerprint: string;
      readonly fingerprintId: string;
      /** `schema.table` */
      readonly table: string;
      readonly estimatedRows: number;
      readonly filter: string | undefined;
      /** A `CREATE INDEX CONCURRENTLY` to consider, when the filter names columns. */
      readonly suggestion: string | undefined;
    } & RequestRef)
  | ({
      readonly kind: 'budget-exceeded';
      readonly queries: number;
      readonly totalMs: number;
      readonly maxQueries: number;
      readonly maxTotalMs: number;
    } & RequestRef)
  | ({
      readonly kind: 'n-plus-one';
      readonly fingerprint: string;
      readonly fingerprintId: string;
      readonly count: number;
      readonly threshold: number;
    } & RequestRef);

/** Query count and time of the current request, across every instrumented client. */
export interface RequestQueryStats {
  readonly queries: number;
  readonly totalMs: number;
  readonly slow: number;
}

/** A running instrumentation. */
export interface Instrumentation {
  /** Puts the original query methods back and stops listening to the pool. */
  stop(): void;
  /** Fingerprints currently cached (for tests and diagnostics). */
  readonly cachedFingerprints: number;
}

interface RequestState {
  queries: number;
  totalMs: number;
  slow: number;
  budgetLogged: boolean;
  byFingerprint: Map<string, number> | undefined;
  nPlusOneLogged: Set<string> | undefined;
}

// Shared by every instrumentation (and both builds), so a request's budget counts all its
// queries: in the context's own extensions (the adapters give every request one), else in a
// WeakMap for contexts made without them.
const STATE_KEY = Symbol.for('@prod/db/request-state');
const globalState = globalThis as { [STATE_KEY]?: WeakMap<RequestContext, RequestState> };
globalState[STATE_KEY] ??= new WeakMap();
const requests: WeakMap<RequestContext, RequestState> = globalState[STATE_KEY];
const stateOf = (context: RequestContext): RequestState | undefined =>
  (context.extensions?.get(STATE_KEY) as RequestState | undefined) ?? requests.get(context);

// Marks our own queries (EXPLAIN and its catalog reads), which are never recorded.
const internal = new AsyncLocalStorage<true>();

/**
 * The current request's query count and time (`undefined` outside a request or before its
 * first query): for a `Server-Timing` header, a log line at the end of a request, a test.
 */
export function requestQueryStats(): RequestQueryStats | undefined {
  const context = currentContext();
  if (context === undefined) return undefined;
  const state = stateOf(context);
  return state === undefined
    ? undefined
    : { queries: state.queries, totalMs: state.totalMs, slow: state.slow };
}

const FINGERPRINT_CACHE = 5000;

interface Patched {
  readonly target: Record<string, unknown>;
  readonly method: string;
  readonly original: unknown;
}

const WRAPPED = Symbol('@prod/db/instrumented');
const USER_CHECKOUT = Symbol('@prod/db/user-checkout');

type AnyFunction = (...args: unknown[]) => unknown;

/** Calls `original` with exactly the arguments the caller passed (`rest` when more than three). */
const invoke = (
  original: AnyFunction,
  self: unknown,
  n: number,
  a: unknown,
  b: unknown,
  c: unknown,
  rest: unknown[] | undefined,
): unknown =>
  rest !== undefined
    ? original.apply(self, rest)
    : n === 1
      ? original.call(self, a)
      : n === 2
        ? original.call(self, a, b)
        : n === 3
          ? original.call(self, a, b, c)
          : original.call(self);

/**
 * Times and fingerprints every query of a pg `Pool` (every client it hands out, `pool.query`
 * included), a pg `Client`, a PGlite instance or any {@link SqlClient}, in place:
 *
 * - metrics: the `db_client_operation_duration_seconds` histogram by `db_operation_name`
 *   (`SELECT`, `INSERT`...), `db_collection_name` (the table) and `error_type` (SQLSTATE),
 *   low-cardinality because literals never reach a label;
 * - slow queries (`slowMs`): logged with the fingerprint, duration, request id, trace id and
 *   route of the request context; a slow SELECT is EXPLAINed (never ANALYZE: nothing runs
 *   twice) on a separate connection in a read-only transaction, at most once per fingerprint
 *   per `intervalMs` and `maxPerMinute` in all, and its plan is searched for sequential scans
 *   of large tables, reported with an index suggestion;
 * - per request (through the request context): a query budget (count and total time) and
 *   N+1 detection (the same fingerprint more than `threshold` times), each logged once.
 *
 * Values are never logged. A text's fingerprint, labels and histogram series are cached
 * (5000 texts), so a repeated (parameterized) query costs a map lookup and two clock reads.
 *
 * @example
 * declare const pool: SqlSource;
 * declare const registry: MetricsRegistryLike;
 * const instrumentation = instrument(pool, { slowMs: 100, metrics: { registry }, nPlusOne: { threshold: 5 } });
 * // ... on shutdown:
 * instrumentation.stop();
 */
export function instrument(target: SqlSource, options: InstrumentOptions = {}): Instrumentation {
  const check = optionChecks(DbErrors.DB_INVALID_OPTIONS);
  if (
    typeof target !== 'object' ||
    target === null ||
    typeof (target as SqlQueryable).query !== 'function'
  ) {
    check.fail('target', 'a pg Pool or Client, a PGlite instance or a SqlClient', target);
  }
  check.object('options', options);
  const slowMs = check.duration('slowMs', options.slowMs, 200, { allowInfinity: true });
  const logger = options.logger;
  if (
    logger !== undefined &&
    (typeof logger !== 'object' || logger === null || typeof logger.warn !== 'function')
  ) {
    check.fail('logger', 'an object with warn()', logger);
  }
  const onEvent = check.fn<(event: DbEvent) => void>('onEvent', options.onEvent);
  const system = check.string('system', options.system, 'postgresql', { nonEmpty: true });
  const maxSeries = check.integer('maxSeries', options.maxSeries, 500, { min: 1, max: 100_000 });
  const explainOption =
    options.explain === false
      ? undefined
      : check.object<ExplainOptions>('explain', options.explain);
  const budgetOption =
    options.budget === false
      ? undefined
      : check.object<{ maxQueries?: number; maxTotalMs?: number }>('budget', options.budget);
  const maxQueries =
    budgetOption === undefined
      ? Number.POSITIVE_INFINITY
      : check.integer('budget.maxQueries', budgetOption.maxQueries, 50, {
          min: 1,
          allowInfinity: true,
        });
  const maxTotalMs =
    budgetOption === undefined
      ? Number.POSITIVE_INFINITY
      : check.duration('budget.maxTotalMs', budgetOption.maxTotalMs, 1000, { allowInfinity: true });
  const nPlusOneOption =
    options.nPlusOne === false
      ? undefined
      : check.object<{ threshold?: number }>('nPlusOne', options.nPlusOne);
  const threshold =
    nPlusOneOption === undefined
      ? Number.POSITIVE_INFINITY
      : check.integer('nPlusOne.threshold', nPlusOneOption.threshold, 10, { min: 1 });
  let histogram: DurationHistogram | undefined;
  if (options.metrics !== undefined) {
    const metrics = check.object<DbMetricsTarget>('metrics', options.metrics);
    histogram = durationHistogram(metrics.registry, metrics.prefix ?? '', maxSeries);
  }
  const explainer =
    explainOption === undefined
      ? undefined
      : createExplainer(
          explainOption,
          explainOption.client === undefined ? target : explainOption.client,
          check,
          (event, context) => emit(event, context),
        );

  const cache = queryShapeCache(FINGERPRINT_CACHE);

  const emit = (event: DbEvent, context: RequestContext | undefined): void => {
    onEvent?.(event);
    const log = logger ?? context?.logger;
    if (log === undefined) return;
    const { kind, ...fields } = event;
    const message =
      kind === 'slow-query'
        ? 'slow query'
        : kind === 'seq-scan'
          ? 'sequential scan on a large table'
          : kind === 'budget-exceeded'
            ? 'query budget exceeded'
            : 'N+1 query pattern';
    log.warn({ db: { event: kind, ...fields } }, message);
  };

  // Budget and N+1 bookkeeping, only called inside a request context.
  const account = (fp: QueryFingerprint, ms: number, context: RequestContext): void => {
    let state = stateOf(context);
    if (state === undefined) {
      state = {
        queries: 0,
        totalMs: 0,
        slow: 0,
        budgetLogged: false,
        byFingerprint: undefined,
        nPlusOneLogged: undefined,
      };
      if (context.extensions !== undefined) context.extensions.set(STATE_KEY, state);
      else requests.set(context, state);
    }
    state.queries += 1;
    state.totalMs += ms;
    if (!state.budgetLogged && (state.queries > maxQueries || state.totalMs > maxTotalMs)) {
      state.budgetLogged = true;
      emit(
        {
          kind: 'budget-exceeded',
          queries: state.queries,
          totalMs: round(state.totalMs),
          maxQueries,
          maxTotalMs,
          requestId: context.requestId,
          traceId: context.traceId,
          route: context.route,
        },
        context,
      );
    }
    if (threshold !== Number.POSITIVE_INFINITY) {
      state.byFingerprint ??= new Map();
      const count = (state.byFingerprint.get(fp.id) ?? 0) + 1;
      state.byFingerprint.set(fp.id, count);
      if (count > threshold) {
        state.nPlusOneLogged ??= new Set();
        if (!state.nPlusOneLogged.has(fp.id)) {
          state.nPlusOneLogged.add(fp.id);
          emit(
            {
              kind: 'n-plus-one',
              fingerprint: fp.text,
              fingerprintId: fp.id,
              count,
              threshold,
              requestId: context.requestId,
              traceId: context.traceId,
              route: context.route,
            },
            context,
          );
        }
      }
    }
    if (ms >= slowMs) state.slow += 1;
  };

  const reportSlow = (
    text: string,
    values: unknown,
    shape: QueryShape,
    ms: number,
    errorType: string,
    context: RequestContext | undefined,
  ): void => {
    const fp = shape.fingerprint;
    const request: RequestRef = {
      requestId: context?.requestId,
      traceId: context?.traceId,
      route: context?.route,
    };
    emit(
      {
        kind: 'slow-query',
        fingerprint: fp.text,
        fingerprintId: fp.id,
        operation: fp.operation,
        table: fp.table,
        durationMs: round(ms),
        error: errorType === '' ? undefined : errorType,
        ...request,
      },
      context,
    );
    if (
      explainer !== undefined &&
      errorType === '' &&
      fp.operation === 'SELECT' &&
      fp.statements === 1
    ) {
      explainer.consider(text, values, fp, request, context);
    }
  };

  const record = (
    text: string,
    values: unknown,
    started: number,
    error: unknown,
    context: RequestContext | undefined,
  ): void => {
    const ms = performance.now() - started;
    const shape = cache.get(text);
    let errorType = '';
    if (error === undefined) {
      if (histogram !== undefined) {
        shape.success ??= histogram.seriesOf(system, shape.operation, shape.table, '');
        shape.success.observe(ms / 1000);
      }
    } else {
      errorType = sqlState(error) ?? String((error as { code?: unknown } | null)?.code ?? 'error');
      histogram?.observe(system, shape.operation, shape.table, errorType, ms / 1000);
    }
    if (context !== undefined) account(shape.fingerprint, ms, context);
    if (ms >= slowMs) reportSlow(text, values, shape, ms, errorType, context);
  };

  /**
   * Calls a promise- or callback-style query method with its `n` arguments (`a`, `b`, `c`, or
   * `rest` when there are more than three) and records it. The request context is read here,
   * at the call: a pool's callbacks run in whatever context released the client.
   */
  const timedCall = (
    original: AnyFunction,
    self: unknown,
    n: number,
    a: unknown,
    b: unknown,
    c: unknown,
    rest: unknown[] | undefined,
  ): unknown => {
    if (a === undefined || a === null || n === 0) return invoke(original, self, n, a, b, c, rest);
    const first = a as { text?: unknown; values?: unknown; submit?: unknown } | string;
    // A Submittable (Cursor, QueryStream) reports through its own events: passed through.
    if (typeof first === 'object' && typeof first.submit === 'function')
      return invoke(original, self, n, a, b, c, rest);
    const text =
      typeof first === 'string' ? first : typeof first.text === 'string' ? first.text : undefined;
    if (text === undefined) return invoke(original, self, n, a, b, c, rest);
    const second = rest === undefined ? b : rest[1];
    const values =
      typeof second === 'function' || second === undefined
        ? typeof first === 'object'
          ? first.values
          : undefined
        : second;
    const context = currentContext();
    const started = performance.now();
    const callback = rest !== undefined ? rest[n - 1] : n === 3 ? c : n === 2 ? b : a;
    if (typeof callback === 'function') {
      const done = function (this: unknown, error: unknown): unknown {
        record(text, values, started, error ?? undefined, context);
        // biome-ignore lint/complexity/noArguments: every argument the driver passed, unchanged
        return (callback as AnyFunction).apply(this, arguments as unknown as unknown[]);
      };
      if (rest !== undefined) {
        const args = rest.slice();
        args[n - 1] = done;
        return original.apply(self, args);
      }
      return n === 2 ? original.call(self, a, done) : original.call(self, a, b, done);
    }
    let result: unknown;
    try {
      result = invoke(original, self, n, a, b, c, rest);
    } catch (error) {
      record(text, values, started, error, context);
      throw error;
    }
    if (
      result !== null &&
      typeof result === 'object' &&
      typeof (result as PromiseLike<unknown>).then === 'function'
    ) {
      (result as PromiseLike<unknown>).then(
        () => record(text, values, started, undefined, context),
        (error: unknown) =>
          record(text, values, started, error ?? new Error('query failed'), context),
      );
    }
    return result;
  };

  const patched: Patched[] = [];

  /** Replaces `holder[method]` with a timed one; `gate` says per call whether to time it. */
  const wrapQuery = (
    holder: Record<string, unknown>,
    method: string,
    gate?: (self: unknown) => boolean,
  ): void => {
    const original = holder[method] as AnyFunction | undefined;
    if (typeof original !== 'function' || (original as { [WRAPPED]?: boolean })[WRAPPED] === true)
      return;
    const timed = function (this: unknown, a?: unknown, b?: unknown, c?: unknown): unknown {
      // biome-ignore lint/complexity/noArguments: the count, without an array per call
      const n = arguments.length;
      // biome-ignore lint/complexity/noArguments: more than three arguments is the rare case
      const rest = n > 3 ? (Array.from(arguments) as unknown[]) : undefined;
      if ((gate !== undefined && !gate(this)) || internal.getStore() === true)
        return invoke(original, this, n, a, b, c, rest);
      return timedCall(original, this, n, a, b, c, rest);
    };
    (timed as unknown as { [WRAPPED]: boolean })[WRAPPED] = true;
    holder[method] = timed;
    patched.push({ target: holder, method, original });
  };

  const source = target as unknown as Record<string, unknown> & {
    on?: AnyFunction;
    removeListener?: AnyFunction;
  };
  const isPool =
    typeof source.connect === 'function' &&
    typeof source.totalCount === 'number' &&
    typeof source.on === 'function';
  if (isPool) {
    // pool.query is timed at the pool (where the caller's context is), by one wrapper; clients
    // the caller checks out with pool.connect() are timed while checked out; the client
    // pool.query uses internally is not, so nothing counts twice. Our own EXPLAIN checks a
    // client out (never through pool.query), so the pool.query wrapper needs no check of it.
    let inPoolQuery = 0;
    const query = source.query as AnyFunction;
    // Instrumented twice: the first instrumentation times pool.query, this one only counts.
    const timing = (query as { [WRAPPED]?: boolean })[WRAPPED] !== true;
    const timedPoolQuery = function (
      this: unknown,
      a?: unknown,
      b?: unknown,
      c?: unknown,
    ): unknown {
      // biome-ignore lint/complexity/noArguments: the count, without an array per call
      const n = arguments.length;
      // biome-ignore lint/complexity/noArguments: more than three arguments is the rare case
      const rest = n > 3 ? (Array.from(arguments) as unknown[]) : undefined;
      inPoolQuery += 1;
      try {
        return timing
          ? timedCall(query, this, n, a, b, c, rest)
          : invoke(query, this, n, a, b, c, rest);
      } finally {
        inPoolQuery -= 1;
      }
    };
    (timedPoolQuery as unknown as { [WRAPPED]: boolean })[WRAPPED] = true;
    source.query = timedPoolQuery;
    patched.push({ target: source, method: 'query', original: query });
    const connect = source.connect as AnyFunction;
    const gate = (self: unknown): boolean =>
      (self as Record<symbol, unknown>)[USER_CHECKOUT] === true;
    // Every way a checked-out client goes back (client.release, connect's `done`) clears the
    // mark, so a client pool.query takes from the pool later is never timed twice.
    const clearing = (client: Record<string, unknown>, release: AnyFunction) =>
      function (this: unknown, ...args: unknown[]): unknown {
        (client as Record<symbol, unknown>)[USER_CHECKOUT] = false;
        return release.apply(this, args);
      };
    const adopt = (client: Record<string, unknown>): void => {
      (client as Record<symbol, unknown>)[USER_CHECKOUT] = true;
      wrapQuery(client, 'query', gate);
      const release = client.release;
      if (typeof release === 'function') client.release = clearing(client, release as AnyFunction);
    };
    const connectWrapper = function (this: unknown, cb?: unknown): unknown {
      // pool.query's own checkout, or our EXPLAIN's: left as it is.
      if (inPoolQuery !== 0 || internal.getStore() === true)
        // biome-ignore lint/complexity/noArguments: forwarded unchanged
        return connect.apply(this, arguments as unknown as unknown[]);
      if (typeof cb === 'function') {
        return connect.call(
          this,
          (error: unknown, client: Record<string, unknown> | undefined, done: unknown) => {
            if (client === undefined || error != null)
              return (cb as AnyFunction)(error, client, done);
            adopt(client);
            return (cb as AnyFunction)(
              error,
              client,
              typeof done === 'function' ? clearing(client, done as AnyFunction) : done,
            );
          },
        );
      }
      return (connect.call(this) as Promise<Record<string, unknown>>).then((client) => {
        adopt(client);
        return client;
      });
    };
    (connectWrapper as unknown as { [WRAPPED]: boolean })[WRAPPED] = true;
    source.connect = connectWrapper;
    patched.push({ target: source, method: 'connect', original: connect });
  } else {
    wrapQuery(source, 'query');
    if (typeof source.exec === 'function') wrapQuery(source, 'exec');
    const transaction = source.transaction as AnyFunction | undefined;
    if (
      typeof transaction === 'function' &&
      (transaction as { [WRAPPED]?: boolean })[WRAPPED] !== true
    ) {
      const wrapped = function (this: unknown, fn: unknown, ...rest: unknown[]): unknown {
        if (typeof fn !== 'function') return transaction.call(this, fn, ...rest);
        return transaction.call(
          this,
          (tx: Record<string, unknown>) => {
            wrapQuery(tx, 'query');
            if (typeof tx.exec === 'function') wrapQuery(tx, 'exec');
            return (fn as AnyFunction)(tx);
          },
          ...rest,
        );
      };
      (wrapped as unknown as { [WRAPPED]: boolean })[WRAPPED] = true;
      source.transaction = wrapped;
      patched.push({ target: source, method: 'transaction', original: transaction });
    }
  }

  return {
    stop() {
      for (const { target: holder, method, original } of patched.splice(0).reverse()) {
        if ((holder[method] as { [WRAPPED]?: boolean } | undefined)?.[WRAPPED] === true)
          holder[method] = original;
      }
    },
    get cachedFingerprints() {
      return cache.size;
    },
  };
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

interface Explainer {
  consider(
    text: string,
    values: unknown,
    fp: QueryFingerprint,
    request: RequestRef,
    context: RequestContext | undefined,
  ): void;
}

interface PlanNode {
  readonly 'Node Type'?: string;
  readonly 'Relation Name'?: string;
  readonly Schema?: string;
  readonly Filter?: string;
  readonly Plans?: readonly PlanNode[];
}

/** Columns named before a comparison in a plan's Filter, e.g. `((email)::text = $1)` -> email. */
export function filterColumns(filter: string): string[] {
  const columns: string[] = [];
  const pattern =
    /(?:^|[(\s])(?:(?:"(?:[^"]|"")+"|[a-z_][a-z0-9_$]*)\.)?("(?:[^"]|"")+"|[a-z_][a-z0-9_$]*)\)?(?:::[a-z_ ]+(?:\[\])?\)?)?\s*(?:=|<>|!=|<=|>=|<|>|~~\*?|!~~|IS\s+(?:NOT\s+)?NULL|@>|<@)/gi;
  for (let match = pattern.exec(filter); match !== null; match = pattern.exec(filter)) {
    const name = (match[1] as string).replace(/^"|"$/g, '');
    if (!/^(?:and|or|not|any|all)$/i.test(name) && !columns.includes(name)) columns.push(name);
  }
  return columns;
}

function createExplainer(
  options: ExplainOptions,
  where: SqlSource,
  check: ReturnType<typeof optionChecks>,
  emit: (event: DbEvent, context: RequestContext | undefined) => void,
): Explainer {
  const intervalMs = check.duration('explain.intervalMs', options.intervalMs, 300_000);
  const maxPerMinute = check.integer('explain.maxPerMinute', options.maxPerMinute, 10, { min: 1 });
  const largeTableRows = check.integer('explain.largeTableRows', options.largeTableRows, 10_000, {
    min: 0,
  });
  const timeoutMs = check.duration('explain.timeoutMs', options.timeoutMs, 2000, { min: 1 });
  if (
    typeof where !== 'object' ||
    where === null ||
    typeof (where as SqlQueryable).query !== 'function'
  ) {
    check.fail('explain.client', 'a pg Pool, a PGlite instance or a SqlClient', where);
  }
  let client: SqlClient | undefined;
  const last = new Map<string, number>();
  let windowStart = 0;
  let inWindow = 0;
  let running = false;
  const run = async (
    text: string,
    values: unknown,
    fp: QueryFingerprint,
    request: RequestRef,
    context: RequestContext | undefined,
  ): Promise<void> => {
    client ??= toSqlClient(where);
    const db = client;
    const findings = await db.transaction(async (tx) => {
      await tx.query('SET TRANSACTION READ ONLY');
      await tx.query(`SET LOCAL statement_timeout = ${Math.round(timeoutMs)}`);
      const explained = Array.isArray(values)
        ? await tx.query(`EXPLAIN (FORMAT JSON, VERBOSE) ${text}`, values as unknown[])
        : await tx.query(`EXPLAIN (FORMAT JSON, VERBOSE) ${text}`);
      const raw = explained.rows[0]?.['QUERY PLAN'];
      const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw) as
        | Array<{ Plan?: PlanNode }>
        | undefined;
      const scans: PlanNode[] = [];
      const walk = (node: PlanNode | undefined): void => {
        if (node === undefined) return;
        if (node['Node Type'] === 'Seq Scan' && node['Relation Name'] !== undefined)
          scans.push(node);
        for (const child of node.Plans ?? []) walk(child);
      };
      walk(plan?.[0]?.Plan);
      const out: Array<{
        table: string;
        rows: number;
        filter: string | undefined;
        suggestion: string | undefined;
      }> = [];
      for (const scan of scans) {
        const schema = scan.Schema;
        const name = scan['Relation Name'] as string;
        const size = await firstRow<{ rows: string | number }>(
          tx,
          `SELECT (CASE WHEN c.reltuples >= 0 THEN c.reltuples ELSE pg_relation_size(c.oid) / 100 END)::bigint AS rows
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relname = $1 AND ($2::text IS NULL OR n.nspname = $2)
            ORDER BY (n.nspname = current_schema()) DESC LIMIT 1`,
          [name, schema ?? null],
        );
        const rows = Number(size?.rows ?? 0);
        if (rows < largeTableRows) continue;
        const filter = scan.Filter;
        const columns = filter === undefined ? [] : filterColumns(filter);
        let known = columns;
        if (columns.length > 0) {
          const attributes = await tx.query(
            `SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE c.relname = $1 AND ($2::text IS NULL OR n.nspname = $2) AND a.attnum > 0 AND NOT a.attisdropped`,
            [name, schema ?? null],
          );
          const names = new Set(attributes.rows.map((row) => String(row.attname)));
          known = columns.filter((column) => names.has(column));
        }
        const table = schema === undefined ? name : `${schema}.${name}`;
        const quote = (id: string): string =>
          /^[a-z_][a-z0-9_]*$/.test(id) ? id : `"${id.replace(/"/g, '""')}"`;
        out.push({
          table,
          rows,
          filter,
          suggestion:
            known.length === 0
              ? undefined
              : `CREATE INDEX CONCURRENTLY ON ${schema === undefined ? quote(name) : `${quote(schema)}.${quote(name)}`} (${known.map(quote).join(', ')})`,
        });
      }
      return out;
    });
    for (const finding of findings) {
      emit(
        {
          kind: 'seq-scan',
          fingerprint: fp.text,
          fingerprintId: fp.id,
          table: finding.table,
          estimatedRows: finding.rows,
          filter: finding.filter,
          suggestion: finding.suggestion,
          ...request,
        },
        context,
      );
    }
  };
  return {
    consider(text, values, fp, request, context) {
      const now = Date.now();
      if (running) return;
      if ((last.get(fp.id) ?? Number.NEGATIVE_INFINITY) > now - intervalMs) return;
      if (now - windowStart >= 60_000) {
        windowStart = now;
        inWindow = 0;
      }
      if (inWindow >= maxPerMinute) return;
      inWindow += 1;
      last.set(fp.id, now);
      if (last.size > FINGERPRINT_CACHE) last.delete(last.keys().next().value as string);
      running = true;
      // Outside the request: its queries are not the request's, and never recorded.
      internal.run(true, () => {
        run(text, values, fp, request, context)
          .catch(() => {})
          .finally(() => {
            running = false;
          });
      });
    },
  };
}
