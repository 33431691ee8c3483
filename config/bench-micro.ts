// Shared driver of the sub-microsecond benchmarks (packages/*/bench/*.bench.ts). Every
// contender is measured by two independent methods, every published ratio is the median of
// several interleaved rounds with its spread, and the second method must confirm it.
//
// - Method 1, mitata 1.0 (`measure`): batches of calls in a loop that mitata generates for
//   that one function; a round's figure is the mean ns/op of the batches, minus the same
//   measurement of an empty body.
// - Method 2, a plain timed loop: `for (i < n) fn()` in a loop function generated per
//   contender (one call site per function, never a shared megamorphic one), timed with
//   `process.hrtime` in 5 slices; the same loop with an empty body is timed in the same
//   process and subtracted; a round's figure is the median slice.
//
// Each measurement (one contender, one round) runs in a fresh Node process, the bench file
// forking itself; rounds are interleaved (round 1 of every contender, then round 2...) and
// each round visits the contenders in a different order (rotated, every other round
// reversed), so no contender always runs first or next to the same noisy neighbour. A ratio
// is `peer / ours` in time (above 1, ours is faster), given as the ratio of the medians with
// the range of the per-round ratios. The timed loop confirms a ratio when its median lies
// inside mitata's per-round range widened by 10 % each way; a ratio it does not confirm is
// reported as such, never as a result.
//
// Bench files are bundled by scripts/bench-micro.mjs (esbuild, without `keepNames`, every
// package left external) and run by plain Node: @prod packages load from their built dist,
// exactly like the peers, through Node's own resolver.
//
// Environment: ROUNDS (5), TIME ms per mitata measurement (250), LOOP_TIME ms per timed-loop
// measurement (250), WARMUP ms before measuring (250), GROUP (only the groups whose name
// contains it), BENCH_RESULTS (a folder: the report is written there as JSON for
// scripts/bench.mjs).
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure } from 'mitata';

const setting = (name: string): string | undefined => process.env[name];
const numberFromEnv = (name: string, fallback: number): number => {
  const value = Number(setting(name) ?? fallback);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};

/** A contender: one operation, synchronous or returning a promise (then each call is awaited). */
export type MicroFn = () => unknown;

/** One comparison published from a group: `peer / ours` in time, above 1 when ours is faster. */
export interface MicroRatio {
  /** Our contender's name. */
  readonly ours: string;
  /** The contender it is compared with. */
  readonly peer: string;
  /**
   * A contender whose time is subtracted from both first (the bare call, the work alone), so
   * that the ratio compares overheads rather than totals.
   */
  readonly minus?: string;
  /** How the ratio reads in the docs; defaults to `<ours> vs <peer>`. */
  readonly label?: string;
}

/** A set of contenders measured together, interleaved. */
export interface MicroGroup {
  readonly name: string;
  /** In table order. */
  readonly contenders: Readonly<Record<string, MicroFn>>;
  readonly ratios: readonly MicroRatio[];
  /**
   * Runs each measurement inside this, e.g. a request context; the empty loop that is
   * subtracted runs inside it too.
   */
  readonly around?: (run: () => Promise<void>) => Promise<void>;
  /**
   * What both methods time: `cpu` (the default), the CPU time of this process, which a
   * shared machine's scheduler does not inflate when it hands the core to someone else; or
   * `wall`, for contenders that wait on I/O (a Redis round trip, a socket), whose cost is
   * mostly time spent not running.
   */
  readonly clock?: 'cpu' | 'wall';
  /**
   * Milliseconds of warm-up before measuring, for this group (default WARMUP, 250). The
   * default gives a sub-microsecond call millions of turns; a contender of 100 µs gets only a
   * couple of thousand, short of its steady state (measured: the auth part read 8 % slower
   * than jose after 250 ms, and at parity with it after 2 s, jose itself 9 % faster).
   */
  readonly warmup?: number;
}

/** What {@link runMicro} needs. */
export interface MicroOptions {
  /** `import.meta.url` of the bench file. */
  readonly file: string;
  readonly title: string;
  readonly groups: readonly MicroGroup[];
}

/** Median and range over the rounds. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly rounds: readonly number[];
}

/** One published ratio, measured both ways. */
export interface RatioResult {
  readonly group: string;
  readonly label: string;
  readonly ours: string;
  readonly peer: string;
  readonly minus: string | undefined;
  /** Ratio of the mitata medians, and the range of the per-round ratios. */
  readonly mitata: Spread;
  /** Ratio of the timed-loop medians, and the range of the per-round ratios. */
  readonly loop: Spread;
  readonly confirmed: boolean;
  /** `faster` or `slower` (both medians more than 5 % from 1), `parity` (both within 5 %), `about parity` or `not confirmed`. */
  readonly verdict: string;
}

/** A whole bench file's result, as scripts/bench.mjs reads it. */
export interface MicroReport {
  readonly kind: 'micro';
  readonly id: string;
  readonly file: string;
  readonly title: string;
  readonly date: string;
  readonly machine: string;
  readonly rounds: number;
  readonly loadBefore: number;
  readonly loadAfter: number;
  readonly seconds: number;
  readonly groups: readonly {
    readonly name: string;
    readonly clock: 'cpu' | 'wall';
    /** Milliseconds of warm-up before each measurement. */
    readonly warmup: number;
    readonly contenders: readonly {
      readonly name: string;
      readonly mitata: Spread;
      readonly loop: Spread;
    }[];
    /** The empty body's time, subtracted from every contender: by mitata, by the timed loop. */
    readonly emptyMitata: Spread;
    readonly emptyLoop: Spread;
  }[];
  readonly ratios: readonly RatioResult[];
  readonly markdown: string;
}

// Results land here so the engine cannot drop the work as dead code.
let slot: unknown;
/** Keeps a value observable, so the work that produced it cannot be optimised away. */
export function keep(value: unknown): void {
  slot = value;
}
/** The last value given to {@link keep}. */
export const kept = (): unknown => slot;

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { then?: unknown }).then === 'function';

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? Number.NaN) + (sorted[middle] ?? Number.NaN)) / 2;
};
const spread = (rounds: readonly number[]): Spread => {
  const finite = rounds.filter(Number.isFinite);
  return {
    median: median(finite),
    min: finite.length === 0 ? Number.NaN : Math.min(...finite),
    max: finite.length === 0 ? Number.NaN : Math.max(...finite),
    rounds,
  };
};

const nowNs = (): number => Number(process.hrtime.bigint());
// user + system CPU time of the process (all its threads, so the garbage collector's helper
// threads count too), in nanoseconds; microsecond resolution, which a 4,096-call mitata batch
// or a timed-loop slice of tens of milliseconds makes small.
const cpuNs = (): number => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) * 1e3;
};

type Loop = (n: number) => number | Promise<number>;

// A fresh function per contender: its `fn()` call site sees one target only, as a real
// caller's would (a shared loop would turn megamorphic and bill the dispatch to everyone).
// V8 caches `new Function` by source text and the closures of one cached function share
// their call-site feedback, so every loop's source is made unique.
let loops = 0;
function timedLoop(fn: MicroFn, async: boolean, clock: () => number): Loop {
  loops += 1;
  const body = async
    ? `return async function loop${loops}(n) { const t0 = now(); for (let i = 0; i < n; i++) await fn(); return now() - t0; };`
    : `return function loop${loops}(n) { const t0 = now(); for (let i = 0; i < n; i++) fn(); return now() - t0; };`;
  return new Function('fn', 'now', body)(fn, clock) as Loop;
}

const SLICES = 5;
const RESOLVED = Promise.resolve();

// Calibrates the iteration count of one slice so that it lasts `sliceNs`.
async function calibrate(loop: Loop, sliceNs: number): Promise<number> {
  let n = 1;
  for (;;) {
    const elapsed = await loop(n);
    if (elapsed >= sliceNs / 4 || n >= 2 ** 30) {
      return Math.max(1, Math.round((n * sliceNs) / Math.max(1, elapsed)));
    }
    n *= elapsed < sliceNs / 100 ? 10 : 2;
  }
}

async function loopNsPerOp(loop: Loop, n: number): Promise<number> {
  const slices: number[] = [];
  for (let s = 0; s < SLICES; s += 1) slices.push((await loop(n)) / n);
  return median(slices);
}

const orderOf = <T>(items: readonly T[], round: number): T[] => {
  const shift = round % items.length;
  const rotated = [...items.slice(shift), ...items.slice(0, shift)];
  return round % 2 === 1 ? rotated.reverse() : rotated;
};

const ratioOf = (peer: number, ours: number, minus: number | undefined): number => {
  const p = minus === undefined ? peer : peer - minus;
  const o = minus === undefined ? ours : ours - minus;
  return o > 0 && p > 0 ? p / o : Number.NaN;
};

function verdictOf(mitata: Spread, loop: Spread): { confirmed: boolean; verdict: string } {
  const confirmed =
    Number.isFinite(mitata.median) &&
    Number.isFinite(loop.median) &&
    loop.median >= mitata.min / 1.1 &&
    loop.median <= mitata.max * 1.1;
  if (!confirmed) return { confirmed, verdict: 'not confirmed' };
  const both = [mitata.median, loop.median];
  if (both.every((r) => r > 1.05)) return { confirmed, verdict: 'faster' };
  if (both.every((r) => r < 0.95)) return { confirmed, verdict: 'slower' };
  if (both.every((r) => r >= 0.95 && r <= 1.05)) return { confirmed, verdict: 'parity' };
  return { confirmed, verdict: 'about parity' };
}

const ns = (value: number): string =>
  !Number.isFinite(value)
    ? '-'
    : value >= 1000
      ? Math.round(value).toLocaleString('en-US')
      : value >= 100
        ? value.toFixed(0)
        : value >= 10
          ? value.toFixed(1)
          : value.toFixed(2);
const x = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(2)}x` : '-');
const range = (s: Spread, format: (n: number) => string): string =>
  `${format(s.min)} - ${format(s.max)}`;
const noise = (s: Spread): string =>
  Number.isFinite(s.median) && s.median > 0
    ? `±${Math.round(((s.max - s.min) / 2 / s.median) * 100)} %`
    : '-';

/** What a child process measured: one contender, one round. */
interface Measured {
  /** ns/op by mitata, empty body subtracted. */
  readonly mitata: number;
  /** ns/op by the timed loop, empty loop subtracted. */
  readonly loop: number;
  readonly mitataEmpty: number;
  readonly loopEmpty: number;
}

const CHILD = 'BENCH_MICRO_CHILD';

const warmupOf = (group: MicroGroup): number => group.warmup ?? numberFromEnv('WARMUP', 250);

// One contender in this (fresh) process: warm-up and calibration, then the empty body and the
// contender by mitata, then both by the timed loop.
async function measureOne(group: MicroGroup, name: string): Promise<Measured> {
  const fn = group.contenders[name];
  if (fn === undefined) throw new Error(`${group.name}: no contender named ${name}`);
  // `batch_unroll: 1`: mitata's default repeats the call 4 times per loop turn, which lets the
  // JIT fold consecutive calls of a few-nanosecond function into each other (measured here:
  // 1.7 against 4.5 ns for a call that allocates one object); a real caller calls once.
  // `avg`, not `p50`: the mean of the batches keeps the garbage collection the work causes,
  // as the timed loop does; the median batch leaves it out (a span with the SDK: 1.7 against
  // 6 µs).
  const time = numberFromEnv('TIME', 250) * 1e6;
  // `gc: false`: a forced full collection before measuring shrinks the young generation, and
  // the scavenges that follow until it grows back slowed the first 30 ms of an allocating
  // contender by 1.2x to 7x; every measurement runs in a fresh process instead.
  const clock = group.clock === 'wall' ? nowNs : cpuNs;
  const mitataOptions = { min_cpu_time: time, batch_unroll: 1, gc: false, now: clock };
  const emptyOptions = { ...mitataOptions, min_cpu_time: time / 4 };
  const loopNs = numberFromEnv('LOOP_TIME', 250) * 1e6;
  const around = group.around ?? ((run: () => Promise<void>) => run());
  let result: Measured | undefined;
  await around(async () => {
    const first = fn();
    const async = isThenable(first);
    if (async) await first;
    // The empty body: nothing, or for an awaited contender a promise already resolved (what
    // awaiting costs by itself), timed by both methods and subtracted from both.
    const emptyFn: MicroFn = async ? () => RESOLVED : () => undefined;
    const loop = timedLoop(fn, async, clock);
    const empty = timedLoop(emptyFn, async, clock);
    // Warm-up, not recorded: some contenders take a few hundred milliseconds to reach their
    // optimised code (express-prom-bundle: 3 µs per call for the first 100 ms, 1.4 after).
    const warmupEnd = nowNs() + warmupOf(group) * 1e6;
    let iterations = await calibrate(loop, loopNs / SLICES);
    while (nowNs() < warmupEnd) await loop(iterations);
    iterations = await calibrate(loop, loopNs / SLICES);
    const emptyIterations = await calibrate(empty, loopNs / SLICES / 4);
    const mitataEmpty = (await measure(emptyFn, emptyOptions)).avg;
    const mitata = (await measure(fn, mitataOptions)).avg;
    const loopEmpty = await loopNsPerOp(empty, emptyIterations);
    const perOp = await loopNsPerOp(loop, iterations);
    result = {
      mitata: Math.max(0, mitata - mitataEmpty),
      loop: Math.max(0, perOp - loopEmpty),
      mitataEmpty,
      loopEmpty,
    };
  });
  if (result === undefined) throw new Error(`${group.name}: ${name} was not measured`);
  return result;
}

// Measures one contender in a new Node process (the bench file itself, again).
function forkOne(groupIndex: number, name: string): Promise<Measured> {
  const script = process.argv[1];
  if (script === undefined) return Promise.reject(new Error('no script to fork'));
  return new Promise((resolve, reject) => {
    const child = fork(script, process.argv.slice(2), {
      execArgv: process.execArgv,
      env: { ...process.env, [CHILD]: JSON.stringify([groupIndex, name]) },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    let result: Measured | undefined;
    child.once('message', (message) => {
      result = message as Measured;
      // A bench file that left a handle open must not hold the run.
      setTimeout(() => child.kill(), 10_000).unref();
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (result !== undefined) resolve(result);
      else reject(new Error(`${name}: the measuring process exited (${code})`));
    });
  });
}

/**
 * Measures every contender of every group of a bench file. Each measurement (one contender,
 * one round) runs in a fresh Node process, the bench file forking itself: no contender pays
 * for call sites that another one made megamorphic in code they share (prom-client under all
 * the metrics contenders, EventEmitter, @prod/core), nor for another one's garbage, and each
 * round gets its own JIT decisions. Rounds are interleaved: round 1 of every contender of
 * every group, then round 2, each round in a different order. Prints a markdown report and,
 * when BENCH_RESULTS names a folder, writes it there as JSON for scripts/bench.mjs.
 *
 * Resolves once measuring is done, in the measuring processes too: close what the file
 * opened after it.
 */
export async function runMicro(options: MicroOptions): Promise<void> {
  // Under `vitest bench` the file would fork vitest itself for every measurement.
  if (setting('VITEST') !== undefined) {
    throw new Error('bench files run with `pnpm bench:micro`, not `vitest bench`');
  }
  const child = setting(CHILD);
  if (child !== undefined) {
    const [groupIndex, name] = JSON.parse(child) as [number, string];
    const group = options.groups[groupIndex];
    if (group === undefined) throw new Error(`no group ${groupIndex}`);
    const result = await measureOne(group, name);
    await new Promise<void>((resolve) => process.send?.(result, () => resolve()));
    return;
  }
  const rounds = Math.round(numberFromEnv('ROUNDS', 5));
  const only = setting('GROUP');
  const started = Date.now();
  const loadBefore = os.loadavg()[0] ?? 0;
  // scripts/bench-micro.mjs runs a bundled copy and names the original file.
  const source = setting('BENCH_SOURCE') ?? relative(process.cwd(), fileURLToPath(options.file));
  const id = source
    .replace(/\.bench\.[cm]?[jt]s$/, '')
    .replace(/^packages\//, '')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');

  const selected = options.groups
    .map((group, index) => ({ group, index, names: Object.keys(group.contenders) }))
    .filter(({ group }) => only === undefined || only === '' || group.name.includes(only));
  for (const { group } of selected) {
    for (const r of group.ratios) {
      for (const name of [r.ours, r.peer, ...(r.minus === undefined ? [] : [r.minus])]) {
        if (!(name in group.contenders)) throw new Error(`${group.name}: no contender ${name}`);
      }
    }
  }
  // measured[group][contender][round]
  const measured = selected.map(({ names }) => names.map((): Measured[] => []));
  for (let round = 0; round < rounds; round += 1) {
    for (const [g, { group, index, names }] of selected.entries()) {
      for (const c of orderOf(
        names.map((_, i) => i),
        round,
      )) {
        measured[g]?.[c]?.push(await forkOne(index, names[c] ?? ''));
      }
      process.stderr.write(`  ${group.name}: round ${round + 1}/${rounds}\n`);
    }
  }

  const groupResults: MicroReport['groups'][number][] = [];
  const ratios: RatioResult[] = [];
  for (const [g, { group, names }] of selected.entries()) {
    const of = (name: string): Measured[] => measured[g]?.[names.indexOf(name)] ?? [];
    const mitata = new Map(names.map((name) => [name, of(name).map((m) => m.mitata)]));
    const loop = new Map(names.map((name) => [name, of(name).map((m) => m.loop)]));
    const all = measured[g]?.flat() ?? [];
    groupResults.push({
      name: group.name,
      clock: group.clock ?? 'cpu',
      warmup: warmupOf(group),
      contenders: names.map((name) => ({
        name,
        mitata: spread(mitata.get(name) ?? []),
        loop: spread(loop.get(name) ?? []),
      })),
      emptyMitata: spread(all.map((m) => m.mitataEmpty)),
      emptyLoop: spread(all.map((m) => m.loopEmpty)),
    });
    for (const r of group.ratios) {
      const ofMedians = (by: Map<string, number[]>): Spread => {
        const at = (name: string, i: number): number => by.get(name)?.[i] ?? Number.NaN;
        const perRound = Array.from({ length: rounds }, (_, i) =>
          ratioOf(at(r.peer, i), at(r.ours, i), r.minus === undefined ? undefined : at(r.minus, i)),
        );
        const m = (name: string): number => median(by.get(name) ?? []);
        return {
          ...spread(perRound),
          median: ratioOf(m(r.peer), m(r.ours), r.minus === undefined ? undefined : m(r.minus)),
        };
      };
      const m1 = ofMedians(mitata);
      const m2 = ofMedians(loop);
      ratios.push({
        group: group.name,
        label: r.label ?? `${r.ours} vs ${r.peer}`,
        ours: r.ours,
        peer: r.peer,
        minus: r.minus,
        mitata: m1,
        loop: m2,
        ...verdictOf(m1, m2),
      });
    }
  }

  const loadAfter = os.loadavg()[0] ?? 0;
  const seconds = Math.round((Date.now() - started) / 1000);
  const cpus = os.cpus();
  const machine = `Node ${process.version}, ${cpus.length} x ${cpus[0]?.model.trim() ?? 'cpu'}`;
  const lines: string[] = [
    `### ${options.title}`,
    '',
    `\`${source}\`: ${rounds} interleaved rounds; ${machine}; load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after; ${seconds} s.`,
    '',
  ];
  for (const group of groupResults) {
    lines.push(
      `#### ${group.name}`,
      '',
      group.clock === 'wall'
        ? 'Wall-clock time per call (the contenders wait on I/O).'
        : 'CPU time of the process per call.',
      '',
      `Warm-up of ${group.warmup} ms before each measurement${group.warmup === 250 ? '' : ' (the default is 250)'}.`,
      '',
      '| contender | mitata ns/op (median) | mitata min - max | timed loop ns/op (median) | timed loop min - max | spread (mitata / loop) |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      ...group.contenders.map(
        (c) =>
          `| ${c.name} | ${ns(c.mitata.median)} | ${range(c.mitata, ns)} | ${ns(c.loop.median)} | ${range(c.loop, ns)} | ${noise(c.mitata)} / ${noise(c.loop)} |`,
      ),
      '',
      `Empty-body overhead subtracted (median, min - max): mitata ${ns(group.emptyMitata.median)} ns/op (${range(group.emptyMitata, ns)}), timed loop ${ns(group.emptyLoop.median)} ns/op (${range(group.emptyLoop, ns)}).`,
      '',
    );
  }
  if (ratios.length > 0) {
    lines.push(
      '#### Ratios (peer time / our time: above 1, @prod is faster)',
      '',
      '| group | comparison | mitata (ratio of medians) | mitata per round | timed loop (ratio of medians) | timed loop per round | verdict |',
      '| --- | --- | ---: | ---: | ---: | ---: | --- |',
      ...ratios.map(
        (r) =>
          `| ${r.group} | ${r.label}${r.minus === undefined ? '' : ` (overhead over ${r.minus})`} | ${x(r.mitata.median)} | ${range(r.mitata, x)} | ${x(r.loop.median)} | ${range(r.loop, x)} | ${r.confirmed ? r.verdict : '**not confirmed**'} |`,
      ),
      '',
    );
  }
  const markdown = lines.join('\n');
  const report: MicroReport = {
    kind: 'micro',
    id,
    file: source,
    title: options.title,
    date: new Date().toISOString().slice(0, 10),
    machine,
    rounds,
    loadBefore,
    loadAfter,
    seconds,
    groups: groupResults,
    ratios,
    markdown,
  };
  console.log(markdown);
  const out = setting('BENCH_RESULTS');
  if (out !== undefined && out !== '') {
    writeFileSync(join(out, `micro-${id}.json`), `${JSON.stringify(report, null, 1)}\n`);
  }
}
