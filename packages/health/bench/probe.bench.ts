import { Agent, get } from 'node:http';
import { afterAll, bench, describe } from 'vitest';
import { dependency, prodServer, terminusServer } from './servers.js';

// Each server guards its own counted dependency, so calls per probe can be read per row.
const background = await prodServer(await dependency(), 'background');
const onDemand = await prodServer(await dependency(), 'on-demand');
const terminus = await terminusServer(await dependency());
// The in-process rows use their own counters, so they do not pollute the HTTP counts.
const terminusInProcess = await terminusServer(await dependency());
const agent = new Agent({ keepAlive: true, maxSockets: 8 });
const probes = new Map<string, number>();

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

function probe(url: string, name: string): Promise<void> {
  probes.set(name, (probes.get(name) ?? 0) + 1);
  return new Promise((resolve, reject) => {
    get(url, { agent }, (res) => {
      res.resume();
      res.on('end', () =>
        res.statusCode === 200 ? resolve() : reject(new Error(`${res.statusCode}`)),
      );
    }).on('error', reject);
  });
}

const baseline = new Map(
  [background, onDemand, terminus].map((s) => [s.name, s.dependency.calls] as const),
);

afterAll(async () => {
  const rows = [background, onDemand, terminus].map((s) => {
    const calls = s.dependency.calls - (baseline.get(s.name) ?? 0);
    const count = probes.get(s.name) ?? 0;
    return `${s.name}: ${count} HTTP probes, ${calls} dependency calls (${(calls / Math.max(1, count)).toFixed(4)} per probe, ${s.dependency.kind})`;
  });
  console.log(`\n${rows.join('\n')}\n`);
  agent.destroy();
  const all = [background, onDemand, terminus, terminusInProcess];
  await Promise.all(all.map((s) => s.close()));
  for (const s of all) s.dependency.close();
});

describe('readiness probe over HTTP (keep-alive, 127.0.0.1)', () => {
  bench('@prod/health GET /health/ready (background check, cached)', () =>
    probe(background.url, background.name),
  );
  bench('@prod/health GET /health/ready (on demand, 1 s cache, single-flight)', () =>
    probe(onDemand.url, onDemand.name),
  );
  bench('@godaddy/terminus GET /ready (check runs per probe)', () =>
    probe(terminus.url, terminus.name),
  );
});

describe('readiness probe in-process (no HTTP)', () => {
  bench('@prod/health ready route handler (background check, cached)', async () => {
    await readyRoute.handler(readyRequest);
  });
  bench('terminus health check function (what it awaits per probe)', async () => {
    await terminusInProcess.check();
  });
});
