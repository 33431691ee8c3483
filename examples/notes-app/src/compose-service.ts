import {
  type AuditLog,
  type AuditSink,
  type SqlClient as AuditSqlClient,
  auditPart,
  createAuditLog,
  memorySink,
  postgresSink,
} from '@prod/audit';
import {
  type Cache,
  type CacheStore,
  redisStore as cacheRedisStore,
  createCache,
  httpCachePart,
} from '@prod/cache';
import {
  configFlagSource,
  createFlags,
  type FlagSource,
  fileSource,
  redisFlagStore,
} from '@prod/config';
import { err, type HttpRequest, ok, type Part, type ProdError, type Result } from '@prod/core';
import { type MigrateReport, type SqlQueryable, toSqlClient } from '@prod/db';
import { ErrorAggregator, errorPart, logSink } from '@prod/errors';
import {
  bearerToken,
  createHealth,
  eventLoopLagCheck,
  type Health,
  type HealthCheck,
  healthPart,
  heapCheck,
  redisCheck,
  type ShutdownHook,
} from '@prod/health';
import {
  createLogger,
  type Logger,
  type LoggerOptions,
  parseLevelSpec,
  requestLoggingPart,
} from '@prod/logger';
import { createMetrics, type Metrics, metricsPart } from '@prod/metrics';
import {
  createOutbox,
  createQueue,
  memoryDriver,
  type Outbox,
  type Queue,
  type QueueDriver,
  queuePart,
} from '@prod/queue';
import {
  createRateLimiter,
  type RateLimiter,
  memoryStore as rateLimitMemoryStore,
  rateLimitPart,
  redisStore as rateLimitRedisStore,
} from '@prod/ratelimit';
import {
  type ApiKeys,
  authPart,
  corsPart,
  type RouteAuth,
  securityHeadersPart,
} from '@prod/security';
import { tracingPart } from '@prod/tracing';
import { Redis } from 'ioredis';
import { Counter } from 'prom-client';
import { enqueuingNotesStore, outboxNotesStore } from './announcing-notes-store.js';
import { cachedNotesStore } from './cached-notes-store.js';
import type { ServiceConfig, ServiceSettings } from './config.js';
import { encryptedNotesStore } from './encrypted-notes-store.js';
import { type NoteCreatedJob, noteCreatedJob } from './note-jobs.js';
import { NOTES_FLAG_DECLARATIONS, type NotesFlags } from './notes-flags.js';
import { notesWriteTiers } from './notes-limits.js';
import { notesPart, QUEUES_SCOPE } from './notes-part.js';
import type { NotesStore } from './notes-store.js';
import { openStore } from './open-store.js';
import { serviceApiKeys } from './service-api-keys.js';
import { serviceKeys } from './service-keys.js';
import { startTracing } from './start-tracing.js';

/** What {@link composeService} may be given beyond the configuration (tests use these). */
export interface ComposeOptions {
  /** Where log lines go. Default: standard output. */
  readonly logDestination?: NonNullable<LoggerOptions['destination']>;
  /** More health checks, added after the built-in ones. */
  readonly checks?: readonly HealthCheck[];
  /** Parts of your own, mounted after the notes part and before the errors part. */
  readonly parts?: readonly Part[];
}

/** The composed service, ready to be mounted on a framework. */
export interface Service {
  readonly config: ServiceConfig;
  readonly logger: Logger;
  readonly health: Health;
  readonly metrics: Metrics;
  readonly errors: ErrorAggregator;
  /**
   * The notes store as the routes use it: note bodies encrypted (the `NOTES_KEYS` keyring),
   * notes read by id through {@link Service.cache}, in memory, PGlite or PostgreSQL.
   */
  readonly store: NotesStore;
  /**
   * The notes read by id (@prod/cache): an in-process LRU, with Redis behind it when
   * `REDIS_URL` is set. It holds what the database holds: bodies as ciphertext.
   */
  readonly cache: Cache;
  /**
   * The background jobs (@prod/queue): `notes.created` for every note created, in memory, or
   * on BullMQ when `REDIS_URL` is set. `GET /v1/queues` lists it (scope `queues:read`).
   */
  readonly queue: Queue<NoteCreatedJob>;
  /**
   * The outbox of a SQL store (table `prod_queue_outbox`), where `notes.created` is written in
   * the note's own transaction and relayed to {@link Service.queue}; undefined in memory.
   */
  readonly outbox: Outbox<NoteCreatedJob> | undefined;
  /** The rate limiter of `POST /v1/notes` (@prod/ratelimit): in memory, or in Redis. */
  readonly limiter: RateLimiter;
  /**
   * The audit log of every write (@prod/audit): in the store's database (PostgreSQL or PGlite,
   * table `audit_log`), in memory with the memory store. `audit.verify()` checks its chain.
   */
  readonly audit: AuditLog;
  /** Where {@link Service.audit} writes: `read('default')` gives its records back. */
  readonly auditSink: AuditSink;
  /**
   * The database of a SQL store (PGlite or the pg pool), undefined for the memory store:
   * migrated at start (`NOTES_MIGRATIONS`) and instrumented (@prod/db).
   */
  readonly database: SqlQueryable | undefined;
  /** What the migrator applied at this start (undefined for the memory store). */
  readonly migrated: MigrateReport | undefined;
  /**
   * The API keys (@prod/security): writes need one with the `notes:write` scope. Keys live in
   * the store's database (table `api_keys`), in memory with the memory store.
   */
  readonly apiKeys: ApiKeys;
  /**
   * The demo key issued at this start when `NOTES_API_KEY` is unset (outside production): the
   * start banner prints it as `API key for writes: <key>`.
   */
  readonly demoApiKey: string | undefined;
  /**
   * The feature flags (`notes.search`), from the Redis flag store when `REDIS_URL` is set,
   * else from the configuration (`NOTES_FLAGS`, the runtime file).
   */
  readonly flags: NotesFlags;
  /** Mount these, in this order, with @prod/express, @prod/fastify or @prod/koa. */
  readonly parts: readonly Part[];
  /** The largest JSON body the adapter should accept. */
  readonly bodyLimit: string;
  /** Cleanup for `onShutdown({ hooks })`, in registration order (they run in reverse). */
  readonly hooks: readonly ShutdownHook[];
  /** Runs the hooks, newest first, without a server: for a start that failed half-way. */
  close(): Promise<void>;
}

// Answers a browser script may read besides the CORS-safelisted ones.
const EXPOSED_HEADERS = [
  'etag',
  'location',
  'ratelimit',
  'ratelimit-policy',
  'retry-after',
  'x-request-id',
];
// Request headers a script may send: the API key, conditional reads, tracing, the flag hint.
const ALLOWED_HEADERS = [
  'authorization',
  'content-type',
  'if-none-match',
  'traceparent',
  'tracestate',
  'x-api-key',
  'x-request-id',
  'x-user-id',
];
// The health detail view takes `Authorization: Bearer <HEALTH_TOKEN>`: not an API key, so the
// auth part does not read credentials there. Elsewhere the routes declare what they need.
const PROBES: RouteAuth = { auth: 'none' };
// The queue listing names job failures: an operator's key only (queuePart has no metadata).
const QUEUES_PATH = '/v1/queues';
const QUEUES: RouteAuth = { auth: 'required', scopes: [QUEUES_SCOPE] };
const probeAuth = (request: HttpRequest): RouteAuth | undefined => {
  if (request.path.startsWith('/health/')) return PROBES;
  return request.path === QUEUES_PATH ? QUEUES : undefined;
};

// Probes and scrapes arrive every few seconds: no span and no log line for them.
const QUIET_PATHS = new Set(['/health/live', '/health/ready', '/health/startup', '/metrics']);
const quiet = (request: HttpRequest): boolean => QUIET_PATHS.has(request.path);

interface RedisConnections {
  /** Commands: the readiness check, the flag store, the cache and the rate limiter. */
  readonly client: Redis;
  /** Pub/sub: the flag store hears of changes here. */
  readonly subscriber: Redis;
  readonly checks: HealthCheck[];
  readonly hook: ShutdownHook;
}

/** Resolves once `redis` is ready, or after `ms` (a Redis down at start is not waited for). */
function readyWithin(redis: Redis, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function redisConnections(url: string, logger: Logger): Promise<RedisConnections> {
  const client = new Redis(url, {
    // Fail commands at once while disconnected instead of queueing them (a PING would hang).
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
  });
  // Made here rather than by the flag store, so it is connected before the store subscribes
  // (without an offline queue, a subscribe sent while connecting fails).
  const subscriber = client.duplicate();
  const log = logger.module('redis');
  // Without a listener an unreachable Redis would crash the process; reconnection goes on.
  client.on('error', (error) => log.warn({ err: error }, 'redis connection error'));
  subscriber.on('error', (error) => log.debug({ err: error }, 'redis subscriber error'));
  // Give the first connections a moment, so the first readiness run does not fail for nothing;
  // a Redis that is down at start leaves the service up and not ready.
  await Promise.all([readyWithin(client, 2000), readyWithin(subscriber, 2000)]);
  return {
    client,
    subscriber,
    checks: [redisCheck(client, { interval: 5000 })],
    hook: {
      name: 'redis',
      close: async () => {
        await Promise.all(
          [client, subscriber].map((redis) => redis.quit().catch(() => redis.disconnect())),
        );
      },
    },
  };
}

/**
 * Makes the logger follow `logLevel` when a runtime source changes it. `setLevel(spec)` keeps
 * the module levels the new spec does not name, so those of the old one are dropped first.
 */
function followLogLevel(settings: ServiceSettings, logger: Logger): () => void {
  const log = logger.module('config');
  return settings.onChange('logLevel', (level, previous) => {
    const before = parseLevelSpec(previous);
    const after = parseLevelSpec(level);
    if (before.ok && after.ok) {
      for (const module of before.value.modules.keys()) {
        if (!after.value.modules.has(module)) logger.setLevel(module, null);
      }
    }
    const applied = logger.setLevel(level);
    if (applied.ok) log.info({ logLevel: level, previous }, 'log level changed');
    else log.warn({ err: applied.error, logLevel: level }, 'log level refused');
  });
}

/** `a`, `a and b`, `a, b and c`. */
function listed(names: readonly string[]): string {
  return names.length < 2
    ? (names[0] ?? '')
    : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/** BullMQ on the service's Redis when `REDIS_URL` is set, else in memory. */
async function queueDriver(config: ServiceConfig, redisKeys: string): Promise<QueueDriver> {
  if (config.redisUrl === undefined) return memoryDriver();
  // Loaded only here: a service on the memory driver never loads BullMQ.
  const { bullmqDriver } = await import('@prod/queue/bullmq');
  return bullmqDriver({ connection: config.redisUrl.reveal(), prefix: `${redisKeys}queue` });
}

async function runHooks(hooks: readonly ShutdownHook[]): Promise<void> {
  for (const hook of [...hooks].reverse()) {
    await Promise.resolve(hook.close(AbortSignal.timeout(5000))).catch(() => {});
  }
}

/**
 * Builds the whole service from its configuration: the logger, tracing (OpenTelemetry SDK),
 * metrics, health checks (Redis and PostgreSQL or PGlite when used; event loop and heap),
 * the error aggregator, the keys (`NOTES_KEYS`, `AUDIT_SIGNING_KEY`, `API_KEY_SECRET`,
 * ephemeral with one warning where the configuration allows), the notes store (a SQL one
 * migrated and instrumented by @prod/db; bodies encrypted, reads by id cached), the API keys
 * (`NOTES_API_KEY`, or a demo key), the audit log, the rate limiter, the background jobs
 * (`notes.created` for every note: in memory, or BullMQ with `REDIS_URL`; written through the
 * outbox in the note's transaction on a SQL store), the feature flags (counted
 * on `feature_flag_evaluations_total`), the runtime configuration file when one is set, and
 * the parts that serve them over HTTP:
 *
 * `security-headers` -> `cors` -> `tracing` -> `request-logging` -> `metrics` (`GET /metrics`)
 * -> `health` (`/health/live|ready|startup`) -> `auth` -> `audit` -> `ratelimit` ->
 * `http-cache` -> `notes` (`/v1/notes...`, `/openapi.json`, `/docs`) -> `@prod/queue`
 * (`GET /v1/queues`, scope `queues:read`) -> your parts -> `errors`.
 *
 * @returns `Ok(Service)`, or `Err` when the store cannot be opened or migrated
 * (`DB_UNAVAILABLE` for a PostgreSQL that does not answer, `DB_MIGRATION_*`), the API key of
 * `NOTES_API_KEY` cannot be registered, or the runtime file cannot be read
 * (`CONFIG_SOURCE_FAILED`); nothing is left open then. A flag store that does not answer at
 * start does not stop it: the flags serve their defaults until it does.
 * @example
 * const service = await composeService(config);
 * if (!service.ok) throw service.error;
 * mountExpress(app, { parts: service.value.parts, bodyLimit: service.value.bodyLimit });
 */
export async function composeService(
  config: ServiceConfig,
  options: ComposeOptions = {},
): Promise<Result<Service, ProdError>> {
  const { settings } = config;
  const logger = createLogger({
    name: config.serviceName,
    level: config.logLevel,
    ...(options.logDestination === undefined ? {} : { destination: options.logDestination }),
  });
  const configLog = logger.module('config');
  // Flushed, not closed: onShutdown still logs its last line after the hooks.
  const flushLogs = (): Promise<void> => new Promise((resolve) => logger.flush(() => resolve()));
  const hooks: ShutdownHook[] = [{ name: 'logger', close: flushLogs }];
  const tracing = startTracing({
    serviceName: config.serviceName,
    otlpEndpoint: config.otlpEndpoint,
  });
  hooks.push({ name: 'tracing', close: () => tracing.flush() });

  const errors = new ErrorAggregator({ sinks: [logSink({ logger: logger.module('errors') })] });
  hooks.push({ name: 'errors', close: () => errors.close() });

  // Subscribed before the runtime file is first read, so its log level applies at once.
  const unsubscribe = [
    settings.onError((error) => configLog.warn({ err: error }, 'configuration update refused')),
    followLogLevel(settings, logger),
  ];
  hooks.push({
    name: 'config',
    close: async () => {
      for (const stop of unsubscribe) stop();
      await settings.close();
    },
  });
  if (config.runtimeFile !== undefined) {
    const watched = await settings.watch(fileSource(config.runtimeFile));
    if (!watched.ok) {
      await runHooks(hooks);
      return err(watched.error);
    }
  }
  // What `pnpm run describe-config` prints: every setting, where it came from, secrets redacted.
  configLog.debug(
    { profile: settings.profile, store: config.store, configuration: settings.describe() },
    'configuration',
  );

  const keys = serviceKeys(config);
  if (!keys.ok) {
    await runHooks(hooks);
    return err(keys.error);
  }
  const { keyring, signingKey, apiKeySecret, ephemeral } = keys.value;
  if (ephemeral.length > 0) {
    configLog.warn(
      { ephemeral },
      `${listed(ephemeral)} unset: using ephemeral keys, so what they protect does not outlive this process (set them as secrets; NODE_ENV=production and NOTES_STORE=postgres require them)`,
    );
  }

  // Before the store: the SQL stores record their queries on it.
  const metrics = createMetrics({
    defaultLabels: { service: config.serviceName },
    exemplars: true,
  });
  const checks: HealthCheck[] = [eventLoopLagCheck(), heapCheck()];
  const opened = await openStore(config, logger, { metrics });
  if (!opened.ok) {
    await runHooks(hooks);
    return err(opened.error);
  }
  checks.push(...opened.value.checks);
  hooks.push(...opened.value.hooks);
  const keyed = await serviceApiKeys(config, {
    secret: apiKeySecret,
    db: opened.value.db,
    persistent: config.store === 'postgres',
  });
  if (!keyed.ok) {
    await runHooks(hooks);
    return err(keyed.error);
  }
  const { apiKeys, demoKey } = keyed.value;
  hooks.push({ name: 'api-keys', close: () => apiKeys.close() });
  const redis =
    config.redisUrl === undefined
      ? undefined
      : await redisConnections(config.redisUrl.reveal(), logger);
  if (redis !== undefined) {
    checks.push(...redis.checks);
    hooks.push(redis.hook);
  }
  checks.push(...(options.checks ?? []));

  const health = createHealth({
    serviceId: config.serviceName,
    checks,
    logger: logger.module('health'),
  });
  const redisKeys = `${config.redisKeyPrefix}${config.serviceName}:`;

  const auditSink =
    opened.value.db === undefined
      ? memorySink()
      : // @prod/audit types its client's rows as a mutable array; @prod/db's are read-only.
        postgresSink({ db: opened.value.db as unknown as AuditSqlClient });
  const auditLog = logger.module('audit');
  const audit = createAuditLog({
    sink: auditSink,
    signingKey,
    app: { service: config.serviceName },
    onError: (error) => auditLog.error({ err: error }, 'audit checkpoint failed'),
  });
  // Registered after the store: hooks run newest first, so the last checkpoint is written
  // while the database is still open.
  hooks.push({ name: 'audit', close: () => audit.close() });

  const cacheLog = logger.module('cache');
  const cacheTier: (CacheStore & { close(): Promise<void> }) | undefined =
    redis === undefined
      ? undefined
      : cacheRedisStore({ client: redis.client, prefix: `${redisKeys}cache:` });
  const cache = createCache({
    name: 'notes',
    namespace: 'notes',
    ttl: 60_000,
    // A note read in the last five minutes is still answered while the database is down.
    grace: 300_000,
    // Bounded in bytes too: a body may be 10,000 characters (40 kB as ciphertext).
    l1: { maxEntries: 5_000, maxBytes: 16 * 1024 * 1024 },
    metrics,
    ...(cacheTier === undefined ? {} : { l2: cacheTier }),
  });
  cache.on('l2Error', ({ error, operation }) =>
    cacheLog.debug({ err: error, operation }, 'cache: Redis call failed'),
  );
  cache.on('circuit', ({ from, to }) => cacheLog.warn({ from, to }, 'cache: Redis circuit'));
  hooks.push({
    name: 'cache',
    close: async () => {
      await cache.close();
      await cacheTier?.close();
    },
  });

  const limiter = createRateLimiter({
    name: 'notes',
    store:
      redis === undefined
        ? rateLimitMemoryStore()
        : rateLimitRedisStore({ client: redis.client, prefix: `${redisKeys}ratelimit:` }),
    tiers: notesWriteTiers(config.writeLimit),
    defaultTier: 'free',
    metrics,
  });
  hooks.push({ name: 'ratelimit', close: () => limiter.close() });

  // The job of a created note. Its handler reads the store below encryption and cache.
  const noteCreated = noteCreatedJob({ store: opened.value.store, logger });
  const jobLog = logger.module('jobs');
  const queue = createQueue({
    jobs: [noteCreated],
    driver: await queueDriver(config, redisKeys),
    metrics,
    logger: jobLog,
  });
  queue.on('deadLetter', ({ id, error }) =>
    jobLog.warn({ jobId: id, code: error.code }, 'job failed for good: a dead letter'),
  );
  queue.on('error', (error) => jobLog.warn({ err: error }, 'queue engine trouble'));
  queue.on('warning', (warning) => jobLog.warn({ warning }, 'queue warning'));
  // Registered after the store: the running jobs (which read it) drain before it closes.
  hooks.push(queue.shutdownHook({ name: 'queue', drainTimeoutMs: 5000 }));
  let outbox: Outbox<NoteCreatedJob> | undefined;
  let created: NotesStore;
  if (opened.value.db === undefined) {
    created = enqueuingNotesStore(opened.value.store, queue, noteCreated, (error, note) =>
      jobLog.warn({ err: error, noteId: note.id }, 'notes.created not enqueued'),
    );
  } else {
    const db = toSqlClient(opened.value.db);
    outbox = createOutbox({ queue, client: db, logger: jobLog });
    created = outboxNotesStore(
      db,
      opened.value.store.kind as 'pglite' | 'postgres',
      outbox,
      noteCreated,
    );
    // After the queue's hook: hooks run newest first, so the relay stops before the queue.
    hooks.push(outbox.shutdownHook());
  }

  const source: FlagSource =
    redis === undefined
      ? configFlagSource(settings, 'flags')
      : redisFlagStore({
          client: redis.client,
          subscriber: redis.subscriber,
          prefix: `${config.redisKeyPrefix}${config.serviceName}:flags:`,
        });
  const flagLog = logger.module('flags');
  let flags: NotesFlags | undefined;
  const evaluations = new Counter({
    name: 'feature_flag_evaluations_total',
    help: 'Feature flag evaluations, by flag, variant and reason',
    labelNames: ['flag', 'variant', 'reason'],
    registers: [metrics.registry],
    // A scrape takes the counts gathered since the last flush, so /metrics is not up to 10 s
    // behind. flush() hands them over before its first await; the read times it then sends to
    // the flag store are not waited for, so a slow Redis cannot hold a scrape.
    collect: () => {
      flags?.flush().catch((error: unknown) => flagLog.warn({ err: error }, 'flags flush failed'));
    },
  });
  flags = createFlags(NOTES_FLAG_DECLARATIONS, {
    source,
    metrics: evaluations,
    onError: (error) => flagLog.warn({ err: error }, 'feature flags'),
  });
  const ready = await flags.ready;
  if (!ready.ok)
    flagLog.warn({ err: ready.error }, 'flags serve their defaults until the store answers');
  const liveFlags = flags;
  hooks.push({ name: 'flags', close: () => liveFlags.close() });

  // Encryption outermost: the cache below it, Redis included, only ever sees ciphertext.
  const store = encryptedNotesStore(cachedNotesStore(created, cache), keyring);
  // Jobs start once the service is composed, and none starts once a shutdown has begun.
  queue.work({ stopOn: health.signal });
  outbox?.start();
  const parts: Part[] = [
    // First: their onSend runs last, so every answer carries their headers (errors, 404s,
    // refusals of the parts below included), and CORS answers preflights before anything else.
    securityHeadersPart(),
    corsPart({
      origins: config.corsOrigins,
      allowedHeaders: ALLOWED_HEADERS,
      exposedHeaders: EXPOSED_HEADERS,
    }),
    tracingPart({ ignore: quiet }),
    requestLoggingPart({ logger, ignore: quiet, headers: ['user-agent'] }),
    metricsPart(metrics),
    healthPart(health, {
      detail: config.healthToken === undefined ? false : bearerToken(config.healthToken.reveal()),
    }),
    // Before the parts that read the actor: writes need a key with notes:write (the routes'
    // metadata), reads are public; a verified key sets the actor (owner, scopes, tier, key id).
    authPart({ apiKeys, requirement: probeAuth }),
    // Records in onResponse, after the answer: who (the actor), what, the outcome.
    auditPart(audit),
    // Only the routes that declare a policy (POST /v1/notes), per verified key, by its tier:
    // probes and reads are never limited.
    rateLimitPart(limiter, { scope: 'routes' }),
    // ETags only where a route asks (GET /v1/notes/:id), so probes and /metrics are not hashed.
    httpCachePart({ etag: false }),
    notesPart(store, { flags: liveFlags, writeLimit: config.writeLimit }),
    queuePart(queue, { path: QUEUES_PATH }),
    ...(options.parts ?? []),
    errorPart({ aggregator: errors }),
  ];
  let closed: Promise<void> | undefined;
  return ok({
    config,
    logger,
    health,
    metrics,
    errors,
    store,
    cache,
    limiter,
    queue,
    outbox,
    audit,
    auditSink,
    database: opened.value.db,
    migrated: opened.value.migrated,
    apiKeys,
    demoApiKey: demoKey,
    flags: liveFlags,
    parts,
    bodyLimit: '64kb',
    hooks,
    close() {
      health.stop();
      closed ??= runHooks(hooks);
      return closed;
    },
  });
}
