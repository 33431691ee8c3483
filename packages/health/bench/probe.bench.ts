/**
 * A readiness probe of @prod/health against @godaddy/terminus 4, each guarding the same
 * dependency (a real Redis PING when Redis answers, else a 1 ms stand-in): in-process (the
 * handler an adapter calls, against the check terminus awaits on every probe) and over HTTP
 * (one keep-alive request at a time on 127.0.0.1). Dependency calls per probe are counted by
 * bench/probe-load.ts. Run: `pnpm bench:micro health/bench/probe`.
 */
import { Agent, get } from 'node:http';
import { keep, runMicro } from '../../../config/bench-micro.js';
import { dependency, prodServer, terminusServer } from './servers.js';

const background = await prodServer(await dependency(), 'background');
const onDemand = await prodServer(await dependency(), 'on-demand');
const terminus = await terminusServer(await dependency());
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

const readyRoute = background.part.routes?.find((r) => r.path === '/health/ready');
if (readyRoute === undefined) throw new Error('no ready route');
const readyRequest = {
  method: 'GET',
  path: '/health/ready',
  route: '/health/ready',
  headers: {},
  ip: undefined,
  query: {},
  params: {},
  body: undefined,
  signal: undefined,
  meta: {},
} as const;

function probe(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    get(url, { agent }, (res) => {
      res.resume();
      res.on('end', () =>
        res.statusCode === 200 ? resolve() : reject(new Error(`${url}: ${res.statusCode}`)),
      );
    }).on('error', reject);
  });
}

const PROD_HANDLER = '@prod/health ready route handler (background check, cached)';
const TERMINUS_CHECK = 'terminus health check function (what it awaits per probe)';
const PROD_BACKGROUND = '@prod/health GET /health/ready (background check, cached)';
const PROD_ON_DEMAND = '@prod/health GET /health/ready (on demand, 1 s cache, single-flight)';
const TERMINUS = '@godaddy/terminus GET /ready (check runs per probe)';

try {
  await runMicro({
    file: import.meta.url,
    title: `@prod/health: readiness probe vs terminus (dependency: ${background.dependency.kind})`,
    groups: [
      {
        name: 'readiness probe in-process (no HTTP)',
        // terminus's check is a Redis round trip: its cost is mostly waiting.
        clock: 'wall',
        contenders: {
          [PROD_HANDLER]: async () => keep(await readyRoute.handler(readyRequest)),
          [TERMINUS_CHECK]: async () => keep(await terminus.check()),
        },
        ratios: [{ ours: PROD_HANDLER, peer: TERMINUS_CHECK }],
      },
      {
        name: 'readiness probe over HTTP (keep-alive, 127.0.0.1, one at a time)',
        clock: 'wall',
        contenders: {
          [PROD_BACKGROUND]: () => probe(background.url),
          [PROD_ON_DEMAND]: () => probe(onDemand.url),
          [TERMINUS]: () => probe(terminus.url),
        },
        ratios: [
          { ours: PROD_BACKGROUND, peer: TERMINUS },
          { ours: PROD_ON_DEMAND, peer: TERMINUS },
        ],
      },
    ],
  });
} finally {
  agent.destroy();
  const all = [background, onDemand, terminus];
  await Promise.all(all.map((s) => s.close()));
  for (const s of all) s.dependency.close();
}
