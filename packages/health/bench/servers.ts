// Side-by-side probe servers for the benchmarks: @prod/health and @godaddy/terminus guarding
// the same dependency (a real Redis PING when Redis answers, else a 1 ms async stand-in),
// each call to the dependency counted.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTerminus } from '@godaddy/terminus';
import type { HttpRequest, Part } from '@prod/core';
import { createHealth, type Health, healthPart, redisCheck } from '@prod/health';
import { Redis } from 'ioredis';

export interface Dependency {
  readonly kind: 'redis' | 'simulated';
  calls: number;
  ping(): Promise<string>;
  close(): void;
}

export async function dependency(): Promise<Dependency> {
  const url = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
  } catch {
    redis.disconnect();
    const simulated: Dependency = {
      kind: 'simulated',
      calls: 0,
      ping: () => {
        simulated.calls += 1;
        return new Promise((resolve) => setTimeout(() => resolve('PONG'), 1));
      },
      close: () => {},
    };
    return simulated;
  }
  const real: Dependency = {
    kind: 'redis',
    calls: 0,
    ping: () => {
      real.calls += 1;
      return redis.ping();
    },
    close: () => redis.disconnect(),
  };
  return real;
}

export interface ProbeServer {
  readonly name: string;
  readonly url: string;
  readonly dependency: Dependency;
  close(): Promise<void>;
}

function request(path: string): HttpRequest {
  return {
    method: 'GET',
    path,
    route: path,
    headers: {},
    ip: '127.0.0.1',
    query: {},
    params: {},
    body: undefined,
    signal: undefined,
    meta: {},
  };
}

/** The smallest possible mount of a Part's GET routes on node:http (no framework). */
function serve(part: Part): Server {
  const routes = new Map((part.routes ?? []).map((route) => [route.path, route]));
  return createServer((req, res) => {
    const route = routes.get(req.url ?? '');
    if (route === undefined) {
      res.statusCode = 404;
      res.end();
      return;
    }
    void Promise.resolve(route.handler(request(route.path))).then((response) => {
      res.writeHead(response.status, response.headers as Record<string, string>);
      res.end(JSON.stringify(response.body));
    });
  });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closer(server: Server, extra: () => void): () => Promise<void> {
  return async () => {
    extra();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(() => resolve(undefined)));
  };
}

/** @prod/health with the Redis check in the background (every 1 s) or on demand. */
export async function prodServer(
  dep: Dependency,
  mode: 'background' | 'on-demand',
): Promise<ProbeServer & { health: Health; part: Part }> {
  const client = { ping: () => dep.ping() };
  const health = createHealth({
    checks: [redisCheck(client, mode === 'background' ? { interval: 1000 } : { cacheTtl: 1000 })],
  });
  await health.report('readiness');
  const part = healthPart(health);
  const server = serve(part);
  return {
    name: `@prod/health (${mode})`,
    url: `${await listen(server)}/health/ready`,
    dependency: dep,
    health,
    part,
    close: closer(server, () => health.stop()),
  };
}

/** terminus: its health check runs the PING on every probe. */
export async function terminusServer(
  dep: Dependency,
): Promise<ProbeServer & { check: () => Promise<unknown> }> {
  const check = async (): Promise<unknown> => dep.ping();
  const server = createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  createTerminus(server, { signals: [], healthChecks: { '/ready': check } });
  return {
    name: '@godaddy/terminus',
    url: `${await listen(server)}/ready`,
    dependency: dep,
    check,
    close: closer(server, () => {}),
  };
}
