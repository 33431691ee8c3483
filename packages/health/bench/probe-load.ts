// 1,000 probes/s against each server, with the same dependency check: probe latency and
// dependency calls per probe, over several rounds in alternating order. The servers run in a
// child process so the load generator does not share their event loop. Bounded, 127.0.0.1
// only. Run from packages/health: node --conditions=@prod/source --import tsx bench/probe-load.ts
// Environment: RATE probes/s (1000), DURATION s per measurement (5), ROUNDS (3), BENCH_RESULTS
// (a folder: the result is written there as JSON for scripts/bench.mjs).
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { dependency, type ProbeServer, prodServer, terminusServer } from './servers.js';

type Message = { urls: Record<string, string>; kind: string } | { counts: Record<string, number> };

interface Run {
  readonly probes: number;
  readonly calls: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};
const span = (values: readonly number[], digits = 0): string =>
  `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)} - ${Math.max(...values).toFixed(digits)})`;

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
  // The parent going away (Ctrl-C, crash) must not leave the servers running.
  process.on('disconnect', () => process.exit(0));
  send({
    urls: Object.fromEntries(servers.map((s) => [s.name, s.url])),
    kind: servers[0]?.dependency.kind ?? 'unknown',
  });
} else {
  const duration = Number(process.env.DURATION ?? '5');
  const rate = Number(process.env.RATE ?? '1000');
  const rounds = Number(process.env.ROUNDS ?? '3');
  const loadBefore = os.loadavg()[0] ?? 0;
  const started = Date.now();
  const child = fork(fileURLToPath(import.meta.url), ['serve'], {
    execArgv: ['--conditions=@prod/source', '--import', 'tsx'],
  });
  process.once('exit', () => child.kill());
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
  const entries = Object.entries(hello.urls);
  const runs = new Map<string, Run[]>(entries.map(([name]) => [name, []]));
  for (let round = 0; round < rounds; round += 1) {
    for (const [name, url] of round % 2 === 0 ? entries : [...entries].reverse()) {
      // Warm-up (JIT, sockets), not counted.
      await autocannon({ url, connections: 10, overallRate: rate, duration: 1 });
      const before = (await counts())[name] ?? 0;
      const result = await autocannon({ url, connections: 10, overallRate: rate, duration });
      const calls = ((await counts())[name] ?? 0) - before;
      runs.get(name)?.push({
        probes: result.requests.total,
        calls,
        p50: result.latency.p50,
        p99: result.latency.p99,
        errors: result.non2xx + result.errors,
      });
      process.stderr.write(
        `  round ${round + 1}/${rounds} ${name}: ${result.requests.total} probes, ${calls} calls\n`,
      );
    }
  }
  child.send('stop');
  const loadAfter = os.loadavg()[0] ?? 0;
  const lines = [
    `### @prod/health vs terminus: ${rate} probes/s (autocannon)`,
    '',
    `Dependency: ${hello.kind}; ${rounds} rounds x ${duration} s per server (after 1 s of warm-up), 10 connections, alternating order; load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after; ${Math.round((Date.now() - started) / 1000)} s in all. Median (min - max) over the rounds.`,
    '',
    '| server | probes per round | dependency calls per round | calls per probe | p50 ms | p99 ms | errors |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...entries.map(([name]) => {
      const r = runs.get(name) ?? [];
      return `| ${name} | ${span(r.map((x) => x.probes))} | ${span(r.map((x) => x.calls))} | ${span(
        r.map((x) => x.calls / Math.max(1, x.probes)),
        4,
      )} | ${span(r.map((x) => x.p50))} | ${span(r.map((x) => x.p99))} | ${r.reduce((n, x) => n + x.errors, 0)} |`;
    }),
    '',
  ];
  const markdown = lines.join('\n');
  console.log(markdown);
  const out = process.env.BENCH_RESULTS;
  if (out !== undefined && out !== '') {
    const report = {
      kind: 'http',
      id: 'health-probe-load',
      title: `@prod/health vs terminus: ${rate} probes/s`,
      date: new Date().toISOString().slice(0, 10),
      rounds,
      loadBefore,
      loadAfter,
      contenders: Object.fromEntries(runs),
      ratios: [],
      markdown,
    };
    writeFileSync(join(out, 'http-health-probe-load.json'), `${JSON.stringify(report, null, 1)}\n`);
  }
}
