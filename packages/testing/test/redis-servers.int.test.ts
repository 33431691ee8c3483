import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isProdError } from '@prod/core';
import {
  type RedisClusterServers,
  type RedisServer,
  redisCommand,
  redisCommandStats,
  redisServerAvailable,
  spawnFixture,
  startRedisCluster,
  startRedisSentinel,
  startRedisServer,
} from '@prod/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

const canStart = await redisServerAvailable();

/** Whether a process runs: a zombie (exited, not yet reaped by its new parent) does not. */
function alive(pid: number): boolean {
  if (existsSync('/proc/self/stat')) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits (up to 5 s) for a process to be gone; says whether it is. */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 200 && alive(pid); i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return !alive(pid);
}

async function rejection(work: Promise<unknown>): Promise<unknown> {
  try {
    await work;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('options of the redis-server helpers', () => {
  it.each([
    ['port', () => startRedisServer({ port: 0.5 })],
    ['args', () => startRedisServer({ args: 'x' as unknown as string[] })],
    ['startTimeoutMs', () => startRedisServer({ startTimeoutMs: -1 })],
    ['nodes', () => startRedisCluster({ nodes: 2 })],
    ['name', () => startRedisSentinel({ name: 'a\nsentinel monitor x' })],
    ['port', () => redisCommand(70_000, 'PING')],
  ])('refuses a bad %s with TESTING_INVALID_OPTIONS, starting nothing', async (option, start) => {
    const error = await rejection(start());
    expect(isProdError(error, 'TESTING_INVALID_OPTIONS')).toBe(true);
    expect((error as Error).message).toContain(`option ${option} must be`);
  });
});

describe('redisServerAvailable without the binaries', () => {
  const saved = { ci: process.env.CI, path: process.env.PATH };
  afterEach(() => {
    process.env.PATH = saved.path;
    if (saved.ci === undefined) delete process.env.CI;
    else process.env.CI = saved.ci;
  });

  it('throws under CI=true instead of skipping', async () => {
    process.env.CI = 'true';
    process.env.PATH = '/nonexistent';
    await expect(redisServerAvailable()).rejects.toThrow(/refusing to skip under CI=true/);
  });

  it('says false locally, with one loud line per process (captured here)', async () => {
    process.env.CI = 'false';
    process.env.PATH = '/nonexistent';
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(await redisServerAvailable()).toBe(false);
    expect(await redisServerAvailable()).toBe(false);
    // None when this machine lacked the binaries from the start: the line was printed then.
    if (canStart) {
      expect(warn).toHaveBeenCalledOnce();
      expect(String(warn.mock.calls[0]?.[0])).toMatch(/redis-server\/redis-cli cannot be started/);
    }
  });
});

describe.skipIf(!canStart)('a redis-server of its own (skipped: no redis-server)', () => {
  const servers: RedisServer[] = [];
  const start = async (options?: Parameters<typeof startRedisServer>[0]) => {
    const server = await startRedisServer(options);
    servers.push(server);
    return server;
  };
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
  });

  it('starts on a spare port of 127.0.0.1 with nothing kept on disk, plus the extra arguments', async () => {
    const server = await start({ args: ['--enable-debug-command', 'local'] });
    expect(server.port).toBeGreaterThanOrEqual(17_000);
    expect(server.port).toBeLessThan(20_000);
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(server.pid).toBeTypeOf('number');
    expect(alive(server.pid as number)).toBe(true);
    expect(existsSync(server.dir)).toBe(true);
    expect(await redisCommand(server, 'PING')).toBe('PONG');
    expect(await redisCommand(server, 'CONFIG', 'GET', 'save')).toBe('save\n');
    expect(await redisCommand(server, 'CONFIG', 'GET', 'appendonly')).toBe('appendonly\nno');
    expect(await redisCommand(server, 'CONFIG', 'GET', 'bind')).toBe('bind\n127.0.0.1');
    expect(await redisCommand(server, 'CONFIG', 'GET', 'dir')).toBe(`dir\n${server.dir}`);
    expect(await redisCommand(server, 'CONFIG', 'GET', 'enable-debug-command')).toBe(
      'enable-debug-command\nlocal',
    );
    expect(await redisCommand(server.port, 'DEBUG', 'SLEEP', 0)).toBe('OK');
  });

  it('sends raw commands: replies as text, an error reply rejected', async () => {
    const server = await start();
    expect(await redisCommand(server, 'SET', 'k', 'two words')).toBe('OK');
    expect(await redisCommand(server, 'GET', 'k')).toBe('two words');
    expect(await redisCommand(server, 'GET', 'missing')).toBe('');
    expect(await redisCommand(server, 'INCRBY', 'n', 5)).toBe('5');
    expect(await redisCommand(server, 'RPUSH', 'l', 'a', 'b')).toBe('2');
    expect(await redisCommand(server, 'LRANGE', 'l', 0, -1)).toBe('a\nb');
    await expect(redisCommand(server, 'NOSUCHCOMMAND')).rejects.toThrow(/unknown command/);
    await expect(redisCommand(server, 'INCR', 'k')).rejects.toThrow(/not an integer/);
  });

  it('counts the commands a server ran, by name', async () => {
    const server = await start();
    const before = await redisCommandStats(server);
    for (let i = 0; i < 3; i += 1) await redisCommand(server, 'SET', `k${i}`, 'v');
    await redisCommand(server, 'CONFIG', 'GET', 'port');
    const after = await redisCommandStats(server.port);
    expect((after.get('set') ?? 0) - (before.get('set') ?? 0)).toBe(3);
    expect((after.get('config|get') ?? 0) - (before.get('config|get') ?? 0)).toBe(1);
    expect(after.has('get')).toBe(false);
  });

  it('kill is an outage by PID; restart comes back on the same port, empty', async () => {
    const server = await start();
    await redisCommand(server, 'SET', 'k', 'v');
    const first = server.pid as number;
    await server.kill();
    expect(server.pid).toBeUndefined();
    expect(await gone(first)).toBe(true);
    await expect(redisCommand(server, 'PING')).rejects.toThrow(/Connection refused/);
    await server.kill(); // nothing to kill: no error
    await server.restart();
    expect(server.pid).toBeTypeOf('number');
    expect(server.pid).not.toBe(first);
    expect(await redisCommand(server, 'CONFIG', 'GET', 'port')).toBe(`port\n${server.port}`);
    expect(await redisCommand(server, 'GET', 'k')).toBe('');
  });

  it('a server that dies on its own has no pid, and restarts like a killed one', async () => {
    const server = await start();
    const first = server.pid as number;
    await redisCommand(server, 'SHUTDOWN', 'NOSAVE').catch(() => {}); // the connection drops
    expect(await gone(first)).toBe(true);
    // `gone` counts a zombie as dead: Node may reap it (and see the exit) a moment later.
    await vi.waitFor(() => expect(server.pid).toBeUndefined(), { timeout: 2_000 });
    await server.restart();
    expect(await redisCommand(server, 'PING')).toBe('PONG');
  });

  it('restart of a running server replaces its process', async () => {
    const server = await start();
    const first = server.pid as number;
    await server.restart();
    expect(await gone(first)).toBe(true);
    expect(alive(server.pid as number)).toBe(true);
    expect(await redisCommand(server, 'PING')).toBe('PONG');
  });

  it('stop leaves no process and no folder; a second stop is fine, a restart is refused', async () => {
    const server = await startRedisServer();
    const pid = server.pid as number;
    await server.stop();
    expect(await gone(pid)).toBe(true);
    expect(existsSync(server.dir)).toBe(false);
    expect(server.pid).toBeUndefined();
    await server.stop();
    await expect(server.restart()).rejects.toThrow(/was stopped/);
  });

  it('a given port held by another server is an error, never a handle on that server', async () => {
    const holder = await start();
    await expect(startRedisServer({ port: holder.port })).rejects.toThrow(/Address already in use/);
    expect(alive(holder.pid as number)).toBe(true);
    expect(await redisCommand(holder, 'PING')).toBe('PONG');
  });
});

describe.skipIf(!canStart)('a Redis Cluster of its own (skipped: no redis-server)', () => {
  let cluster: RedisClusterServers;
  beforeAll(async () => {
    cluster = await startRedisCluster({ nodes: 3 });
  }, 30_000);
  afterAll(() => cluster?.stop());

  it('has 3 masters on distinct ports that answer CLUSTER INFO ok, every slot covered', async () => {
    expect(cluster.nodes).toHaveLength(3);
    expect(new Set(cluster.ports).size).toBe(3);
    expect(cluster.startupNodes).toEqual(
      cluster.ports.map((port) => ({ host: '127.0.0.1', port })),
    );
    for (const node of cluster.nodes) {
      const info = await redisCommand(node, 'CLUSTER', 'INFO');
      expect(info).toMatch(/^cluster_state:ok\r?$/m);
      expect(info).toMatch(/^cluster_slots_assigned:16384\r?$/m);
      expect(info).toMatch(/^cluster_known_nodes:3\r?$/m);
      expect(await redisCommand(node, 'ROLE')).toMatch(/^master\n/);
    }
  });

  it('a node killed and restarted rejoins the cluster (its nodes.conf is kept)', async () => {
    const node = cluster.nodes[1] as RedisServer;
    const id = await redisCommand(node, 'CLUSTER', 'MYID');
    await node.kill();
    await node.restart();
    expect(await redisCommand(node, 'CLUSTER', 'MYID')).toBe(id);
    let info = '';
    for (let i = 0; i < 400 && !/^cluster_state:ok\r?$/m.test(info); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      info = await redisCommand(node, 'CLUSTER', 'INFO');
    }
    expect(info).toMatch(/^cluster_state:ok\r?$/m);
    expect(info).toMatch(/^cluster_known_nodes:3\r?$/m);
  }, 20_000);

  it('stop leaves no node running and no folder', async () => {
    const pids = cluster.nodes.map((node) => node.pid as number);
    await cluster.stop();
    for (const pid of pids) expect(await gone(pid)).toBe(true);
    for (const node of cluster.nodes) expect(existsSync(node.dir)).toBe(false);
  });
});

describe.skipIf(!canStart)('a Sentinel of its own (skipped: no redis-server)', () => {
  it('monitors the master by name, and stop ends both processes', async () => {
    const setup = await startRedisSentinel({ name: 'notes-main' });
    const sentinel = setup.sentinel;
    const pids = [setup.master.pid as number, sentinel.pid as number];
    try {
      expect(setup.sentinels).toEqual([{ host: '127.0.0.1', port: sentinel.port }]);
      expect(
        await redisCommand(sentinel, 'SENTINEL', 'get-master-addr-by-name', 'notes-main'),
      ).toBe(`127.0.0.1\n${setup.master.port}`);
      expect(await redisCommand(sentinel, 'INFO', 'server')).toMatch(/^redis_mode:sentinel\r?$/m);
      expect(await redisCommand(setup.master, 'ROLE')).toMatch(/^master\n/);
    } finally {
      await setup.stop();
    }
    for (const pid of pids) expect(await gone(pid)).toBe(true);
    expect(existsSync(setup.master.dir)).toBe(false);
    expect(existsSync(sentinel.dir)).toBe(false);
  });
});

describe.skipIf(!canStart)('the safety net (skipped: no redis-server)', () => {
  const FIXTURE = fileURLToPath(new URL('./fixtures/forgotten-server.ts', import.meta.url));

  /** Runs the fixture; resolves with what it started and how it ended. */
  function forgetful(mode: 'exit' | 'signal') {
    const child = spawnFixture(FIXTURE, {
      args: [mode],
      conditions: ['@prod/source'],
      cwd: fileURLToPath(new URL('..', import.meta.url)),
    });
    const ended = child.exited.then((exit) => exit.signal ?? exit.code);
    const started = child
      .waitForLine('{')
      .then((line) => JSON.parse(line) as { pid: number; dir: string });
    return { child, started, ended };
  }

  it('kills a forgotten server and removes its folder when the process exits', async () => {
    const run = forgetful('exit');
    const { pid, dir } = await run.started;
    expect(await run.ended).toBe(0);
    expect(await gone(pid)).toBe(true);
    expect(existsSync(dir)).toBe(false);
  }, 20_000);

  it('kills it on SIGTERM too, and the process still ends by that signal', async () => {
    const run = forgetful('signal');
    const { pid, dir } = await run.started;
    expect(alive(pid)).toBe(true);
    run.child.kill('SIGTERM');
    expect(await run.ended).toBe('SIGTERM');
    expect(await gone(pid)).toBe(true);
    expect(existsSync(dir)).toBe(false);
  }, 20_000);
});
