import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { optionChecks } from '@prod/core';
import { TestingErrors } from './errors.js';

const check = optionChecks(TestingErrors.TESTING_INVALID_OPTIONS);

const HOST = '127.0.0.1';
// Spare ports come from 17000-19999: below the ephemeral range (outgoing connections never
// take them) and low enough that the cluster bus port (+10000) is free to use too.
const PORT_FLOOR = 17_000;
const PORT_SPAN = 3_000;
const BUS_OFFSET = 10_000;
const PORT_ATTEMPTS = 8;
const COMMAND_TIMEOUT_MS = 10_000;

/** One redis-server process started by this test run. */
export interface RedisServer {
  /** The port it listens on (127.0.0.1 only), the same after a restart. */
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** Its own temp folder (`--dir`); its log is `redis.log` in it. */
  readonly dir: string;
  /** The process id while it runs; `undefined` once killed, stopped or crashed. */
  readonly pid: number | undefined;
  /**
   * An outage: SIGKILL to its PID (never a kill by name), no goodbye to the clients. Resolves
   * once the process has exited; does nothing when it is not running.
   */
  kill(): Promise<void>;
  /**
   * Starts it again on the same port and folder, killing it first if it runs. Its data is
   * gone (nothing is kept on disk); a Cluster node keeps its `nodes.conf` and rejoins.
   */
  restart(): Promise<void>;
  /** Kills it and removes its folder. Safe to call twice; `restart()` after it throws. */
  stop(): Promise<void>;
}

/** Options for {@link startRedisServer}. */
export interface RedisServerOptions {
  /**
   * More redis-server arguments, after the defaults (`--bind 127.0.0.1 --save "" --appendonly
   * no --dir <temp>`), e.g. `['--enable-debug-command', 'local']`. Default none.
   */
  readonly args?: readonly string[];
  /** The port. Default: a spare one in 17000-19999 whose cluster bus port is free too. */
  readonly port?: number;
  /** How long to wait for it to answer. Default 10 000 ms. */
  readonly startTimeoutMs?: number;
}

/** A Redis Cluster of masters (no replicas), every slot covered. */
export interface RedisClusterServers {
  readonly nodes: readonly RedisServer[];
  readonly ports: readonly number[];
  /** `{ host: '127.0.0.1', port }` of every node: what a cluster client takes to start with. */
  readonly startupNodes: readonly { readonly host: string; readonly port: number }[];
  /** Stops every node (see {@link RedisServer.stop}). */
  stop(): Promise<void>;
}

/** Options for {@link startRedisCluster}. */
export interface RedisClusterOptions {
  /** How many masters; at least 3, as `redis-cli --cluster create` requires. Default 3. */
  readonly nodes?: number;
  /** More redis-server arguments for every node (see {@link RedisServerOptions.args}). */
  readonly args?: readonly string[];
  /** How long to wait for each node, then for `cluster_state:ok` on all. Default 20 000 ms. */
  readonly startTimeoutMs?: number;
}

/** A master and one Sentinel monitoring it. */
export interface RedisSentinelServers {
  /** The name the Sentinel knows the master by. */
  readonly name: string;
  readonly master: RedisServer;
  /** The Sentinel process; `kill`, `restart` and `stop` work as on any server. */
  readonly sentinel: RedisServer;
  /** `[{ host: '127.0.0.1', port }]` of the Sentinel: what a Sentinel-aware client takes. */
  readonly sentinels: readonly { readonly host: string; readonly port: number }[];
  /** Stops the Sentinel, then the master. */
  stop(): Promise<void>;
}

/** Options for {@link startRedisSentinel}. */
export interface RedisSentinelOptions {
  /** The master's name (letters, digits, `.`, `_`, `-`). Default `mymaster`. */
  readonly name?: string;
  /** More redis-server arguments for the master (see {@link RedisServerOptions.args}). */
  readonly args?: readonly string[];
  /** `sentinel down-after-milliseconds`: how soon the master counts as down. Default 2000. */
  readonly downAfterMs?: number;
  /** How long to wait for each process, then for the Sentinel to know the master. Default 10 000 ms. */
  readonly startTimeoutMs?: number;
}

// ---------------------------------------------------------------------------------------------
// The safety net: whatever a test forgets to stop dies with the process that started it.

const live = new Set<ChildProcess>();
const folders = new Set<string>();
let netInstalled = false;

function killEverything(): void {
  for (const child of live) {
    try {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  live.clear();
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
  folders.clear();
}

function installSafetyNet(): void {
  if (netInstalled) return;
  netInstalled = true;
  process.once('exit', killEverything);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killEverything();
      // A listener of ours must not keep alive a process the signal was meant to end: when no
      // one else listens, the signal is raised again with its default action.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

// ---------------------------------------------------------------------------------------------

let warned = false;

function run(
  file: string,
  args: readonly string[],
  timeoutMs: number,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error === null) resolve({ stdout, stderr });
      else reject(Object.assign(error, { stdout, stderr }));
    });
  });
}

/**
 * Whether this machine can start redis-server processes of a test's own (`redis-server` and
 * `redis-cli` on the PATH). When it cannot: one loud line and `false` locally, so the tests
 * skip; under `CI=true` it throws instead, because a CI run must not go green by skipping.
 *
 * @example
 * import { describe, it } from 'vitest';
 * const canStart = await redisServerAvailable();
 * describe.skipIf(!canStart)('on a redis-server of its own (skipped: no redis-server)', () => {
 *   it('survives an outage', async () => {});
 * });
 */
export async function redisServerAvailable(): Promise<boolean> {
  try {
    await run('redis-server', ['--version'], 5_000);
    await run('redis-cli', ['--version'], 5_000);
    return true;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const line = `redis-server/redis-cli cannot be started (${reason}): the tests that start their own Redis are skipped`;
    if (process.env.CI === 'true' || process.env.CI === '1') {
      throw new Error(`${line} -- refusing to skip under CI=true`);
    }
    if (!warned) {
      warned = true;
      console.warn(`\n!!! ${line} !!!\n`);
    }
    return false;
  }
}

function portOf(target: number | { readonly port: number }): number {
  const port = typeof target === 'number' ? target : target.port;
  return check.integer('port', port, 0, { min: 1, max: 65_535 });
}

async function cli(port: number, argv: readonly string[], timeoutMs: number): Promise<string> {
  try {
    // -e: an error reply exits non-zero, so it cannot pass for a string reply.
    const { stdout } = await run(
      'redis-cli',
      ['-h', HOST, '-p', String(port), '--raw', '-e', ...argv],
      timeoutMs,
    );
    return stdout.replace(/\n$/, '');
  } catch (error) {
    const failed = error as Error & { stdout?: string; stderr?: string; killed?: boolean };
    const said = `${failed.stdout ?? ''}${failed.stderr ?? ''}`.trim();
    const why = failed.killed === true ? `no answer in ${timeoutMs} ms` : said || failed.message;
    throw new Error(`${argv.join(' ')} on 127.0.0.1:${port}: ${why}`, { cause: error });
  }
}

/**
 * Sends one command with `redis-cli` and gives its reply as text (`--raw`: a bulk string as
 * sent, so the lines of INFO end in `\r`; an array one element a line; `nil` as an empty
 * string), without a client library and its queues: it works while a server is paused.
 *
 * @returns The reply; rejects with an `Error` for an error reply, a server that does not
 * answer (within 10 s) or cannot be reached.
 *
 * @example
 * declare const server: RedisServer;
 * await redisCommand(server, 'CLIENT', 'PAUSE', 1500, 'ALL'); // a hang, not an outage
 * await redisCommand(server.port, 'CONFIG', 'RESETSTAT');
 */
export async function redisCommand(
  target: number | { readonly port: number },
  command: string,
  ...args: readonly (string | number)[]
): Promise<string> {
  return await cli(portOf(target), [command, ...args.map(String)], COMMAND_TIMEOUT_MS);
}

/**
 * How many times a server ran each command since it started (or since `CONFIG RESETSTAT`),
 * from `INFO commandstats`: names in lower case, subcommands as `config|resetstat`. `info`
 * counts the readings themselves (and the check that the server had started): leave it out
 * of a difference.
 *
 * @example
 * declare const server: RedisServer;
 * const before = await redisCommandStats(server);
 * // ... the operation under test ...
 * const after = await redisCommandStats(server);
 * const gets = (after.get('get') ?? 0) - (before.get('get') ?? 0);
 */
export async function redisCommandStats(
  target: number | { readonly port: number },
): Promise<Map<string, number>> {
  const text = await redisCommand(target, 'INFO', 'commandstats');
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (match?.[1] !== undefined && match[2] !== undefined) counts.set(match[1], Number(match[2]));
  }
  return counts;
}

// ---------------------------------------------------------------------------------------------

const handedOut = new Set<number>();

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, HOST, () => probe.close(() => resolve(true)));
  });
}

async function sparePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const port = PORT_FLOOR + Math.floor(Math.random() * PORT_SPAN);
    // Free now is a hint, not a lease (other processes pick ports too): a server that finds
    // its port taken is started again on another one.
    if (handedOut.has(port)) continue;
    if ((await portFree(port)) && (await portFree(port + BUS_OFFSET))) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no spare port in ${PORT_FLOOR}-${PORT_FLOOR + PORT_SPAN - 1}`);
}

function logTail(dir: string): string {
  const file = join(dir, 'redis.log');
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trim().split('\n').slice(-4).join(' | ');
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(
  ready: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ready()) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

async function killProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = once(child, 'exit');
  try {
    process.kill(child.pid, 'SIGKILL');
  } catch {
    // It exited between the check and the kill: its exit event is on its way.
  }
  await exited;
}

class PortTaken extends Error {}

/** Spawns one redis-server and resolves once it answers; kills it if it never does. */
async function launch(
  argv: readonly string[],
  port: number,
  dir: string,
  timeoutMs: number,
): Promise<ChildProcess> {
  installSafetyNet();
  const child = spawn('redis-server', argv, { stdio: 'ignore' });
  // A forgotten server must not keep the test process alive: the safety net ends it at exit.
  child.unref();
  live.add(child);
  let failure: string | undefined;
  child.on('error', (error) => {
    failure = `could not be started: ${error.message}`;
  });
  child.once('exit', (code, signal) => {
    live.delete(child);
    failure ??= `exited (${signal ?? `code ${code}`}) before answering`;
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (failure !== undefined) {
      const log = logTail(dir);
      const message = `redis-server on port ${port} ${failure}: ${log}`;
      throw /Address already in use/i.test(log) ? new PortTaken(message) : new Error(message);
    }
    // The answer must come from this process: another server may hold the port already.
    const info = await cli(port, ['INFO', 'server'], 1_000).catch((error: Error) => {
      if ((error.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw error;
      return '';
    });
    if (new RegExp(`^process_id:${child.pid}\\r?$`, 'm').test(info)) return child;
    if (Date.now() > deadline) {
      await killProcess(child);
      throw new Error(`redis-server on port ${port} did not answer in ${timeoutMs} ms`);
    }
    await sleep(25);
  }
}

interface ServerSpec {
  /** Folder name prefix. */
  readonly kind: string;
  readonly port: number | undefined;
  readonly startTimeoutMs: number;
  /** The redis-server arguments for a port and folder; called once per first-start attempt. */
  argv(port: number, dir: string): readonly string[];
}

async function startProcess(spec: ServerSpec): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), `prod-${spec.kind}-`));
  folders.add(dir);
  let port = spec.port ?? (await sparePort());
  let argv: readonly string[] = [];
  let child: ChildProcess | undefined;
  try {
    for (let attempt = 1; ; attempt += 1) {
      argv = spec.argv(port, dir);
      try {
        child = await launch(argv, port, dir, spec.startTimeoutMs);
        break;
      } catch (error) {
        if (!(error instanceof PortTaken) || spec.port !== undefined || attempt >= PORT_ATTEMPTS) {
          throw error;
        }
        // A fresh folder: a half-started cluster node may have written nodes.conf already.
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir);
        port = await sparePort();
      }
    }
  } catch (error) {
    folders.delete(dir);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  let stopped = false;
  const kill = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (running !== undefined) await killProcess(running);
  };
  return {
    port,
    url: `redis://${HOST}:${port}`,
    dir,
    get pid() {
      // A server that crashed on its own is not running either.
      return child?.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    kill,
    async restart() {
      if (stopped) throw new Error(`redis-server on port ${port} was stopped: start a new one`);
      await kill();
      child = await launch(argv, port, dir, spec.startTimeoutMs);
    },
    async stop() {
      stopped = true;
      await kill();
      folders.delete(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function readArgs(name: string, value: unknown): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((arg) => typeof arg === 'string')) {
    check.fail(name, 'an array of strings', value);
  }
  return value as readonly string[];
}

function serverArgs(port: number, dir: string, extra: readonly string[]): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    HOST,
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--logfile',
    join(dir, 'redis.log'),
    ...extra,
  ];
}

/**
 * Starts a redis-server of the test's own on 127.0.0.1: nothing kept on disk, a temp folder,
 * a spare port unless one is given. For what the shared Redis cannot do: kill it (an outage),
 * pause it, count its commands with nobody else's mixed in, turn on DEBUG.
 *
 * When to use: a test that needs a server to itself. Tests that only read and write use the
 * shared Redis through {@link redisTestUrl}, which is faster.
 *
 * Gotchas: stop it in the `afterAll` of the file that started it. Whatever is left running
 * is killed when the process exits (or gets SIGINT, SIGTERM, SIGHUP), but not when it is
 * killed with SIGKILL.
 *
 * @returns The running server; rejects with an `Error` (naming the port and the end of the
 * server's log) when it does not answer, and with `TESTING_INVALID_OPTIONS` for bad options.
 *
 * @example
 * import { afterAll, beforeAll, describe, it } from 'vitest';
 * const canStart = await redisServerAvailable();
 * describe.skipIf(!canStart)('when Redis goes away (skipped: no redis-server)', () => {
 *   let server: RedisServer;
 *   beforeAll(async () => {
 *     server = await startRedisServer({ args: ['--enable-debug-command', 'local'] });
 *   });
 *   afterAll(() => server.stop());
 *
 *   it('answers again after a restart', async () => {
 *     await server.kill(); // SIGKILL by PID
 *     await server.restart(); // same port, empty
 *     await redisCommand(server, 'PING');
 *   });
 * });
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  check.object('options', options);
  const args = readArgs('args', options.args);
  const port =
    options.port === undefined
      ? undefined
      : check.integer('port', options.port, 0, { min: 1, max: 65_535 });
  const startTimeoutMs = check.duration('startTimeoutMs', options.startTimeoutMs, 10_000, {
    min: 1,
  });
  return startProcess({
    kind: 'redis',
    port,
    startTimeoutMs,
    argv: (chosen, dir) => serverArgs(chosen, dir, args),
  });
}

/**
 * Starts a Redis Cluster of `nodes` masters on spare ports and joins them with
 * `redis-cli --cluster create`; resolves once every node reports `cluster_state:ok`.
 *
 * @returns The running cluster; rejects with an `Error` when it does not form (every node
 * started is stopped first), and with `TESTING_INVALID_OPTIONS` for bad options.
 *
 * @example
 * import { Cluster } from 'ioredis';
 * import { afterAll, beforeAll, it } from 'vitest';
 * let cluster: RedisClusterServers;
 * let client: Cluster;
 * beforeAll(async () => {
 *   cluster = await startRedisCluster({ nodes: 3 });
 *   client = new Cluster([...cluster.startupNodes]);
 * }, 30_000);
 * afterAll(async () => {
 *   client.disconnect();
 *   await cluster.stop();
 * });
 * it('spreads keys over the nodes', async () => {
 *   await client.set('a', '1');
 * });
 */
export async function startRedisCluster(
  options: RedisClusterOptions = {},
): Promise<RedisClusterServers> {
  check.object('options', options);
  const size = check.integer('nodes', options.nodes, 3, { min: 3, max: 100 });
  const args = readArgs('args', options.args);
  const startTimeoutMs = check.duration('startTimeoutMs', options.startTimeoutMs, 20_000, {
    min: 1,
  });
  const clusterArgs = [
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    'nodes.conf',
    '--cluster-node-timeout',
    '2000',
    ...args,
  ];
  const started = await Promise.allSettled(
    Array.from({ length: size }, () =>
      startProcess({
        kind: 'redis-cluster',
        port: undefined,
        startTimeoutMs,
        argv: (chosen, dir) => serverArgs(chosen, dir, clusterArgs),
      }),
    ),
  );
  const nodes = started.flatMap((outcome) =>
    outcome.status === 'fulfilled' ? [outcome.value] : [],
  );
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  try {
    for (const outcome of started) if (outcome.status === 'rejected') throw outcome.reason;
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...nodes.map((node) => `${HOST}:${node.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      startTimeoutMs,
    ).catch((error: Error & { stdout?: string }) => {
      throw new Error(`redis-cli --cluster create failed: ${error.stdout ?? ''}${error.message}`, {
        cause: error,
      });
    });
    const deadline = Date.now() + startTimeoutMs;
    for (const node of nodes) {
      await waitFor(
        async () =>
          (await cli(node.port, ['CLUSTER', 'INFO'], 1_000).catch(() => '')).includes(
            'cluster_state:ok',
          ),
        Math.max(1, deadline - Date.now()),
        `cluster_state:ok on port ${node.port}`,
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const ports = nodes.map((node) => node.port);
  return {
    nodes,
    ports,
    startupNodes: ports.map((port) => ({ host: HOST, port })),
    stop,
  };
}

/**
 * Starts a master and a Sentinel that monitors it (quorum 1) on spare ports; resolves once the
 * Sentinel gives the master's address.
 *
 * @returns The running pair; rejects with an `Error` when either does not start (both are
 * stopped first), and with `TESTING_INVALID_OPTIONS` for bad options.
 *
 * @example
 * import { Redis } from 'ioredis';
 * import { afterAll, beforeAll, it } from 'vitest';
 * let setup: RedisSentinelServers;
 * beforeAll(async () => {
 *   setup = await startRedisSentinel({ name: 'mymaster' });
 * });
 * afterAll(() => setup.stop());
 * it('finds the master through the Sentinel', async () => {
 *   const client = new Redis({ sentinels: [...setup.sentinels], name: setup.name });
 *   await client.set('a', '1');
 *   client.disconnect();
 * });
 */
export async function startRedisSentinel(
  options: RedisSentinelOptions = {},
): Promise<RedisSentinelServers> {
  check.object('options', options);
  const name = check.string('name', options.name, 'mymaster', { nonEmpty: true });
  // The name goes into a config file line: nothing there may start another directive.
  if (!/^[A-Za-z0-9._-]+$/.test(name)) check.fail('name', 'letters, digits, ".", "_" or "-"', name);
  const args = readArgs('args', options.args);
  const downAfterMs = check.integer('downAfterMs', options.downAfterMs, 2_000, { min: 1 });
  const startTimeoutMs = check.duration('startTimeoutMs', options.startTimeoutMs, 10_000, {
    min: 1,
  });
  const master = await startProcess({
    kind: 'redis',
    port: undefined,
    startTimeoutMs,
    argv: (chosen, dir) => serverArgs(chosen, dir, args),
  });
  let sentinel: RedisServer;
  try {
    sentinel = await startProcess({
      kind: 'redis-sentinel',
      port: undefined,
      startTimeoutMs,
      argv(chosen, dir) {
        // Written per attempt; a restart reuses the file the Sentinel has rewritten since.
        const config = join(dir, 'sentinel.conf');
        writeFileSync(
          config,
          [
            `port ${chosen}`,
            `bind ${HOST}`,
            `dir ${dir}`,
            `logfile ${join(dir, 'redis.log')}`,
            `sentinel monitor ${name} ${HOST} ${master.port} 1`,
            `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
            '',
          ].join('\n'),
        );
        return [config, '--sentinel'];
      },
    });
  } catch (error) {
    await master.stop();
    throw error;
  }
  const stop = async (): Promise<void> => {
    await sentinel.stop();
    await master.stop();
  };
  try {
    await waitFor(
      async () =>
        (
          await cli(sentinel.port, ['SENTINEL', 'get-master-addr-by-name', name], 1_000).catch(
            () => '',
          )
        ).endsWith(`\n${master.port}`),
      startTimeoutMs,
      `the Sentinel on port ${sentinel.port} to know ${name}`,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    name,
    master,
    sentinel,
    sentinels: [{ host: HOST, port: sentinel.port }],
    stop,
  };
}
