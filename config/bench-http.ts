// Shared driver of the adapters' HTTP load benchmarks (packages/{express,fastify,koa}/bench/
// http-load.ts): each contender's server runs in its own child process, autocannon runs in
// this one, and the contenders are measured in alternating order over several rounds so that
// a noisy shared machine does not favour whoever runs first. Every ratio is taken within each
// round (the contenders of a round are measured back to back) and reported as the median of
// the rounds with their range; req/s and server CPU per request are two readings of the same
// runs, and a ratio is only claimed where both agree. Loads go to 127.0.0.1 only and every
// run is bounded in time.
//
// Environment: CONNECTIONS (50), DURATION seconds per measurement (5), WARMUP seconds before
// each measurement (1), ROUNDS (5), BENCH_RESULTS (a folder: the result is written there as
// JSON for scripts/bench.mjs), ABLATION=1 (also measure the @prod stack built up one part at a
// time), CPU_PROF (a folder: each server runs with `node --cpu-prof` and writes its profiles
// in a subfolder named after the contender; the largest file is the main thread's).
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Benchmark settings from the environment (not turbo tasks: nothing is cached).
const setting = (name: string): string | undefined => process.env[name];

/** A started server: where it answers and how to stop it. */
export interface BenchServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Starts one contender's server on 127.0.0.1, port 0. `log` is its logging destination. */
export type Contender = (log: DiscardStream) => Promise<BenchServer>;

/** A logging destination that drops every line, counting them. */
export interface DiscardStream {
  lines: number;
  write(chunk: string): boolean;
}

/** A pino-compatible destination that drops what it is given (and counts the lines). */
export function discardStream(): DiscardStream {
  return {
    lines: 0,
    write(chunk: string): boolean {
      // pino writes one line per call; a chunk holding several is counted as several.
      let count = 0;
      for (let i = chunk.indexOf('\n'); i !== -1; i = chunk.indexOf('\n', i + 1)) count += 1;
      this.lines += count;
      return true;
    },
  };
}

/** Listens on 127.0.0.1 and an ephemeral port; resolves the base URL. */
export async function listen(server: import('node:http').Server): Promise<BenchServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve(undefined)));
    },
  };
}

/** How to make each part of the @prod stack; `P` is @prod/core's `Part`. */
export interface ProdStack<P> {
  readonly tracing: () => P;
  readonly logging: (log: DiscardStream) => P;
  readonly metrics: () => P;
  /** The neutral hello route. */
  readonly hello: P;
  /**
   * The error part, when the bench can import it (it adds no work to a 200 answer). The
   * adapters no longer depend on @prod/errors, so their benches leave it out.
   */
  readonly errors?: () => P;
}

/**
 * The @prod stack as a contender named `name` (tracing, request logging, metrics, the hello
 * route and errors if given, in this mount order). With ABLATION=1, also the stack built up one
 * part at a time (adapter + hello route only, then + tracing, + logging, + metrics), to show
 * what each part costs.
 */
export function prodContenders<P>(
  name: string,
  stack: ProdStack<P>,
  mount: (parts: P[]) => Promise<BenchServer>,
): Record<string, Contender> {
  const steps: [string, (log: DiscardStream) => P[]][] = [
    ['@prod: adapter + hello part only', () => [stack.hello]],
    ['@prod: + tracingPart', () => [stack.tracing(), stack.hello]],
    ['@prod: + requestLoggingPart', (log) => [stack.tracing(), stack.logging(log), stack.hello]],
    [
      '@prod: + metricsPart',
      (log) => [stack.tracing(), stack.logging(log), stack.metrics(), stack.hello],
    ],
  ];
  const full = (log: DiscardStream): P[] => [
    stack.tracing(),
    stack.logging(log),
    stack.metrics(),
    stack.hello,
    ...(stack.errors === undefined ? [] : [stack.errors()]),
  ];
  // Without the error part, the last step is the full stack itself.
  const ablation =
    setting('ABLATION') !== '1' ? [] : stack.errors === undefined ? steps.slice(0, -1) : steps;
  return Object.fromEntries(
    [...ablation, [name, full] as const].map(([label, parts]) => [
      label,
      (log: DiscardStream) => mount(parts(log)),
    ]),
  );
}

/** What {@link runHttpLoad} needs. */
export interface HttpLoadOptions {
  /** Title of the table, e.g. `Express 5.1.0`. */
  readonly title: string;
  /** `import.meta.url` of the bench file: it is forked (with `serve <name>`) to run a server. */
  readonly benchUrl: string;
  /** In table order; the ratio column divides by `baseline`. */
  readonly contenders: Readonly<Record<string, Contender>>;
  /** The name of the contender the ratio is relative to (the peer stack). */
  readonly baseline: string;
  /** The name of the bare framework contender: the only one not echoing `x-request-id`. */
  readonly bare: string;
  /** The route under load, e.g. `/hello`. */
  readonly path: string;
}

interface Measurement {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  /** CPU time of the server process per answered request, in microseconds. */
  readonly cpuPerRequest: number;
}

type ChildMessage =
  | { readonly url: string }
  | { readonly logLines: number; readonly cpuMicros: number };

// The slice of autocannon 9 used here (it ships no types).
interface AutocannonResult {
  readonly requests: { readonly average: number; readonly total: number };
  readonly latency: { readonly p50: number; readonly p99: number };
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
}
type Autocannon = (options: {
  readonly url: string;
  readonly connections: number;
  readonly duration: number;
  readonly headers?: Readonly<Record<string, string>>;
}) => Promise<AutocannonResult>;

const numberFromEnv = (name: string, fallback: number): number => {
  const value = Number(setting(name) ?? fallback);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};

async function cpuOf(child: { ask: (m: string) => Promise<ChildMessage> }): Promise<number> {
  const stats = await child.ask('stats');
  return 'cpuMicros' in stats ? stats.cpuMicros : 0;
}

interface RoundRatios {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly rounds: readonly number[];
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

/**
 * In the child (`serve <name>` arguments): starts that contender and answers the parent's
 * messages. In the parent: runs the benchmark and prints a markdown table.
 */
export async function runHttpLoad(options: HttpLoadOptions): Promise<void> {
  if (process.argv[2] === 'serve') return serve(options, process.argv[3] ?? '');
  return measure(options);
}

async function serve(options: HttpLoadOptions, name: string): Promise<void> {
  const contender = options.contenders[name];
  if (contender === undefined) throw new Error(`no contender named ${name}`);
  const log = discardStream();
  const server = await contender(log);
  const send = (message: ChildMessage): void => {
    process.send?.(message);
  };
  process.on('message', (message) => {
    if (message === 'stats') {
      const cpu = process.cpuUsage();
      send({ logLines: log.lines, cpuMicros: cpu.user + cpu.system });
    } else if (message === 'stop') void server.close().finally(() => process.exit(0));
  });
  // The parent going away (Ctrl-C, crash) must not leave the server running.
  process.on('disconnect', () => process.exit(0));
  send({ url: server.url });
}

async function measure(options: HttpLoadOptions): Promise<void> {
  const autocannon = createRequire(options.benchUrl)('autocannon') as Autocannon;
  const connections = numberFromEnv('CONNECTIONS', 50);
  const duration = numberFromEnv('DURATION', 5);
  const warmup = numberFromEnv('WARMUP', 1);
  const rounds = numberFromEnv('ROUNDS', 5);
  const names = Object.keys(options.contenders);
  const loadBefore = os.loadavg();
  const started = Date.now();

  const children = new Map<string, { url: string; ask: (m: string) => Promise<ChildMessage> }>();
  const childProcesses = new Map<string, ReturnType<typeof fork>>();
  const stopAll = (): void => {
    for (const child of childProcesses.values()) child.kill();
  };
  process.once('exit', stopAll);
  for (const name of names) {
    const profileDir = setting('CPU_PROF');
    const profile =
      profileDir === undefined || profileDir === ''
        ? []
        : // One folder per contender: tsx's loader thread writes a profile of its own.
          ['--cpu-prof', `--cpu-prof-dir=${profileDir}/${name.replace(/[^A-Za-z0-9@]+/g, '-')}`];
    const child = fork(fileURLToPath(options.benchUrl), ['serve', name], {
      execArgv: ['--conditions=@prod/source', '--import', 'tsx', ...profile],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    childProcesses.set(name, child);
    const next = (): Promise<ChildMessage> =>
      new Promise((resolve, reject) => {
        const onExit = (code: number | null): void =>
          reject(new Error(`${name} server exited (${code})`));
        child.once('exit', onExit);
        child.once('message', (message) => {
          child.off('exit', onExit);
          resolve(message as ChildMessage);
        });
      });
    const hello = await next();
    if (!('url' in hello)) throw new Error(`${name}: unexpected first message`);
    children.set(name, {
      url: hello.url,
      ask: (message) => {
        const reply = next();
        child.send(message);
        return reply;
      },
    });
  }

  // Like for like: every contender answers the same JSON and echoes a request id.
  for (const [name, child] of children) {
    const response = await fetch(`${child.url}${options.path}`, {
      headers: { 'x-request-id': 'bench-check-1' },
    });
    const body = await response.text();
    if (response.status !== 200 || JSON.stringify(JSON.parse(body)) !== '{"hello":"world"}') {
      throw new Error(`${name}: GET ${options.path} answered ${response.status} ${body}`);
    }
    if (name !== options.bare && response.headers.get('x-request-id') !== 'bench-check-1') {
      throw new Error(`${name}: the request id was not echoed`);
    }
  }

  const results = new Map<string, Measurement[]>(names.map((name) => [name, []]));
  const logLinesBefore = new Map<string, number>();
  for (const [name, child] of children) {
    const stats = await child.ask('stats');
    logLinesBefore.set(name, 'logLines' in stats ? stats.logLines : 0);
  }
  const requestsSent = new Map<string, number>(names.map((name) => [name, 0]));
  for (let round = 0; round < rounds; round += 1) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      const child = children.get(name);
      if (child === undefined) continue;
      const url = `${child.url}${options.path}`;
      const warm = await autocannon({ url, connections, duration: warmup });
      const cpuBefore = await cpuOf(child);
      const result = await autocannon({ url, connections, duration });
      const cpu = (await cpuOf(child)) - cpuBefore;
      const sent = warm.requests.total + result.requests.total;
      requestsSent.set(name, (requestsSent.get(name) ?? 0) + sent);
      results.get(name)?.push({
        rps: result.requests.average,
        p50: result.latency.p50,
        p99: result.latency.p99,
        errors: result.errors + result.timeouts + result.non2xx,
        cpuPerRequest: cpu / Math.max(1, result.requests.total),
      });
      process.stderr.write(
        `  round ${round + 1}/${rounds} ${name}: ${Math.round(result.requests.average)} req/s, p99 ${result.latency.p99} ms, ${Math.round(cpu / Math.max(1, result.requests.total))} µs CPU/request\n`,
      );
    }
  }

  const logLinesPerRequest = new Map<string, number>();
  for (const [name, child] of children) {
    const stats = await child.ask('stats');
    const lines = ('logLines' in stats ? stats.logLines : 0) - (logLinesBefore.get(name) ?? 0);
    logLinesPerRequest.set(name, lines / Math.max(1, requestsSent.get(name) ?? 0));
    child.ask('stop').catch(() => {});
  }
  const loadAfter = os.loadavg();

  const summary = new Map(
    names.map((name) => {
      const runs = results.get(name) ?? [];
      return [
        name,
        {
          rps: median(runs.map((r) => r.rps)),
          rpsMin: Math.min(...runs.map((r) => r.rps)),
          rpsMax: Math.max(...runs.map((r) => r.rps)),
          p50: median(runs.map((r) => r.p50)),
          p99: median(runs.map((r) => r.p99)),
          errors: runs.reduce((sum, r) => sum + r.errors, 0),
          cpu: median(runs.map((r) => r.cpuPerRequest)),
          cpuMin: Math.min(...runs.map((r) => r.cpuPerRequest)),
          cpuMax: Math.max(...runs.map((r) => r.cpuPerRequest)),
        },
      ] as const;
    }),
  );
  // Ratios within each round, against the baseline measured in the same round.
  const baseRuns = results.get(options.baseline) ?? [];
  const perRound = (name: string, pick: (m: Measurement) => number): RoundRatios => {
    const runs = results.get(name) ?? [];
    const values = runs.map((run, i) => {
      const base = baseRuns[i];
      return base === undefined || pick(base) === 0 ? Number.NaN : pick(run) / pick(base);
    });
    const finite = values.filter(Number.isFinite);
    return {
      median: median(finite),
      min: Math.min(...finite),
      max: Math.max(...finite),
      rounds: values,
    };
  };
  const ratios = names
    .filter((name) => name !== options.baseline)
    .map((name) => {
      const rps = perRound(name, (m) => m.rps);
      const cpu = perRound(name, (m) => m.cpuPerRequest);
      // A direction is claimed only where both readings agree: more req/s and less CPU per
      // request (faster), or the reverse (slower). Within 5 % counts as parity.
      const rpsSays = rps.median > 1.05 ? 1 : rps.median < 0.95 ? -1 : 0;
      const cpuSays = cpu.median < 0.95 ? 1 : cpu.median > 1.05 ? -1 : 0;
      const verdict =
        rpsSays === cpuSays
          ? (['slower', 'parity', 'faster'][rpsSays + 1] ?? '')
          : rpsSays * cpuSays < 0
            ? 'not confirmed (the two readings disagree)'
            : rpsSays + cpuSays > 0
              ? `at least parity (faster by ${rpsSays > 0 ? 'req/s' : 'CPU per request'} only)`
              : `at most parity (slower by ${rpsSays < 0 ? 'req/s' : 'CPU per request'} only)`;
      return { name, baseline: options.baseline, rps, cpu, verdict };
    });
  const int = (n: number): string => Math.round(n).toLocaleString('en-US');
  const x = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(2)}x` : '-');
  const span = (r: RoundRatios): string => `${x(r.median)} (${x(r.min)} - ${x(r.max)})`;
  const lines = [
    `### ${options.title}: GET ${options.path}`,
    '',
    `${rounds} rounds x ${duration} s per contender (after ${warmup} s of warm-up each), ` +
      `${connections} connections, alternating order; load average ${loadBefore[0]?.toFixed(1)} ` +
      `before, ${loadAfter[0]?.toFixed(1)} after; ${Math.round((Date.now() - started) / 1000)} s in all.`,
    '',
    '| stack | req/s (median) | req/s (min - max) | p50 ms | p99 ms | server CPU µs / request (median) | CPU min - max | log lines / request | errors |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...names.map((name) => {
      const s = summary.get(name);
      if (s === undefined) return '';
      return `| ${name} | ${int(s.rps)} | ${int(s.rpsMin)} - ${int(s.rpsMax)} | ${s.p50} | ${s.p99} | ${Math.round(s.cpu)} | ${Math.round(s.cpuMin)} - ${Math.round(s.cpuMax)} | ${(logLinesPerRequest.get(name) ?? 0).toFixed(2)} | ${s.errors} |`;
    }),
    '',
    `Ratios against **${options.baseline}**, taken within each round: median (min - max over the ${rounds} rounds).`,
    '',
    '| stack | req/s ratio (higher is faster) | CPU / request ratio (lower is cheaper) | verdict |',
    '| --- | ---: | ---: | --- |',
    ...ratios.map((r) => `| ${r.name} | ${span(r.rps)} | ${span(r.cpu)} | ${r.verdict} |`),
    '',
  ];
  const markdown = lines.join('\n');
  console.log(markdown);
  const out = setting('BENCH_RESULTS');
  if (out !== undefined && out !== '') {
    const id = options.title.split(' ')[0]?.toLowerCase() ?? 'http';
    const report = {
      kind: 'http',
      id,
      title: `${options.title}: GET ${options.path}`,
      date: new Date().toISOString().slice(0, 10),
      rounds,
      loadBefore: loadBefore[0],
      loadAfter: loadAfter[0],
      contenders: Object.fromEntries(results),
      ratios,
      markdown,
    };
    writeFileSync(join(out, `http-${id}.json`), `${JSON.stringify(report, null, 1)}\n`);
  }
  process.off('exit', stopAll);
}
