/**
 * Jobs per second, @prod/queue against raw BullMQ 6 on the same Redis, and the memory driver.
 *
 * Scenarios (the shapes of taskforcesh/bullmq-bench): `add` (one job per awaited call),
 * `add-bulk` (batches of 100), `process-1` and `process-10` (a no-op handler at concurrency 1
 * and 10 over jobs enqueued beforehand, timed from the handler's run for the warm-up's last job
 * to its run for the last job; then, untimed, until every job is stored as completed).
 * Payload: a small object of 10 fields, each 10 characters; @prod/queue checks it with a zod
 * schema on enqueue and again before the handler, raw BullMQ does not. For processing, a second
 * raw contender runs each job in an AsyncLocalStorage context (what a service on raw BullMQ
 * writes to see the job in its logs), the peer of the default `jobContext: true`: on Node 20
 * and 22 any AsyncLocalStorage in use makes every promise dearer.
 *
 * Method: one redis-server started on a spare port (`--save "" --appendonly no`), flushed
 * before every measurement; every measurement (scenario x contender x round) in a fresh Node
 * process loading the built packages; rounds interleaved and the contender order alternated;
 * per round, the ratio ours / raw in jobs/s; median and range over the rounds.
 *
 * Run: `pnpm --filter @prod/queue build && pnpm --filter @prod/queue bench:throughput`
 * (ROUNDS=5, JOBS=10000, WARMUP=10000 by default; SCENARIOS=process-10,add for some only). Writes
 * docs/benchmarks/results/queue-throughput-node<major>.json when BENCH_RESULTS is set (as `pnpm
 * bench` sets it). Another Node runs it all, children included: `/path/to/node --import tsx
 * bench/throughput.ts` (Node 24's AsyncLocalStorage no longer uses promise hooks; Node 22's not
 * under `--experimental-async-context-frame`, whose result is stored apart:
 * queue-throughput-node22-async-context-frame.json).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { execFileSync, fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ok } from '@prod/core';
import { createQueue, defineJob, memoryDriver, type QueueDriver } from '@prod/queue';
import { bullmqDriver } from '@prod/queue/bullmq';
import { startRedisServer } from '@prod/testing';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { z } from 'zod';

const ALL_SCENARIOS = ['add', 'add-bulk', 'process-1', 'process-10'] as const;
type Scenario = (typeof ALL_SCENARIOS)[number];
// SCENARIOS=process-10,add runs only those (a quick look; the stored result runs all four).
const SCENARIOS: readonly Scenario[] =
  process.env.SCENARIOS === undefined
    ? ALL_SCENARIOS
    : ALL_SCENARIOS.filter((s) => process.env.SCENARIOS?.split(',').includes(s));
type Contender =
  | 'prod-queue'
  | 'raw-bullmq'
  | 'raw-bullmq-context'
  | 'prod-queue-memory'
  | 'prod-queue-no-context';
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const JOBS = Number(process.env.JOBS ?? 10_000);
// Jobs run first, untimed, so that both sides are measured with their code compiled by the JIT:
// 10,000 rather than taskforcesh/bullmq-bench's few thousand, as both sides were still getting
// faster well past 2,000 jobs. On the same queue, worker and connections as the measured jobs,
// not (as bullmq-bench does) on a queue of their own: V8 keeps what it learnt per closure, so
// the closures of a new queue start cold again (a new instance took 4,000 jobs to come back to
// its speed, 3x dearer at first), and a long-running service enqueues and works on the queue it
// made at startup.
const WARMUP = Number(process.env.WARMUP ?? 10_000);
// Node 22 builds AsyncLocalStorage without promise hooks under this flag (Node 24 by default).
// Given on the command line or in NODE_OPTIONS, it reaches every child, and the result is
// stored apart from the same Node's default one.
const FRAME_FLAG = '--experimental-async-context-frame';
// NODE_OPTIONS reaches the children by itself; a flag on the command line is passed on.
const FRAME_ARGS = process.execArgv.includes(FRAME_FLAG) ? [FRAME_FLAG] : [];
const FRAMES =
  FRAME_ARGS.length > 0 || (process.env.NODE_OPTIONS ?? '').split(/\s+/).includes(FRAME_FLAG);

const payload = Object.fromEntries(
  Array.from({ length: 10 }, (_, i) => [`field${i}`, 'x'.repeat(10)]),
);
const schema = z.object(
  Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`field${i}`, z.string()])),
);
// Retention off on both sides (every completed job kept), so completion is counted the same way.
const keepAll = { completed: { count: Number.POSITIVE_INFINITY, ageMs: Number.POSITIVE_INFINITY } };

/** One measurement: jobs per second (wall clock) and CPU microseconds per job of this process. */
interface Measure {
  readonly rate: number;
  readonly cpuUs: number;
}

function timer(jobs: number): () => Measure {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  return () => {
    const used = process.cpuUsage(cpu);
    return {
      rate: (jobs / (performance.now() - wall)) * 1000,
      cpuUs: (used.user + used.system) / jobs,
    };
  };
}

async function untilCompleted(count: () => Promise<number>, total: number): Promise<void> {
  while ((await count()) < total) await new Promise((resolve) => setTimeout(resolve, 5));
}

/**
 * The function a handler calls per job, and the measure of the jobs after the warm-up: the
 * clock starts when the handler has run for the warm-up's last job and stops at the last job.
 */
function finishLine(
  warmup: number,
  jobs: number,
): { readonly reached: Promise<Measure>; readonly tick: () => void } {
  let handled = 0;
  let done: (() => Measure) | undefined = warmup === 0 ? timer(jobs) : undefined;
  let reach: (measured: Measure) => void = () => {};
  const reached = new Promise<Measure>((resolve) => {
    reach = resolve;
  });
  return {
    reached,
    tick: () => {
      handled += 1;
      if (handled === warmup) done = timer(jobs);
      else if (handled === warmup + jobs && done !== undefined) reach(done());
    },
  };
}

async function measureProd(
  scenario: Scenario,
  driver: QueueDriver,
  name: string,
  jobContext = true,
): Promise<Measure> {
  const line = finishLine(WARMUP, JOBS);
  const job = defineJob({
    name,
    schema,
    concurrency: scenario === 'process-10' ? 10 : 1,
    handler: () => {
      line.tick();
      return ok(undefined);
    },
  });
  const queue = createQueue({ jobs: [job], driver, retention: keepAll, jobContext });
  const completed = async (): Promise<number> => {
    const counts = await queue.counts();
    return counts.ok ? (counts.value[name]?.completed ?? 0) : 0;
  };
  try {
    if (scenario === 'add' || scenario === 'add-bulk') {
      const add = async (jobs: number): Promise<void> => {
        if (scenario === 'add') {
          for (let i = 0; i < jobs; i++) {
            const added = await queue.enqueue(job, payload);
            if (!added.ok) throw added.error;
          }
        } else {
          for (let i = 0; i < jobs; i += 100) {
            const added = await queue.enqueueMany(
              Array.from({ length: 100 }, () => ({ job, payload })),
            );
            if (!added.ok) throw added.error;
          }
        }
      };
      await add(WARMUP);
      const done = timer(JOBS);
      await add(JOBS);
      return done();
    }
    for (let i = 0; i < WARMUP + JOBS; i += 100) {
      const added = await queue.enqueueMany(Array.from({ length: 100 }, () => ({ job, payload })));
      if (!added.ok) throw added.error;
    }
    // Timed from the warm-up's last handler to the last one (no polling in the measured span);
    // then, untimed, until the engine has stored every job as completed.
    queue.work();
    const measured = await line.reached;
    await untilCompleted(completed, WARMUP + JOBS);
    return measured;
  } finally {
    await queue.close();
  }
}

// What a service on raw BullMQ writes to see the job in its logs: each job in a context.
const jobStore = new AsyncLocalStorage<{ readonly jobId: string | undefined }>();

async function measureRaw(
  scenario: Scenario,
  url: string,
  name: string,
  inContext = false,
): Promise<Measure> {
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection, prefix: 'raw' });
  const opts = { removeOnComplete: false, removeOnFail: false };
  try {
    if (scenario === 'add' || scenario === 'add-bulk') {
      const add = async (jobs: number): Promise<void> => {
        if (scenario === 'add') {
          for (let i = 0; i < jobs; i++) await queue.add('bench', payload, opts);
        } else {
          for (let i = 0; i < jobs; i += 100) {
            await queue.addBulk(
              Array.from({ length: 100 }, () => ({ name: 'bench', data: payload, opts })),
            );
          }
        }
      };
      await add(WARMUP);
      const done = timer(JOBS);
      await add(JOBS);
      return done();
    }
    for (let i = 0; i < WARMUP + JOBS; i += 100) {
      await queue.addBulk(
        Array.from({ length: 100 }, () => ({ name: 'bench', data: payload, opts })),
      );
    }
    const line = finishLine(WARMUP, JOBS);
    const processor = async (): Promise<void> => {
      line.tick();
    };
    const worker = new Worker(
      name,
      inContext ? (job) => jobStore.run({ jobId: job.id }, processor) : processor,
      { connection, prefix: 'raw', concurrency: scenario === 'process-10' ? 10 : 1 },
    );
    const measured = await line.reached;
    await untilCompleted(() => queue.getCompletedCount(), WARMUP + JOBS);
    await worker.close();
    return measured;
  } finally {
    await queue.close();
    await connection.quit();
  }
}

async function child(scenario: Scenario, contender: Contender, url: string): Promise<void> {
  const measure = (name: string): Promise<Measure> => {
    if (contender === 'raw-bullmq' || contender === 'raw-bullmq-context') {
      return measureRaw(scenario, url, name, contender === 'raw-bullmq-context');
    }
    const driver =
      contender === 'prod-queue-memory'
        ? memoryDriver({ maxJobs: (WARMUP + JOBS) * 2 })
        : bullmqDriver({ connection: url, prefix: 'ours' });
    return measureProd(scenario, driver, name, contender !== 'prod-queue-no-context');
  };
  process.send?.(await measure('bench'));
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

function run(scenario: Scenario, contender: Contender, url: string): Promise<Measure> {
  return new Promise((resolve, reject) => {
    const forked = fork(import.meta.filename, ['--child', scenario, contender, url], {
      execArgv: [...FRAME_ARGS, '--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let measured: Measure | undefined;
    forked.on('message', (message: Measure) => {
      measured = message;
    });
    forked.on('exit', (code) =>
      measured === undefined
        ? reject(new Error(`${scenario} ${contender} exited ${code}`))
        : resolve(measured),
    );
  });
}

async function parent(): Promise<void> {
  const server = await startRedisServer();
  const flush = (): void => {
    execFileSync('redis-cli', ['-p', String(server.port), 'FLUSHALL']);
  };
  const loadBefore = os.loadavg()[0] ?? 0;
  const started = Date.now();
  const rates = new Map<string, Measure[]>();
  const push = (key: string, measured: Measure): void => {
    rates.set(key, [...(rates.get(key) ?? []), measured]);
  };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const scenario of SCENARIOS) {
        const order: Contender[] =
          round % 2 === 0 ? ['prod-queue', 'raw-bullmq'] : ['raw-bullmq', 'prod-queue'];
        if (scenario.startsWith('process'))
          order.push('prod-queue-no-context', 'raw-bullmq-context');
        order.push('prod-queue-memory');
        for (const contender of order) {
          flush();
          const measured = await run(scenario, contender, server.url);
          push(`${scenario}|${contender}`, measured);
          console.log(
            `round ${round + 1} ${scenario.padEnd(10)} ${contender.padEnd(18)} ${Math.round(measured.rate)} jobs/s, ${measured.cpuUs.toFixed(1)} µs CPU/job`,
          );
        }
      }
    }
  } finally {
    // The server's process handle is unref'd: something must keep the loop alive while it stops.
    const alive = setInterval(() => {}, 1000);
    await server.stop();
    clearInterval(alive);
  }
  const spread = (values: number[]) => ({
    median: median(values),
    min: Math.min(...values),
    max: Math.max(...values),
    rounds: values,
  });
  // Ours, against raw BullMQ or against raw BullMQ running each job in a context too.
  const variants: ReadonlyArray<[Contender, string, Contender]> = [
    ['prod-queue', '', 'raw-bullmq'],
    ['prod-queue-no-context', ' (jobContext: false)', 'raw-bullmq'],
    ['prod-queue', ' vs raw BullMQ with a per-job AsyncLocalStorage', 'raw-bullmq-context'],
  ];
  const rows = SCENARIOS.flatMap((scenario) =>
    variants.flatMap(([contender, label, peer]) => {
      const ours = rates.get(`${scenario}|${contender}`) ?? [];
      const raw = rates.get(`${scenario}|${peer}`) ?? [];
      if (ours.length === 0 || raw.length === 0) return [];
      const memory = rates.get(`${scenario}|prod-queue-memory`) ?? [];
      return [
        {
          scenario: `${scenario}${label}`,
          ours: median(ours.map((m) => m.rate)),
          raw: median(raw.map((m) => m.rate)),
          memory: median(memory.map((m) => m.rate)),
          oursCpuUs: median(ours.map((m) => m.cpuUs)),
          rawCpuUs: median(raw.map((m) => m.cpuUs)),
          memoryCpuUs: median(memory.map((m) => m.cpuUs)),
          // Per round: ours / raw in jobs/s (above 1, ours is faster); raw / ours in CPU per job.
          ratio: spread(ours.map((m, i) => m.rate / (raw[i] as Measure).rate)),
          cpuRatio: spread(ours.map((m, i) => (raw[i] as Measure).cpuUs / m.cpuUs)),
        },
      ];
    }),
  );
  const range = (s: { median: number; min: number; max: number }) =>
    `${s.median.toFixed(2)} (${s.min.toFixed(2)} - ${s.max.toFixed(2)})`;
  const table = [
    '| scenario | @prod/queue on BullMQ | raw BullMQ | jobs/s ours / raw, median (per-round range) | CPU per job raw / ours, median (range) | memory driver |',
    '| --- | ---: | ---: | --- | --- | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${Math.round(r.ours)} jobs/s, ${r.oursCpuUs.toFixed(0)} µs CPU | ${Math.round(r.raw)} jobs/s, ${r.rawCpuUs.toFixed(0)} µs CPU | ${range(r.ratio)} | ${range(r.cpuRatio)} | ${Math.round(r.memory)} jobs/s, ${r.memoryCpuUs.toFixed(1)} µs CPU |`,
    ),
  ].join('\n');
  console.log(`\n${table}\n`);
  const results = process.env.BENCH_RESULTS;
  if (results !== undefined) {
    writeFileSync(
      join(
        results,
        `queue-throughput-node${process.versions.node.split('.')[0]}${FRAMES ? '-async-context-frame' : ''}.json`,
      ),
      `${JSON.stringify(
        {
          kind: 'queue-throughput',
          date: new Date().toISOString().slice(0, 10),
          machine: `${os.cpus().length} x ${os.cpus()[0]?.model.trim() ?? 'cpu'}, Node ${process.version}${FRAMES ? ` ${FRAME_FLAG}` : ''}`,
          rounds: ROUNDS,
          jobs: JOBS,
          loadBefore,
          loadAfter: os.loadavg()[0] ?? 0,
          seconds: Math.round((Date.now() - started) / 1000),
          rows,
          markdown: table,
        },
        null,
        2,
      )}\n`,
    );
  }
}

const at = process.argv.indexOf('--child');
if (at >= 0) {
  const [scenario, contender, url] = process.argv.slice(at + 1) as [Scenario, Contender, string];
  await child(scenario, contender, url);
  process.exit(0);
} else {
  await parent();
}
