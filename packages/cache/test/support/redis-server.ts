// Throw-away redis-server processes for the tests that need a server of their own: one they
// can kill (outages), a 3-node Cluster, a Sentinel. Spare ports (17000-19999), nothing kept on
// disk, a temp dir each, stopped by PID (never by name).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const started = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of started) child.kill('SIGKILL');
});

let warned = false;

/**
 * Whether `redis-server` (and `redis-cli`) can be started here. Missing, it is one loud line
 * and a skip locally, and a failure under CI=true (.ci/run installs redis-server).
 */
export async function redisServerAvailable(): Promise<boolean> {
  try {
    await run('redis-server', ['--version']);
    await run('redis-cli', ['--version']);
    return true;
  } catch (error) {
    const line = `redis-server/redis-cli cannot be started (${(error as Error).message}): the tests that start their own Redis are skipped`;
    if (process.env.CI === 'true' || process.env.CI === '1')
      throw new Error(`${line} -- refusing to skip under CI=true`);
    if (!warned) console.warn(`\n!!! ${line} !!!\n`);
    warned = true;
    return false;
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free port in 17000-19999 (its cluster bus port, +10000, free too). */
export async function sparePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = 17_000 + Math.floor(Math.random() * 3_000);
    if ((await portFree(port)) && (await portFree(port + 10_000))) return port;
  }
  throw new Error('no spare port');
}

/** Sends one inline command and reads the first reply line (no client library involved). */
export function rawCommand(port: number, command: string, timeoutMs = 500): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer from ${port}`));
    }, timeoutMs);
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.connect(port, '127.0.0.1', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk) => {
      data += chunk.toString('utf8');
      if (data.includes('\r\n')) {
        clearTimeout(timer);
        socket.end();
        resolve(data);
      }
    });
  });
}

async function waitFor(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** One redis-server process. */
export interface RedisProcess {
  readonly port: number;
  readonly url: string;
  readonly pid: number | undefined;
  /** SIGKILL by PID, then wait for the exit: an outage. */
  kill(): Promise<void>;
  /** Starts the server again on the same port (empty: nothing is kept). */
  restart(): Promise<void>;
  /** Kills it and removes its folder. */
  stop(): Promise<void>;
}

/** Starts a redis-server on a spare port with `args` added. */
export async function startRedis(
  args: readonly string[] = [],
  port?: number,
): Promise<RedisProcess> {
  const chosen = port ?? (await sparePort());
  const dir = mkdtempSync(join(tmpdir(), 'prod-cache-redis-'));
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const proc = spawn(
      'redis-server',
      [
        '--port',
        String(chosen),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        ...args,
      ],
      { stdio: 'ignore' },
    );
    started.add(proc);
    proc.once('exit', () => started.delete(proc));
    child = proc;
    await waitFor(
      async () => (await rawCommand(chosen, 'PING')).startsWith('+PONG'),
      5_000,
      `redis-server on ${chosen}`,
    );
  };
  const kill = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.pid === undefined) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    process.kill(proc.pid, 'SIGKILL');
    await exited;
  };
  await launch();
  return {
    port: chosen,
    url: `redis://127.0.0.1:${chosen}`,
    get pid() {
      return child?.pid;
    },
    kill,
    restart: launch,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A Redis Cluster of masters, no replicas. */
export interface RedisCluster {
  readonly nodes: readonly RedisProcess[];
  readonly ports: readonly number[];
  stop(): Promise<void>;
}

/** Starts `size` cluster-enabled servers and joins them into one cluster (all slots covered). */
export async function startCluster(size = 3): Promise<RedisCluster> {
  const nodes: RedisProcess[] = [];
  try {
    for (let i = 0; i < size; i += 1) {
      nodes.push(
        await startRedis([
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          '2000',
        ]),
      );
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...nodes.map((node) => `127.0.0.1:${node.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    for (const node of nodes) {
      await waitFor(
        async () => {
          const { stdout } = await run('redis-cli', ['-p', String(node.port), 'cluster', 'info']);
          return stdout.includes('cluster_state:ok');
        },
        15_000,
        `cluster state ok on ${node.port}`,
      );
    }
  } catch (error) {
    await Promise.all(nodes.map((node) => node.stop()));
    throw error;
  }
  return {
    nodes,
    ports: nodes.map((node) => node.port),
    stop: async () => {
      await Promise.all(nodes.map((node) => node.stop()));
    },
  };
}

/** A master and a Sentinel monitoring it as `mymaster`. */
export interface RedisSentinel {
  readonly master: RedisProcess;
  readonly sentinelPort: number;
  readonly name: string;
  stop(): Promise<void>;
}

export async function startSentinel(): Promise<RedisSentinel> {
  const master = await startRedis();
  const sentinelPort = await sparePort();
  const dir = mkdtempSync(join(tmpdir(), 'prod-cache-sentinel-'));
  const config = join(dir, 'sentinel.conf');
  writeFileSync(
    config,
    [
      `port ${sentinelPort}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor mymaster 127.0.0.1 ${master.port} 1`,
      'sentinel down-after-milliseconds mymaster 2000',
      '',
    ].join('\n'),
  );
  const proc = spawn('redis-server', [config, '--sentinel'], { stdio: 'ignore' });
  started.add(proc);
  proc.once('exit', () => started.delete(proc));
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.pid !== undefined) {
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      process.kill(proc.pid, 'SIGKILL');
      await exited;
    }
    await master.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () =>
        (await rawCommand(sentinelPort, 'SENTINEL get-master-addr-by-name mymaster')).startsWith(
          '*2',
        ),
      10_000,
      'the sentinel',
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { master, sentinelPort, name: 'mymaster', stop };
}

/** Counts the commands a server ran, by name, from INFO commandstats (lower-case names). */
export async function commandStats(port: number): Promise<Map<string, number>> {
  const { stdout } = await run('redis-cli', ['-p', String(port), 'info', 'commandstats']);
  const counts = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (match?.[1] !== undefined && match[2] !== undefined) counts.set(match[1], Number(match[2]));
  }
  return counts;
}
