import {
  configFlagSource,
  createFlags,
  type FlagSource,
  fileSource,
  redisFlagStore,
} from '@prod/config';
import { err, type HttpRequest, ok, type Part, type ProdError, type Result } from '@prod/core';
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
import { tracingPart } from '@prod/tracing';
import { Redis } from 'ioredis';
import { Counter } from 'prom-client';
import type { ServiceConfig, ServiceSettings } from './config.js';
import { NOTES_FLAG_DECLARATIONS, type NotesFlags } from './notes-flags.js';
import { notesPart } from './notes-part.js';
import type { NotesStore } from './notes-store.js';
import { openStore } from './open-store.js';
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
  readonly store: NotesStore;
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

// Probes and scrapes arrive every few seconds: no span and no log line for them.
const QUIET_PATHS = new Set(['/health/live', '/health/ready', '/health/startup', '/metrics']);
const quiet = (request: HttpRequest): boolean => QUIET_PATHS.has(request.path);

interface RedisConnections {
  /** Commands: the readiness check and the flag store. */
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

async function runHooks(hooks: readonly ShutdownHook[]): Promise<void> {
  for (const hook of [...hooks].reverse()) {
    await Promise.resolve(hook.close(AbortSignal.timeout(5000))).catch(() => {});
  }
}

/**
 * Builds the whole service from its configuration: the logger, tracing (OpenTelemetry SDK),
 * metrics, health checks (Redis and PostgreSQL or PGlite when used; event loop and heap),
 * the error aggregator, the notes store, the feature flags (counted on
 * `feature_flag_evaluations_total`), the runtime configuration file when one is set, and the
 * parts that serve them over HTTP:
 *
 * `tracing` -> `request-logging` -> `metrics` (`GET /metrics`) -> `health`
 * (`/health/live|ready|startup`) -> `notes` (`/v1/notes...`) -> `errors`.
 *
 * @returns `Ok(Service)`, or `Err` when the store cannot be opened (`UNAVAILABLE` for a
 * PostgreSQL that does not answer) or the runtime file cannot be read
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

  const checks: HealthCheck[] = [eventLoopLagCheck(), heapCheck()];
  const opened = await openStore(config, logger);
  if (!opened.ok) {
    await runHooks(hooks);
    return err(opened.error);
  }
  checks.push(...opened.value.checks);
  hooks.push(...opened.value.hooks);
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
  const metrics = createMetrics({
    defaultLabels: { service: config.serviceName },
    exemplars: true,
  });

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

  const store = opened.value.store;
  const parts: Part[] = [
    tracingPart({ ignore: quiet }),
    requestLoggingPart({ logger, ignore: quiet, headers: ['user-agent'] }),
    metricsPart(metrics),
    healthPart(health, {
      detail: config.healthToken === undefined ? false : bearerToken(config.healthToken.reveal()),
    }),
    notesPart(store, { flags: liveFlags }),
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
