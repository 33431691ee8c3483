import type { IncomingMessage, ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import { type ContextLogger, optionChecks, type ProdError, withDeadline } from '@prod/core';
import { createHealth, type Health } from './create-health.js';
import { HealthErrors } from './errors.js';
import { ConnectionDrain } from './internal/connection-drain.js';
import { describeThrown } from './internal/safe-output.js';

/**
 * The part of a Node `http.Server` / `https.Server` the drain needs. Express, Fastify
 * (`app.server`) and Koa all run on one, so shutdown works below any framework.
 */
export interface DrainableServer {
  close(callback?: (error?: Error) => void): unknown;
  closeIdleConnections?(): void;
  closeAllConnections?(): void;
  /** `connection` (or `secureConnection` on a TLS server): the drain tracks every connection. */
  on(event: 'connection' | 'secureConnection', listener: (socket: Socket) => void): unknown;
  prependListener(
    event: 'request',
    listener: (request: IncomingMessage, response: ServerResponse) => void,
  ): unknown;
  removeListener(
    event: 'request',
    listener: (request: IncomingMessage, response: ServerResponse) => void,
  ): unknown;
  removeListener(
    event: 'connection' | 'secureConnection',
    listener: (socket: Socket) => void,
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

/**
 * Where shutdown logs (pino fits): each step at `info` (`debug` for the details: the hooks one
 * by one, what the drain closed), a deadline at `warn`, a failing hook at `error`.
 */
export type ShutdownLogger = Pick<ContextLogger, 'info' | 'warn' | 'error'> &
  Partial<Pick<ContextLogger, 'debug'>>;

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
  /**
   * How long in-flight requests, beacons and open connections may take once the listeners
   * close. Default 10000 ms. Past it, what is left is cut (counted in the report).
   */
  readonly drainTimeout?: number;
  /**
   * How long a keep-alive connection must stay idle, once the listeners are closed, before the
   * drain ends it. A request that arrives meanwhile is answered (with `Connection: close`), so
   * a request already on the wire is never reset. Default 1000 ms.
   */
  readonly idleGrace?: number;
  /** Default timeout of each hook. Default 5000 ms. */
  readonly hookTimeout?: number;
  /** Cleanup hooks in registration order; they run in reverse (LIFO). */
  readonly hooks?: readonly ShutdownHook[];
  /** Ends the process. Default `process.exit`; `false` to only report. */
  readonly exit?: ((code: number) => void) | false;
  /** Where the steps are logged. Default: nowhere. */
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

/** What the drain did to the connections that were open when the listeners closed. */
export interface ConnectionsReport {
  /** Idle keep-alive connections the drain ended after `idleGrace` (without a reset). */
  readonly idleClosed: number;
  /** Connections still open at the drain deadline, destroyed then. 0 when drained. */
  readonly cut: number;
  /** Requests received on those connections that had not been answered. */
  readonly requestsCut: number;
}

/** What a shutdown did. */
export interface ShutdownReport {
  /** The signal or reason that started it. */
  readonly reason: string;
  /**
   * 0 when everything drained and every hook succeeded; 1 when the drain deadline passed
   * (`drained: false`) or a hook failed or timed out (see `hooks`), or both.
   */
  readonly exitCode: 0 | 1;
  /** False when the drain deadline passed with work or connections still open. */
  readonly drained: boolean;
  /** Beacons still active at the drain deadline. */
  readonly abandoned: readonly string[];
  /** What the drain closed and what it had to cut. */
  readonly connections: ConnectionsReport;
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
const check = optionChecks(HealthErrors.HEALTH_INVALID_OPTIONS);
/** How long, once drained, the listeners get to report closed (connections it never saw). */
const CLOSE_WAIT_MS = 1000;

/**
 * Installs a graceful shutdown on one or more HTTP servers.
 *
 * On the first signal: readiness fails at once (liveness stays 200) and every answer from then
 * on carries `Connection: close`; after `preStopDelay` the listeners close (a new connection
 * is refused); open connections keep being read, so a request already on the wire is
 * answered; a connection is ended once its last answer is sent, or after `idleGrace` without a
 * request, each with a lingering close (never a TCP reset); in-flight requests, beacons and
 * connections get `drainTimeout` to finish, and what is left then is cut and counted; then
 * the hooks run in reverse registration order, each with its own timeout; then the process
 * exits 0, or 1 if the drain deadline passed or a hook failed or timed out. A second signal
 * exits 1 at once.
 *
 * Gotchas: install it before the server accepts connections (right after `listen()` is
 * fine): a connection it never saw is only closed once the drain is over. Node's own
 * `server.close()` destroys idle keep-alive connections at once, which resets the requests
 * still in their buffers: let this drain close the listeners instead.
 *
 * @throws ProdError `HEALTH_INVALID_OPTIONS` for an invalid option or hook.
 * @example
 * import { createServer } from 'node:http';
 * declare const pool: { end(): Promise<void> };
 * declare const redis: { quit(): Promise<unknown> };
 * declare const worker: { close(): Promise<void> };
 * const server = createServer();
 * const health = createHealth();
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
  list.forEach((server, index) => {
    if (
      typeof server?.close !== 'function' ||
      typeof server.prependListener !== 'function' ||
      typeof server.on !== 'function'
    ) {
      check.fail(
        Array.isArray(servers) ? `servers[${index}]` : 'server',
        'a Node HTTP server',
        server,
      );
    }
  });
  const opts = check.object<ShutdownOptions>('options', options);
  const health = validHealth(opts.health) ?? createHealth({ autoStart: false });
  const signals = validSignals(opts.signals);
  const preStopDelay = check.duration(
    'preStopDelay',
    opts.preStopDelay,
    process.env.KUBERNETES_SERVICE_HOST === undefined ? 0 : 5000,
  );
  const drainTimeout = check.duration('drainTimeout', opts.drainTimeout, 10_000);
  const hookTimeout = check.duration('hookTimeout', opts.hookTimeout, 5000);
  const idleGrace = check.duration('idleGrace', opts.idleGrace, 1000);
  if (opts.exit !== undefined && opts.exit !== false && typeof opts.exit !== 'function') {
    check.fail('exit', 'a function or false', opts.exit);
  }
  const exit = opts.exit === false ? undefined : (opts.exit ?? ((code) => process.exit(code)));
  const logger = validLogger(opts.logger);
  const hooks: ShutdownHook[] = [];
  const given = opts.hooks ?? [];
  if (!Array.isArray(given)) check.fail('hooks', 'an array of hooks', given);
  given.forEach((hook, index) => {
    hooks.push(validHook(hook, `hooks[${index}]`));
  });
  const live = new Set<ServerResponse>();
  const connections = new ConnectionDrain(idleGrace);
  let phase: ShutdownPhase = 'running';
  let running: Promise<ShutdownReport> | undefined;

  const markClose = (response: ServerResponse): void => {
    if (!response.headersSent) response.setHeader('connection', 'close');
    response.shouldKeepAlive = false;
  };

  const onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    const beacon = health.beacon('http request');
    const socket = request.socket;
    const connection = connections.requestStarted(socket);
    live.add(response);
    if (phase !== 'running') markClose(response);
    response.once('close', () => {
      live.delete(response);
      beacon.release();
      connections.requestEnded(socket, connection);
    });
  };
  const connectionEvent = (server: DrainableServer): 'connection' | 'secureConnection' =>
    // A TLS server's requests arrive on the TLS socket of `secureConnection`, not the TCP one.
    typeof (server as { setSecureContext?: unknown }).setSecureContext === 'function'
      ? 'secureConnection'
      : 'connection';
  for (const server of list) {
    server.prependListener('request', onRequest);
    server.on(connectionEvent(server), connections.onConnection);
  }

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
    const outcome = await withDeadline((signal) => hook.close(signal), {
      timeoutMs: timeout,
      reason: () => HealthErrors.HEALTH_HOOK_TIMEOUT({ captureStack: false }),
    });
    const durationMs = Math.round(outcome.durationMs);
    if (outcome.status === 'timeout') {
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
    if (outcome.status === 'threw') {
      logger?.error({ hook: hook.name, err: outcome.error }, 'shutdown: hook failed');
      return {
        name: hook.name,
        status: 'failed',
        durationMs,
        error: HealthErrors.HEALTH_HOOK_FAILED({
          message: `hook "${hook.name}" failed: ${describeThrown(outcome.error)}`,
          cause: outcome.error,
          captureStack: false,
        }),
      };
    }
    logger?.debug?.({ hook: hook.name, durationMs }, 'shutdown: hook done');
    return { name: hook.name, status: 'ok', durationMs };
  };

  const sequence = async (reason: string): Promise<ShutdownReport> => {
    const started = performance.now();
    phase = 'stopping';
    health.beginShutdown();
    connections.beginClosing();
    for (const response of live) markClose(response);
    logger?.info({ reason, preStopDelay }, 'shutdown: readiness failing');
    if (preStopDelay > 0) await sleep(preStopDelay);

    phase = 'draining';
    const closed = list.map(stopListening);
    connections.drain();
    logger?.info(
      { inFlight: health.inFlight, connections: connections.size, drainTimeout },
      'shutdown: draining',
    );
    const outcome = await withDeadline(
      () => Promise.all([health.whenIdle(), connections.whenClosed()]),
      { timeoutMs: drainTimeout },
    );
    const drained = outcome.status === 'settled';
    const abandoned = drained ? [] : health.beacons();
    if (drained) {
      // Only connections accepted before onShutdown was installed are left, and they are idle
      // (a request would have made them known).
      for (const server of list) server.closeIdleConnections?.();
      await withDeadline(() => Promise.all(closed), { timeoutMs: CLOSE_WAIT_MS });
    }
    const counts = connections.cut();
    for (const server of list) server.closeAllConnections?.();
    const connectionsReport: ConnectionsReport = {
      idleClosed: counts.idleClosed,
      cut: counts.cutConnections,
      requestsCut: counts.cutRequests,
    };
    if (drained) {
      logger?.debug?.(
        { idleClosed: counts.idleClosed, durationMs: Math.round(performance.now() - started) },
        'shutdown: drained',
      );
    } else {
      logger?.warn(
        { abandoned, connectionsCut: counts.cutConnections, requestsCut: counts.cutRequests },
        'shutdown: drain deadline passed',
      );
    }

    phase = 'cleaning';
    const reports: HookReport[] = [];
    const order = [...hooks].reverse();
    logger?.debug?.({ hooks: order.map((hook) => hook.name) }, 'shutdown: running hooks');
    for (const hook of order) reports.push(await runHook(hook));
    health.stop();
    phase = 'done';
    const failedHooks = reports.filter((hook) => hook.status !== 'ok').map((hook) => hook.name);
    const exitCode: 0 | 1 = drained && failedHooks.length === 0 ? 0 : 1;
    const report: ShutdownReport = {
      reason,
      exitCode,
      drained,
      abandoned,
      connections: connectionsReport,
      ...(drained
        ? {}
        : {
            error: HealthErrors.HEALTH_DRAIN_TIMEOUT({
              message: `${abandoned.length} request(s) or beacon(s) and ${counts.cutConnections} connection(s) still active after ${drainTimeout} ms`,
              details: {
                abandoned,
                connectionsCut: counts.cutConnections,
                requestsCut: counts.cutRequests,
              },
              captureStack: false,
            }),
          }),
      hooks: reports,
      durationMs: Math.round(performance.now() - started),
    };
    logger?.info(
      {
        exitCode,
        drained,
        failedHooks,
        connectionsCut: counts.cutConnections,
        requestsCut: counts.cutRequests,
        durationMs: report.durationMs,
      },
      'shutdown: done',
    );
    return report;
  };

  const controller: ShutdownController = {
    health,
    get phase() {
      return phase;
    },
    register(hook) {
      hooks.push(validHook(hook, 'hook'));
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
      for (const server of list) {
        server.removeListener('request', onRequest);
        server.removeListener(connectionEvent(server), connections.onConnection);
      }
    },
  };
  return controller;
}

/**
 * Stops accepting connections without touching the open ones. `http.Server#close()` would
 * also destroy every connection that looks idle (Node 19 and later), resetting the requests
 * still unread in their buffers.
 */
function stopListening(server: DrainableServer): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => resolve();
    if (server instanceof NetServer) NetServer.prototype.close.call(server, done);
    else server.close(done);
  });
}

function validHook(hook: unknown, name: string): ShutdownHook {
  const candidate = hook as Partial<ShutdownHook> | null | undefined;
  if (typeof candidate?.close !== 'function' || typeof candidate.name !== 'string') {
    check.fail(name, 'a hook with a name and a close function', hook);
  }
  const valid = candidate as ShutdownHook;
  check.duration(`${name}.timeout`, valid.timeout, 0);
  return valid;
}

function validHealth(health: unknown): Health | undefined {
  if (health === undefined) return undefined;
  const candidate = health as Partial<Health> | null;
  if (
    typeof candidate?.beacon !== 'function' ||
    typeof candidate.beginShutdown !== 'function' ||
    typeof candidate.whenIdle !== 'function'
  ) {
    check.fail('health', 'a Health from createHealth()', health);
  }
  return health as Health;
}

function validSignals(signals: unknown): readonly NodeJS.Signals[] {
  if (signals === undefined) return DEFAULT_SIGNALS;
  if (!Array.isArray(signals) || signals.some((signal) => typeof signal !== 'string')) {
    check.fail('signals', 'an array of signal names', signals);
  }
  return signals as readonly NodeJS.Signals[];
}

function validLogger(logger: unknown): ShutdownLogger | undefined {
  if (logger === undefined) return undefined;
  const candidate = check.object<Partial<ShutdownLogger>>('logger', logger);
  for (const level of ['info', 'warn', 'error'] as const) {
    check.fn(`logger.${level}`, candidate[level] ?? null);
  }
  check.fn('logger.debug', candidate.debug);
  return candidate as ShutdownLogger;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
