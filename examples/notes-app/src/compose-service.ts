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
import { createLogger, type Logger, type LoggerOptions, requestLoggingPart } from '@prod/logger';
import { createMetrics, type Metrics, metricsPart } from '@prod/metrics';
import { tracingPart } from '@prod/tracing';
import { Redis } from 'ioredis';
import type { ServiceConfig } from './config.js';
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

async function redisClient(
  url: string,
  logger: Logger,
): Promise<{ checks: HealthCheck[]; hook: ShutdownHook }> {
  const redis = new Redis(url, {
    // Fail commands at once while disconnected instead of queueing them (a PING would hang).
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
  });
  const log = logger.module('redis');
  // Without a listener an unreachable Redis would crash the process; reconnection goes on.
  redis.on('error', (error) => log.warn({ err: error }, 'redis connection error'));
  // Give the first connection a moment, so the first readiness run does not fail for nothing;
  // a Redis that is down at start leaves the service up and not ready.
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 2000);
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return {
    checks: [redisCheck(redis, { interval: 5000 })],
    hook: {
      name: 'redis',
      close: async () => {
        await redis.quit().catch(() => redis.disconnect());
      },
    },
  };
}

async function runHooks(hooks: readonly ShutdownHook[]): Promise<void> {
  for (const hook of [...hooks].reverse()) {
    await Promise.resolve(hook.close(AbortSignal.timeout(5000))).catch(() => {});
  }
}

/**
 * Builds the whole service from its configuration: the logger, tracing (OpenTelemetry SDK),
 * metrics, health checks (Redis and PostgreSQL or PGlite when used; event loop and heap),
 * the error aggregator, the notes store, and the parts that serve them over HTTP:
 *
 * `tracing` -> `request-logging` -> `metrics` (`GET /metrics`) -> `health`
 * (`/health/live|ready|startup`) -> `notes` (`/v1/notes...`) -> `errors`.
 *
 * @returns `Ok(Service)`, or `Err` when the store cannot be opened (`UNAVAILABLE` for a
 * PostgreSQL that does not answer); nothing is left open then.
 * @example
 * const service = await composeService(config);
 * if (!service.ok) throw service.error;
 * mountExpress(app, { parts: service.value.parts, bodyLimit: service.value.bodyLimit });
 */
export async function composeService(
  config: ServiceConfig,
  options: ComposeOptions = {},
): Promise<Result<Service, ProdError>> {
  const logger = createLogger({
    name: config.serviceName,
    level: config.logLevel,
    ...(options.logDestination === undefined ? {} : { destination: options.logDestination }),
  });
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

  const checks: HealthCheck[] = [eventLoopLagCheck(), heapCheck()];
  const opened = await openStore(config, logger);
  if (!opened.ok) {
    await runHooks(hooks);
    return err(opened.error);
  }
  checks.push(...opened.value.checks);
  hooks.push(...opened.value.hooks);
  if (config.redisUrl !== undefined) {
    const redis = await redisClient(config.redisUrl, logger);
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
  const store = opened.value.store;
  const parts: Part[] = [
    tracingPart({ ignore: quiet }),
    requestLoggingPart({ logger, ignore: quiet, headers: ['user-agent'] }),
    metricsPart(metrics),
    healthPart(health, {
      detail: config.healthToken === undefined ? false : bearerToken(config.healthToken),
    }),
    notesPart(store),
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
