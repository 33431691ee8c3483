import {
  Agent,
  createServer,
  get,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { createHealth, type Health, onShutdown, type ShutdownController } from '@prod/health';
import { afterEach, describe, expect, it, vi } from 'vitest';

interface Harness {
  server: Server;
  port: number;
  health: Health;
  pending: ServerResponse[];
  received: () => number;
}

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function harness(
  handler?: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<Harness> {
  const health = createHealth();
  const pending: ServerResponse[] = [];
  let received = 0;
  const server = createServer(
    handler ??
      ((_req, res) => {
        received += 1;
        pending.push(res);
      }),
  );
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    health.stop();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(() => resolve(undefined)));
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    health,
    pending,
    received: () => received,
  };
}

function connectionCount(server: Server): Promise<number> {
  return new Promise((resolve, reject) =>
    server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
  );
}

function install(...args: Parameters<typeof onShutdown>): ShutdownController {
  const controller = onShutdown(...args);
  cleanups.push(() => controller.dispose());
  return controller;
}

function request(
  port: number,
  agent: Agent | false = false,
): Promise<{ status?: number; connection?: string; error?: string }> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      res.resume();
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, connection: String(res.headers.connection) }),
      );
      res.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? 'error' }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? 'error' }));
  });
}

describe('onShutdown', () => {
  it('fails readiness at once, keeps liveness, runs hooks LIFO and exits 0', async () => {
    const { server, health } = await harness();
    const order: string[] = [];
    const exit = vi.fn();
    const controller = install(server, {
      health,
      signals: [],
      preStopDelay: 30,
      exit,
      hooks: [
        { name: 'postgres', close: () => void order.push('postgres') },
        { name: 'cache', close: async () => void order.push('cache') },
      ],
    });
    controller.register({ name: 'queue', close: () => void order.push('queue') });
    const done = controller.shutdown('test');
    expect(controller.phase).toBe('stopping');
    expect((await health.response('readiness')).status).toBe(503);
    expect((await health.response('liveness')).status).toBe(200);
    const report = await done;
    expect(order).toEqual(['queue', 'cache', 'postgres']);
    expect(report).toMatchObject({ reason: 'test', exitCode: 0, drained: true, abandoned: [] });
    expect(report.hooks.map((h) => h.status)).toEqual(['ok', 'ok', 'ok']);
    expect(exit).toHaveBeenCalledExactlyOnceWith(0);
    expect(controller.phase).toBe('done');
    expect(server.listening).toBe(false);
  });

  it('is idempotent: a second shutdown() returns the same run', async () => {
    const { server, health } = await harness();
    const exit = vi.fn();
    const controller = install(server, { health, signals: [], exit });
    const first = controller.shutdown();
    expect(controller.shutdown()).toBe(first);
    await first;
    expect(exit).toHaveBeenCalledTimes(1);
  });

  it('lets an in-flight keep-alive request finish with Connection: close, then refuses new ones', async () => {
    const h = await harness();
    const agent = new Agent({ keepAlive: true });
    cleanups.push(() => agent.destroy());
    const controller = install(h.server, { health: h.health, signals: [], exit: false });
    const answer = request(h.port, agent);
    await vi.waitFor(() => expect(h.received()).toBe(1));
    const done = controller.shutdown();
    await vi.waitFor(() => expect(controller.phase).toBe('draining'));
    expect(h.health.inFlight).toBe(1);
    h.pending[0]?.end('ok');
    expect(await answer).toEqual({ status: 200, connection: 'close' });
    const report = await done;
    expect(report.exitCode).toBe(0);
    expect((await request(h.port)).error).toBe('ECONNREFUSED');
  });

  it('ends idle keep-alive connections after idleGrace, and counts them', async () => {
    const h = await harness((_req, res) => res.end('hi'));
    const controller = install(h.server, {
      health: h.health,
      signals: [],
      exit: false,
      idleGrace: 20,
    });
    const agent = new Agent({ keepAlive: true });
    cleanups.push(() => agent.destroy());
    const first = await request(h.port, agent);
    expect(first).toEqual({ status: 200, connection: 'keep-alive' });
    const [socket] = Object.values(agent.freeSockets).flat();
    expect(socket).toBeDefined();
    const closed = new Promise((resolve) => socket?.once('close', resolve));
    const report = await controller.shutdown();
    await closed;
    expect(socket?.destroyed).toBe(true);
    expect(report.connections).toEqual({ idleClosed: 1, cut: 0, requestsCut: 0 });
  });

  it('answers a request sent on an idle keep-alive connection after the listener closed', async () => {
    const h = await harness((_req, res) => res.end('late but answered'));
    const controller = install(h.server, {
      health: h.health,
      signals: [],
      exit: false,
      idleGrace: 10_000,
    });
    const agent = new Agent({ keepAlive: true });
    cleanups.push(() => agent.destroy());
    expect((await request(h.port, agent)).connection).toBe('keep-alive');
    const done = controller.shutdown();
    await vi.waitFor(() => expect(h.server.listening).toBe(false));
    // The same idle connection: Node's own close() would have destroyed it by now.
    const late = await request(h.port, agent);
    expect(late).toEqual({ status: 200, connection: 'close' });
    const report = await done;
    expect(report).toMatchObject({ exitCode: 0, drained: true });
    expect(report.connections).toEqual({ idleClosed: 0, cut: 0, requestsCut: 0 });
    expect((await request(h.port)).error).toBe('ECONNREFUSED');
  });

  it('keeps reading after it ends an idle connection: a request already sent gets a FIN, not a reset, and never reaches the app', async () => {
    let handled = 0;
    const h = await harness((_req, res) => {
      handled += 1;
      res.end('ok');
    });
    const controller = install(h.server, {
      health: h.health,
      signals: [],
      exit: false,
      idleGrace: 20,
    });
    // allowHalfOpen: the client can still send after the server's FIN, as a client that has
    // not read it yet does.
    const socket: Socket = connect({ host: '127.0.0.1', port: h.port, allowHalfOpen: true });
    cleanups.push(() => void socket.destroy());
    await new Promise((resolve) => socket.once('connect', resolve));
    const events: string[] = [];
    socket.on('error', (error: NodeJS.ErrnoException) => events.push(error.code ?? 'error'));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.on('end', () => {
      events.push('end');
      // A request on its way when the FIN arrived, its body still coming: against a socket
      // that was destroyed, the second write meets a reset (EPIPE / ECONNRESET).
      socket.write('POST /late HTTP/1.1\r\nHost: x\r\nContent-Length: 131072\r\n\r\n');
      socket.write('x'.repeat(65_536));
      setTimeout(() => socket.write('x'.repeat(65_536)), 30);
      setTimeout(() => socket.end(), 60);
    });
    socket.resume();
    await vi.waitFor(async () => expect(await connectionCount(h.server)).toBe(1));
    const report = await controller.shutdown();
    await closed;
    expect(events).toEqual(['end']);
    expect(handled).toBe(0);
    expect(report.connections.idleClosed).toBe(1);
  });

  it('marks a response with Connection: close even when the part-level header is missing', async () => {
    const h = await harness();
    const agent = new Agent({ keepAlive: true });
    cleanups.push(() => agent.destroy());
    const controller = install(h.server, {
      health: h.health,
      signals: [],
      exit: false,
      preStopDelay: 50,
    });
    const answer = request(h.port, agent);
    await vi.waitFor(() => expect(h.received()).toBe(1));
    const done = controller.shutdown();
    expect(controller.phase).toBe('stopping');
    h.pending[0]?.end('ok');
    expect(await answer).toEqual({ status: 200, connection: 'close' });
    await done;
  });

  it('exits 1 when the drain deadline passes, cutting off what is left and still running hooks', async () => {
    const h = await harness();
    const exit = vi.fn();
    let hookRan = false;
    const controller = install(h.server, {
      health: h.health,
      signals: [],
      drainTimeout: 50,
      exit,
      hooks: [
        {
          name: 'db',
          close: () => {
            hookRan = true;
          },
        },
      ],
    });
    const answer = request(h.port);
    await vi.waitFor(() => expect(h.received()).toBe(1));
    const report = await controller.shutdown();
    expect(report).toMatchObject({ drained: false, exitCode: 1, abandoned: ['http request'] });
    expect(report.connections).toEqual({ idleClosed: 0, cut: 1, requestsCut: 1 });
    expect(report.error?.details).toMatchObject({ connectionsCut: 1, requestsCut: 1 });
    expect(hookRan).toBe(true);
    expect(exit).toHaveBeenCalledWith(1);
    expect((await answer).error).toBeDefined();
  });

  it('waits for beacons (long work) until they are released', async () => {
    const { server, health } = await harness();
    const controller = install(server, { health, signals: [], exit: false });
    const job = health.beacon('nightly-export');
    const done = controller.shutdown();
    await vi.waitFor(() => expect(controller.phase).toBe('draining'));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(controller.phase).toBe('draining');
    job.release();
    expect((await done).drained).toBe(true);
  });

  it('reports a beacon that outlives the drain deadline', async () => {
    const { server, health } = await harness();
    const controller = install(server, { health, signals: [], drainTimeout: 20, exit: false });
    health.beacon('stream');
    const report = await controller.shutdown();
    expect(report).toMatchObject({ drained: false, exitCode: 1, abandoned: ['stream'] });
    expect(report.error?.code).toBe('HEALTH_DRAIN_TIMEOUT');
  });

  it('bounds a hanging hook by its timeout, aborts its signal and runs the next hooks', async () => {
    const { server, health } = await harness();
    let seen: AbortSignal | undefined;
    const order: string[] = [];
    const controller = install(server, {
      health,
      signals: [],
      exit: false,
      hooks: [
        { name: 'db', close: () => void order.push('db') },
        {
          name: 'stuck',
          timeout: 30,
          close: (signal) => {
            seen = signal;
            return new Promise(() => {});
          },
        },
      ],
    });
    const report = await controller.shutdown();
    expect(report.hooks.map((h) => [h.name, h.status])).toEqual([
      ['stuck', 'timeout'],
      ['db', 'ok'],
    ]);
    expect(report.hooks[0]?.error?.code).toBe('HEALTH_HOOK_TIMEOUT');
    expect(seen?.aborted).toBe(true);
    expect(order).toEqual(['db']);
    expect(report.exitCode).toBe(1);
  });

  it('reports a throwing hook as HEALTH_HOOK_FAILED without a connection string', async () => {
    const { server, health } = await harness();
    const controller = install(server, {
      health,
      signals: [],
      exit: false,
      hooks: [
        {
          name: 'db',
          close: () => {
            throw new Error('cannot end postgres://app:hunter2@db/notes');
          },
        },
      ],
    });
    const report = await controller.shutdown();
    expect(report.hooks[0]?.status).toBe('failed');
    expect(report.hooks[0]?.error?.code).toBe('HEALTH_HOOK_FAILED');
    expect(report.hooks[0]?.error?.message).not.toContain('hunter2');
    expect(report.exitCode).toBe(1);
  });

  it('starts on a signal, and a second signal forces exit 1', async () => {
    const { server, health } = await harness();
    const exit = vi.fn();
    install(server, { health, signals: ['SIGUSR2'], preStopDelay: 300, exit });
    process.emit('SIGUSR2', 'SIGUSR2');
    expect(health.shuttingDown).toBe(true);
    expect(exit).not.toHaveBeenCalled();
    process.emit('SIGUSR2', 'SIGUSR2');
    expect(exit).toHaveBeenCalledExactlyOnceWith(1);
  });

  it('dispose() removes its signal handlers', async () => {
    const { server, health } = await harness();
    const before = process.listenerCount('SIGUSR2');
    const controller = onShutdown(server, { health, signals: ['SIGUSR2'], exit: false });
    expect(process.listenerCount('SIGUSR2')).toBe(before + 1);
    controller.dispose();
    expect(process.listenerCount('SIGUSR2')).toBe(before);
  });

  it('works on several servers and with none', async () => {
    const a = await harness();
    const b = await harness();
    const both = install([a.server, b.server], { signals: [], exit: false });
    expect((await both.shutdown()).exitCode).toBe(0);
    expect([a.server.listening, b.server.listening]).toEqual([false, false]);
    const none = install([], { signals: [], exit: false });
    expect((await none.shutdown()).exitCode).toBe(0);
  });

  it.each([
    ['a malformed hook', { hooks: [{ name: 'x' }] }, 'hooks[0]'],
    [
      'a hook timeout',
      { hooks: [{ name: 'x', close: () => {}, timeout: -1 }] },
      'hooks[0].timeout',
    ],
    ['hooks', { hooks: 'db' }, 'hooks'],
    ['drainTimeout', { drainTimeout: Number.NaN }, 'drainTimeout'],
    ['preStopDelay', { preStopDelay: -5 }, 'preStopDelay'],
    ['hookTimeout', { hookTimeout: '2s' }, 'hookTimeout'],
    ['idleGrace', { idleGrace: Number.POSITIVE_INFINITY }, 'idleGrace'],
    ['signals', { signals: 'SIGTERM' }, 'signals'],
    ['exit', { exit: 0 }, 'exit'],
    ['logger', { logger: { info: () => {} } }, 'logger.warn'],
    ['health', { health: {} }, 'health'],
  ])(
    'refuses %s with HEALTH_INVALID_OPTIONS naming the option',
    async (_label, options, option) => {
      const { server } = await harness();
      expect(() => onShutdown(server, { signals: [], ...(options as object) })).toThrow(
        expect.objectContaining({
          code: 'HEALTH_INVALID_OPTIONS',
          details: expect.objectContaining({ option }),
        }),
      );
    },
  );

  it('refuses a server that cannot be drained, and a malformed hook at register()', async () => {
    expect(() => onShutdown({} as never, { signals: [] })).toThrow(
      expect.objectContaining({ code: 'HEALTH_INVALID_OPTIONS' }),
    );
    const { server } = await harness();
    const controller = install(server, { signals: [], exit: false });
    expect(() => controller.register({ name: 'x' } as never)).toThrow(
      expect.objectContaining({
        code: 'HEALTH_INVALID_OPTIONS',
        details: expect.objectContaining({ option: 'hook' }),
      }),
    );
  });

  it('logs the steps at info and the details at debug', async () => {
    const h = await harness((_req, res) => res.end('hi'));
    const lines: Array<[string, string, unknown]> = [];
    const at =
      (level: string) =>
      (data: unknown, message?: string): void =>
        void lines.push([level, message ?? '', data]);
    const controller = install(h.server, {
      health: h.health,
      signals: [],
      exit: false,
      idleGrace: 10,
      hooks: [{ name: 'db', close: () => {} }],
      logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
    });
    await controller.shutdown('test');
    expect(lines.map(([level, message]) => `${level} ${message}`)).toEqual([
      'info shutdown: readiness failing',
      'info shutdown: draining',
      'debug shutdown: drained',
      'debug shutdown: running hooks',
      'debug shutdown: hook done',
      'info shutdown: done',
    ]);
    expect(lines.at(-1)?.[2]).toMatchObject({ exitCode: 0, drained: true, failedHooks: [] });
  });

  it('says which hook made the exit code 1', async () => {
    const { server, health } = await harness();
    const info = vi.fn();
    const controller = install(server, {
      health,
      signals: [],
      exit: false,
      hooks: [{ name: 'db', close: () => Promise.reject(new Error('boom')) }],
      logger: { info, warn: vi.fn(), error: vi.fn() },
    });
    const report = await controller.shutdown();
    expect(report).toMatchObject({ exitCode: 1, drained: true });
    expect(info).toHaveBeenLastCalledWith(
      expect.objectContaining({ exitCode: 1, drained: true, failedHooks: ['db'] }),
      'shutdown: done',
    );
  });
});
