import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ContextLogger, ProdError } from '@prod/core';
import { createHealth, type Health } from './create-health.js';
import { HealthErrors } from './errors.js';
import { describeThrown } from './internal/safe-output.js';

/**
 * The part of a Node `http.Server` / `https.Server` the drain needs. Express, Fastify
 * (`app.server`) and Koa all run on one, so shutdown works below any framework.
 */
export interface DrainableServer {
  close(callback?: (error?: Error) => void): unknown;
  closeIdleConnections?(): void;
  closeAllConnections?(): void;
  prependListener(
    event: 'request',
    listener: (request: IncomingMessage, response: ServerResponse) => void,
  ): unknown;
  removeListener(
    event: 'request',
    listener: (request: IncomingMessage, response: ServerResponse) => void,
  ): unknown;
  readonly listening: boolean;
}

/** A cleanup step run after the drain, such as closing a pool. */
export interface ShutdownHook {
  /** Shown in logs and in the report. */
  readonly name: string;
  /** Does the cleanup. `signal` aborts when the hook's timeout passes. */
  readonly close: (signal: AbortSignal) => unknown;
  /** Milliseconds this hook may take. Default: the `hookTimeout` option. */
  readonly timeout?: number;
}

/** Where shutdown logs (pino fits). */
export type ShutdownLogger = Pick<ContextLogger, 'info' | 'warn' | 'error'>;

/** Options of {@link onShutdown}. */
export interface ShutdownOptions {
  /** The health instance whose readiness fails on shutdown. Default: a private one. */
  readonly health?: Health;
  /** Signals that start the shutdown. Default `['SIGTERM', 'SIGINT']`; `[]` for none. */
  readonly signals?: readonly NodeJS.Signals[];
  /**
   * How long to keep serving, with readiness failing, before closing the listeners, so
   * load balancers stop routing here first. Default 5000 ms when `KUBERNETES_SERVICE_HOST`
   * is set, else 0. Keep `preStopDelay + drainTimeout + hook timeouts` under
   * `terminationGracePeriodSeconds`.
   */
  readonly preStopDelay?: number;
  /** How long in-flight requests and beacons may take once the listeners close. Default 10000 ms. */
  readonly drainTimeout?: number;
  /** Default timeout of each hook. Default 5000 ms. */
  readonly hookTimeout?: number;
  /** Cleanup hooks in registration order; they run in reverse (LIFO). */
  readonly hooks?: readonly ShutdownHook[];
  /** Ends the process. Default `process.exit`; `false` to only report. */
  readonly exit?: ((code: number) => void) | false;
  readonly logger?: ShutdownLogger;
}

/** How one hook ended. */
export interface HookReport {
  readonly name: string;
  readonly status: 'ok' | 'timeout' | 'failed';
  readonly durationMs: number;
  /** `HEALTH_HOOK_TIMEOUT` or `HEALTH_HOOK_FAILED`. */
  readonly error?: ProdError;
}

/** What a shutdown did. */
export interface ShutdownReport {
  /** The signal or reason that started it. */
  readonly reason: string;
  /** 0 when everything drained and every hook succeeded, else 1. */
  readonly exitCode: 0 | 1;
  /** False when the drain deadline passed with work still in flight. */
  readonly drained: boolean;
  /** Beacons still active at the drain deadline. */
  readonly abandoned: readonly string[];
  /** `HEALTH_DRAIN_TIMEOUT` when the drain deadline passed. */
  readonly error?: ProdError;
  /** Hooks in the order they ran. */
  readonly hooks: readonly HookReport[];
  readonly durationMs: number;
}

/** The phase of a shutdown. */
export type ShutdownPhase = 'running' | 'stopping' | 'draining' | 'cleaning' | 'done';

/** Controls the graceful shutdown installed by {@link onShutdown}. */
export interface ShutdownController {
  readonly health: Health;
  readonly phase: ShutdownPhase;
  /** Adds a cleanup hook; hooks run last-registered first. */
  register(hook: ShutdownHook): void;
  /** Starts the shutdown (as a signal would). Idempotent: returns the same promise. */
  shutdown(reason?: string): Promise<ShutdownReport>;
  /** Removes the signal handlers and request listeners (tests, hot reload). */
  dispose(): void;
}

const DEFAULT_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/**
 * Installs a graceful shutdown on one or more HTTP servers.
 *
 * On the first signal: readiness fails at once (liveness stays 200); after
 * `preStopDelay` the listeners close; idle keep-alive sockets close and responses still
 * in flight get `Connection: close`; in-flight requests and beacons get `drainTimeout`
 * to finish; then the hooks run in reverse registration order, each with its own
 * timeout; then the process exits 0 (1 if the drain deadline passed or a hook failed).
 * A second signal exits 1 at once.
 *
 * @example
 * onShutdown(server, {
 *   health,
 *   hooks: [
 *     { name: 'postgres', close: () => pool.end() },
 *     { name: 'redis', close: () => redis.quit() },
 *     { name: 'queue', close: () => worker.close() },
 *   ],
 * });
 */
export function onShutdown(
  servers: DrainableServer | readonly DrainableServer[],
  options: ShutdownOptions = {},
): ShutdownController {
  const list: readonly DrainableServer[] = Array.isArray(servers)
    ? (servers as readonly DrainableServer[])
    : [servers as DrainableServer];
  const health = options.health ?? createHealth({ autoStart: false });
  const signals = options.signals ?? DEFAULT_SIGNALS;
  const preStopDelay =
    options.preStopDelay ?? (process.env.KUBERNETES_SERVICE_HOST === undefined ? 0 : 5000);
  const drainTimeout = options.drainTimeout ?? 10_000;
  const hookTimeout = options.hookTimeout ?? 5000;
  const exit =
    options.exit === false ? undefined : (options.exit ?? ((code) => process.exit(code)));
  const logger = options.logger;
  const hooks: ShutdownHook[] = [];
  for (const hook of options.hooks ?? []) hooks.push(validHook(hook));
  const live = new Set<ServerResponse>();
  let phase: ShutdownPhase = 'running';
  let running: Promise<ShutdownReport> | undefined;

  const markClose = (response: ServerResponse): void => {
    if (!response.headersSent) response.setHeader('connection', 'close');
    response.shouldKeepAlive = false;
  };

  const onRequest = (_request: IncomingMessage, response: ServerResponse): void => {
    const beacon = health.beacon('http request');
    live.add(response);
    if (phase !== 'running') markClose(response);
    response.once('close', () => {
      live.delete(response);
      beacon.release();
      if (phase === 'draining') for (const server of list) server.closeIdleConnections?.();
    });
  };
  for (const server of list) server.prependListener('request', onRequest);

  const onSignal = (signal: NodeJS.Signals): void => {
    if (running === undefined) {
      void controller.shutdown(signal);
      return;
    }
    logger?.error({ signal }, 'shutdown: second signal, exiting now');
    exit?.(1);
  };
  for (const signal of signals) process.on(signal, onSignal);

  const runHook = async (hook: ShutdownHook): Promise<HookReport> => {
    const timeout = hook.timeout ?? hookTimeout;
    const abort = new AbortController();
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => {
        abort.abort(HealthErrors.HEALTH_HOOK_TIMEOUT({ captureStack: false }));
        resolve('timeout');
      }, timeout);
    });
    try {
      const attempt = Promise.resolve().then(() => hook.close(abort.signal));
      attempt.catch(() => {});
      const outcome = await Promise.race([attempt, timedOut]);
      const durationMs = Math.round(performance.now() - started);
      if (outcome === 'timeout') {
        logger?.error({ hook: hook.name, timeout }, 'shutdown: hook timed out');
        return {
          name: hook.name,
          status: 'timeout',
          durationMs,
          error: HealthErrors.HEALTH_HOOK_TIMEOUT({
            message: `hook "${hook.name}" did not finish within ${timeout} ms`,
            captureStack: false,
          }),
        };
      }
      return { name: hook.name, status: 'ok', durationMs };
    } catch (error) {
      logger?.error({ hook: hook.name, err: error }, 'shutdown: hook failed');
      return {
        name: hook.name,
        status: 'failed',
        durationMs: Math.round(performance.now() - started),
        error: HealthErrors.HEALTH_HOOK_FAILED({
          message: `hook "${hook.name}" failed: ${describeThrown(error)}`,
          cause: error,
          captureStack: false,
        }),
      };
    } finally {
      clearTimeout(timer);
    }
  };

  const sequence = async (reason: string): Promise<ShutdownReport> => {
    const started = performance.now();
    phase = 'stopping';
    health.beginShutdown();
    for (const response of live) markClose(response);
    logger?.info({ reason, preStopDelay }, 'shutdown: readiness failing');
    if (preStopDelay > 0) await sleep(preStopDelay);

    phase = 'draining';
    const closed = list.map(
      (server) => new Promise<void>((resolve) => server.close(() => resolve())),
    );
    for (const server of list) server.closeIdleConnections?.();
    logger?.info({ inFlight: health.inFlight, drainTimeout }, 'shutdown: draining');
    const drained = await within(health.whenIdle(), drainTimeout);
    const abandoned = drained ? [] : health.beacons();
    if (drained) {
      for (const server of list) server.closeIdleConnections?.();
      await within(Promise.all(closed), 1000);
    } else {
      logger?.warn({ abandoned }, 'shutdown: drain deadline passed');
    }
    for (const server of list) server.closeAllConnections?.();

    phase = 'cleaning';
    const reports: HookReport[] = [];
    for (const hook of [...hooks].reverse()) reports.push(await runHook(hook));
    health.stop();
    phase = 'done';
    const exitCode: 0 | 1 = drained && reports.every((hook) => hook.status === 'ok') ? 0 : 1;
    const report: ShutdownReport = {
      reason,
      exitCode,
      drained,
      abandoned,
      ...(drained
        ? {}
        : {
            error: HealthErrors.HEALTH_DRAIN_TIMEOUT({
              message: `${abandoned.length} request(s) or beacon(s) still active after ${drainTimeout} ms`,
              details: { abandoned },
              captureStack: false,
            }),
          }),
      hooks: reports,
      durationMs: Math.round(performance.now() - started),
    };
    logger?.info({ exitCode, durationMs: report.durationMs }, 'shutdown: done');
    return report;
  };

  const controller: ShutdownController = {
    health,
    get phase() {
      return phase;
    },
    register(hook) {
      hooks.push(validHook(hook));
    },
    shutdown(reason = 'shutdown') {
      running ??= sequence(String(reason)).then(
        (report) => {
          exit?.(report.exitCode);
          return report;
        },
        (error: unknown) => {
          logger?.error({ err: error }, 'shutdown: failed');
          exit?.(1);
          throw error;
        },
      );
      return running;
    },
    dispose() {
      for (const signal of signals) process.removeListener(signal, onSignal);
      for (const server of list) server.removeListener('request', onRequest);
    },
  };
  return controller;
}

function validHook(hook: ShutdownHook): ShutdownHook {
  if (typeof hook?.close !== 'function' || typeof hook.name !== 'string') {
    throw new TypeError('onShutdown: a hook needs a name and a close function');
  }
  const timeout = hook.timeout;
  if (timeout !== undefined && (!Number.isFinite(timeout) || timeout < 0)) {
    throw new TypeError(`onShutdown: hook "${hook.name}" has an invalid timeout`);
  }
  return hook;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves true when `promise` settles within `ms`, false otherwise. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
