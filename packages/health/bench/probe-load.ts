// 1,000 probes/s for 5 s against each server, with the same dependency check: probe latency
// and dependency calls per probe. The servers run in a child process so the load generator
// does not share their event loop. Bounded, 127.0.0.1 only.
// Run: pnpm exec tsx --conditions=@prod/source bench/probe-load.ts
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { dependency, type ProbeServer, prodServer, terminusServer } from './servers.js';

type Message = { urls: Record<string, string>; kind: string } | { counts: Record<string, number> };

if (process.argv[2] === 'serve') {
  const servers: ProbeServer[] = [
    await prodServer(await dependency(), 'background'),
    await prodServer(await dependency(), 'on-demand'),
    await terminusServer(await dependency()),
  ];
  const send = (message: Message): void => {
    process.send?.(message);
  };
  process.on('message', (message) => {
    if (message === 'counts') {
      send({ counts: Object.fromEntries(servers.map((s) => [s.name, s.dependency.calls])) });
    } else if (message === 'stop') {
      void Promise.all(servers.map((s) => s.close())).then(() => {
        for (const s of servers) s.dependency.close();
        process.exit(0);
      });
    }
  });
  send({
    urls: Object.fromEntries(servers.map((s) => [s.name, s.url])),
    kind: servers[0]?.dependency.kind ?? 'unknown',
  });
} else {
  const duration = Number(process.env.DURATION ?? '5');
  const rate = Number(process.env.RATE ?? '1000');
  const child = fork(fileURLToPath(import.meta.url), ['serve'], {
    execArgv: ['--conditions=@prod/source', '--import', 'tsx'],
  });
  const next = (): Promise<Message> =>
    new Promise((resolve) => child.once('message', (m) => resolve(m as Message)));
  const hello = await next();
  if (!('urls' in hello)) throw new Error('unexpected message');
  const counts = async (): Promise<Record<string, number>> => {
    const reply = next();
    child.send('counts');
    const message = await reply;
    if (!('counts' in message)) throw new Error('unexpected message');
    return message.counts;
  };
  const rows: string[] = [];
  const entries = Object.entries(hello.urls);
  if (process.env.ORDER === 'reverse') entries.reverse();
  for (const [name, url] of entries) {
    // Warm-up (JIT, sockets), not counted.
    await autocannon({ url, connections: 10, overallRate: rate, duration: 1 });
    const before = (await counts())[name] ?? 0;
    const result = await autocannon({ url, connections: 10, overallRate: rate, duration });
    const calls = ((await counts())[name] ?? 0) - before;
    const probes = result.requests.total;
    rows.push(
      `| ${name} | ${probes} | ${result.latency.p50} | ${result.latency.p99} | ${result.latency.max} | ${calls} | ${(calls / probes).toFixed(4)} | ${result.non2xx + result.errors} |`,
    );
  }
  child.send('stop');
  console.log(`dependency: ${hello.kind}, ${rate} probes/s for ${duration} s, 10 connections`);
  console.log(
    '| server | probes | p50 ms | p99 ms | max ms | dependency calls | calls/probe | errors |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  console.log(rows.join('\n'));
}
