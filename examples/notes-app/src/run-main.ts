import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isProdError, ProdError } from '@prod/core';
import type { ShutdownController, ShutdownOptions } from '@prod/health';
import type { ComposeOptions, Service } from './compose-service.js';
import { loadConfig, type ServiceConfig } from './config.js';

/** A started service, as a framework example's `start()` answers it. */
export interface RunningService {
  /** `express`, `fastify` or `koa`. */
  readonly framework: string;
  /** Where it listens, e.g. `http://127.0.0.1:3000` (`localhost` for a wildcard host). */
  readonly url: string;
  readonly server: Server;
  readonly service: Service;
  /** The graceful shutdown installed on the server (SIGTERM, SIGINT). */
  readonly shutdown: ShutdownController;
}

/** Options of a framework example's `start()`. */
export interface StartOptions extends ComposeOptions {
  /** Overrides for `onShutdown` (tests pass `{ signals: [], exit: false }`). */
  readonly shutdown?: Pick<
    ShutdownOptions,
    'signals' | 'exit' | 'preStopDelay' | 'drainTimeout' | 'idleGrace'
  >;
}

/** Starts one framework example: what `src/server.ts` of each example exports. */
export type StartService = (
  config: ServiceConfig,
  options?: StartOptions,
) => Promise<RunningService>;

/** The base URL of a listening server; a wildcard address is shown as `localhost`. */
export function serverUrl(server: Server): string {
  const address = server.address() as AddressInfo | null;
  if (address === null) throw new Error('serverUrl: the server is not listening');
  const wildcard = address.address === '0.0.0.0' || address.address === '::';
  const host = wildcard
    ? 'localhost'
    : address.family === 'IPv6'
      ? `[${address.address}]`
      : address.address;
  return `http://${host}:${address.port}`;
}

/** The placeholder of the curl lines when the key is configured rather than issued. */
export const CONFIGURED_KEY = '$NOTES_API_KEY';

/**
 * The curl lines the demo prints, for a service at `url` that takes `writeLimit` notes a
 * minute per API key (`NOTES_WRITE_LIMIT`, default 60). The writes send `apiKey` (the demo key
 * of this start; default `$NOTES_API_KEY`, for the shell to fill in); one more shows the 401
 * of a write without it.
 */
export function describeEndpoints(url: string, writeLimit = 60, apiKey = CONFIGURED_KEY): string {
  const json = "-H 'content-type: application/json'";
  // Double quotes: the shell expands $NOTES_API_KEY, and a key has no character it would touch.
  const key = `-H "x-api-key: ${apiKey}"`;
  return [
    `  curl -i -X POST ${url}/v1/notes ${key} ${json} -d '{"title":"Hello","body":"My first note"}'    # RateLimit headers; 429 past ${writeLimit} a minute`,
    `  curl -i ${url}/v1/notes`,
    `  curl -i '${url}/v1/notes?q=hello'    # a search in titles, with the notes.search flag on (NOTES_FLAGS)`,
    `  curl -i ${url}/v1/notes/<id>    # an ETag; again with -H 'if-none-match: <etag>': 304`,
    `  curl -i -X PATCH ${url}/v1/notes/<id> ${key} ${json} -d '{"title":"Renamed"}'`,
    `  curl -i -X DELETE ${url}/v1/notes/<id> ${key}`,
    `  curl -i -X POST ${url}/v1/notes ${json} -d '{"title":"Hello"}'    # 401 without the key`,
    `  curl -i -X POST ${url}/v1/notes ${key} ${json} -d '{"title":""}'    # 400 with field errors`,
    `  curl -s ${url}/openapi.json    # the OpenAPI 3.1 document; ${url}/docs in a browser`,
    `  curl -s ${url}/v1/queues ${key}    # the background jobs: one notes.created per note`,
    `  curl -i ${url}/health/ready`,
    `  curl -s ${url}/metrics | grep http_server_request_duration_seconds_count`,
  ].join('\n');
}

/**
 * The banner `runMain` prints once the service listens: where, the API key for writes when
 * one was issued at this start (`API key for writes: <key>`), and the curl lines, which use it.
 */
export function startBanner(running: RunningService): string {
  const { serviceName, store, writeLimit } = running.service.config;
  const demoKey = running.service.demoApiKey;
  return (
    `${serviceName} (${running.framework}, ${store} store) listening on ${running.url}\n` +
    (demoKey === undefined ? '' : `API key for writes: ${demoKey}\n`) +
    `Try:\n${describeEndpoints(running.url, writeLimit, demoKey)}\nStop with Ctrl-C (graceful shutdown).\n`
  );
}

/**
 * How far apart two signals must be to count as two. `npm start` passes the terminal's Ctrl-C
 * on to the service, which has already had it from the terminal: the same SIGINT twice within
 * milliseconds, which must not be taken for the second Ctrl-C that means "exit now".
 */
const SAME_SIGNAL_MS = 1000;

/**
 * SIGTERM and SIGINT start the graceful shutdown; a second signal, once `SAME_SIGNAL_MS` have
 * passed, exits 1 at once (as `onShutdown` does with its own handlers).
 */
function shutdownOnSignals(running: RunningService): void {
  let first: number | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (first === undefined) {
      first = Date.now();
      void running.shutdown.shutdown(signal);
      return;
    }
    if (Date.now() - first < SAME_SIGNAL_MS) return;
    running.service.logger.error({ signal }, 'shutdown: second signal, exiting now');
    process.exit(1);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

function oneLine(error: unknown): string {
  const prodError = isProdError(error) ? error : ProdError.from(error);
  return `${prodError.code}: ${prodError.message}`.replace(/\s+/g, ' ');
}

/** The flag of `main.ts` that prints the configuration instead of starting. */
export const DESCRIBE_CONFIG_FLAG = '--describe-config';

/**
 * The body of each example's `src/main.ts`: reads the configuration from the environment,
 * starts the service and prints where to try it, with the demo API key for writes when it
 * issued one ({@link startBanner}; on standard error: standard output carries the JSON log
 * lines). A bad configuration prints every problem (one line each, after
 * `cannot start: invalid configuration (N problems):`) and exits 1; a failed start prints one
 * line and exits 1. SIGTERM and SIGINT drain the service and exit; a second signal exits at
 * once.
 *
 * With `--describe-config` in `argv` (`pnpm run describe-config`), it prints the effective
 * configuration instead, each value with its source, secrets redacted, and exits 0.
 */
export async function runMain(
  start: StartService,
  env: Readonly<Record<string, string | undefined>> = process.env,
  argv: readonly string[] = process.argv.slice(2),
): Promise<void> {
  const config = loadConfig(env);
  if (!config.ok) {
    process.stderr.write(`cannot start: ${config.error.message}\n`);
    process.exit(1);
  }
  if (argv.includes(DESCRIBE_CONFIG_FLAG)) {
    process.stdout.write(
      `${config.value.settings.describe()}\nnotes store in use: ${config.value.store}\n`,
    );
    return;
  }
  let running: RunningService;
  try {
    running = await start(config.value, { shutdown: { signals: [] } });
  } catch (error) {
    process.stderr.write(`cannot start: ${oneLine(error)}\n`);
    process.exit(1);
  }
  shutdownOnSignals(running);
  process.stderr.write(startBanner(running));
}
