#!/usr/bin/env node
// `pnpm bench`: every benchmark, then docs/benchmarks.md.
//
//   pnpm bench                  build, the sub-microsecond benchmarks (every
//                               packages/*/bench/*.bench.ts, config/bench-micro.ts), then the
//                               HTTP loads (each package's `bench:http` script and
//                               packages/health/bench/probe-load.ts, autocannon), then the page
//   pnpm bench:micro [filter]   build and the sub-microsecond benchmarks only (those whose path
//                               contains a filter, e.g. `core/bench/result`)
//   pnpm bench:http [filter]    the HTTP loads only (packages whose folder name is a filter,
//                               e.g. `fastify`)
//   pnpm bench:throughput       the throughput runs only (each package's `bench:throughput`
//                               script, e.g. @prod/queue's jobs/s against raw BullMQ)
//   pnpm bench:docs             only rewrite docs/benchmarks.md from the stored results
//
// Each benchmark file writes its result to docs/benchmarks/results/<id>.json; the page is
// always rebuilt from every stored result plus the notes in docs/benchmarks/<package>.md, so a
// partial run (one file, the HTTP loads alone) replaces its own sections and keeps the others.
// Settings: see config/bench-micro.ts (ROUNDS, TIME, LOOP_TIME, WARMUP, GROUP) and
// config/bench-http.ts (ROUNDS, DURATION, WARMUP, CONNECTIONS, ABLATION).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
const mode = args[0]?.startsWith('--') ? args.shift().slice(2) : 'all';
if (!['all', 'micro', 'http', 'throughput', 'docs'].includes(mode)) {
  console.error(`bench: unknown mode --${mode}`);
  process.exit(2);
}
const results = resolve('docs/benchmarks/results');
mkdirSync(results, { recursive: true });
const env = { ...process.env, BENCH_RESULTS: results, TURBO_TELEMETRY_DISABLED: '1' };
let failed = false;
const run = (command, commandArgs, options = {}) => {
  const done = spawnSync(command, commandArgs, { stdio: 'inherit', env, ...options });
  if (done.status !== 0) {
    console.error(`bench: ${command} ${commandArgs.join(' ')} exited with ${done.status}`);
    failed = true;
  }
  return done.status === 0;
};

if (mode === 'all' || mode === 'micro') {
  // The sub-microsecond benchmarks load the built packages: build those that have one (turbo
  // builds their dependencies first, and skips what is up to date).
  const filters = mode === 'micro' ? args : [];
  const benched = readdirSync('packages')
    .sort()
    .filter((dir) => {
      const bench = join('packages', dir, 'bench');
      return (
        existsSync(bench) &&
        readdirSync(bench).some(
          (f) =>
            f.endsWith('.bench.ts') &&
            (filters.length === 0 || filters.some((w) => join(bench, f).includes(w))),
        )
      );
    })
    .map((dir) => JSON.parse(readFileSync(join('packages', dir, 'package.json'), 'utf8')).name);
  if (
    !run('pnpm', ['exec', 'turbo', 'run', 'build', ...benched.map((name) => `--filter=${name}`)])
  ) {
    process.exit(1);
  }
  run(process.execPath, ['scripts/bench-micro.mjs', ...filters]);
}

if (mode === 'all' || mode === 'http') {
  const wanted = (dir) => mode !== 'http' || args.length === 0 || args.includes(dir);
  for (const dir of readdirSync('packages').sort()) {
    const manifest = join('packages', dir, 'package.json');
    if (!existsSync(manifest) || !wanted(dir)) continue;
    const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
    if (pkg.scripts?.['bench:http'] !== undefined) {
      run('pnpm', ['--filter', pkg.name, 'run', 'bench:http']);
    }
  }
  if (wanted('health')) {
    run(process.execPath, ['--conditions=@prod/source', '--import', 'tsx', 'bench/probe-load.ts'], {
      cwd: 'packages/health',
    });
  }
}

if (mode === 'all' || mode === 'throughput') {
  // Jobs per second of a package against its peer (each measurement in a fresh process over
  // the built dist): build what they load first.
  for (const dir of readdirSync('packages').sort()) {
    const manifest = join('packages', dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
    if (pkg.scripts?.['bench:throughput'] === undefined) continue;
    if (run('pnpm', ['exec', 'turbo', 'run', 'build', `--filter=${pkg.name}`])) {
      run('pnpm', ['--filter', pkg.name, 'run', 'bench:throughput']);
    }
  }
}

// --- docs/benchmarks.md ----------------------------------------------------------------------

const stored = readdirSync(results)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(results, f), 'utf8')));
const micro = stored.filter((r) => r.kind === 'micro');
const http = stored.filter((r) => r.kind === 'http');
const throughput = stored.filter((r) => r.kind === 'queue-throughput');
const x = (n) => (typeof n === 'number' && Number.isFinite(n) ? `${n.toFixed(2)}x` : '-');
const span = (s) => `${x(s.median)} (${x(s.min)} - ${x(s.max)})`;
const loads = stored.flatMap((r) => [r.loadBefore, r.loadAfter]).filter(Number.isFinite);
const dates = [...new Set(stored.map((r) => r.date))].sort();
// The results come from whichever machine and Node ran them: name each one, not this one's.
const named = (pattern) =>
  [
    ...new Set(stored.map((r) => pattern.exec(r.machine ?? '')?.[1]?.trim()).filter(Boolean)),
  ].sort();
const cpus = named(/(\d+ x [^,]+)/);
const nodes = named(/Node (v[\d.]+)/);
const machines =
  cpus.length === 0
    ? `${os.cpus().length} x ${os.cpus()[0]?.model.trim() ?? 'cpu'}`
    : `${cpus.join(' or ')} (each section names its own)`;

const lines = [
  '# Benchmarks',
  '',
  `Written by \`pnpm bench\` from the results stored in docs/benchmarks/results/ (measured ${dates.join(', ') || 'never'}; Node ${nodes.length === 0 ? process.version : nodes.join(' or ')}, ${machines}, shared with other engineers' builds and tests: load average ${loads.length === 0 ? '-' : `${Math.min(...loads).toFixed(1)} - ${Math.max(...loads).toFixed(1)}`} during the runs). Every ratio is @prod side by side with the peer library a user would otherwise pick.`,
  '',
  '## How each number is measured',
  '',
  '- **Sub-microsecond operations** (config/bench-micro.ts, `pnpm bench:micro`): two independent',
  '  methods over the built dist of our package and of the peer, loaded the same way (plain Node,',
  '  no test-runner transform). Method 1 is mitata 1.0 (`measure`, one call per loop turn, mean ns',
  '  per call with the empty body subtracted); method 2 is a plain timed loop (a `for` loop',
  '  generated per contender, timed in slices, the same loop with an empty body subtracted,',
  '  median slice). Both time the CPU time of the process (what a busy neighbour does not',
  '  inflate), except groups marked wall-clock, whose contenders wait on I/O. Each measurement of',
  '  one contender runs in a fresh Node process; 5 rounds, interleaved, in a different order each.',
  '- **Ratio** = peer time / our time (above 1, @prod is faster), given as the ratio of the',
  '  medians over the rounds with the range of the per-round ratios. The timed loop **confirms**',
  "  a ratio when its median lies inside mitata's per-round range widened by 10 % each way.",
  '  **Verdict**: faster / slower when both medians are more than 5 % from 1, parity when both are',
  '  within 5 %, about parity otherwise; a ratio that is not confirmed is not claimed anywhere.',
  '- **HTTP loads** (config/bench-http.ts, `pnpm bench:http`): autocannon against each server in',
  '  its own child process, contenders in alternating order over several rounds; ratios are',
  '  taken within each round and given as the median (min - max) over the rounds, both in',
  '  requests/s and in server CPU per request. A direction is claimed only when both agree.',
  '- Timings are never asserted in tests; read ratios, not absolute numbers. The notes per',
  '  package (at the end) put each ratio next to the figure published before, say which old',
  '  figures were wrong and why, and add the runs kept in docs/benchmarks/results/<folder>/.',
  '',
];

if (micro.length > 0) {
  lines.push(
    '## Every published ratio, sub-microsecond benchmarks',
    '',
    '| file | group | comparison | mitata: ratio of medians (per-round range) | timed loop: ratio of medians (per-round range) | verdict |',
    '| --- | --- | --- | ---: | ---: | --- |',
  );
  for (const report of micro) {
    for (const r of report.ratios) {
      const what = r.minus ? `${r.label} (overhead over ${r.minus})` : r.label;
      lines.push(
        `| ${report.file.replace(/^packages\//, '')} | ${r.group} | ${what} | ${span(r.mitata)} | ${span(r.loop)} | ${r.confirmed ? r.verdict : '**not confirmed**'} |`,
      );
    }
  }
  lines.push('');
}
const httpRatios = http.flatMap((report) => report.ratios.map((r) => ({ report, r })));
if (httpRatios.length > 0) {
  lines.push(
    '## Every published ratio, HTTP loads',
    '',
    '| load | stack | vs | req/s ratio, median (range) | CPU / request ratio, median (range) | verdict |',
    '| --- | --- | --- | ---: | ---: | --- |',
    ...httpRatios.map(
      ({ report, r }) =>
        `| ${report.title} (${report.date}) | ${r.name} | ${r.baseline} | ${span(r.rps)} | ${span(r.cpu)} | ${r.verdict} |`,
    ),
    '',
  );
}
if (micro.length > 0) {
  lines.push('## Sub-microsecond benchmarks, in full', '');
  for (const report of micro) lines.push(report.markdown.trim(), '');
}
if (http.length > 0) {
  lines.push('## HTTP loads, in full', '');
  for (const report of http) lines.push(report.markdown.trim(), '');
}
if (throughput.length > 0) {
  lines.push('## Throughput, in full', '');
  for (const report of throughput) {
    lines.push(
      `### @prod/queue vs raw BullMQ, Node ${/Node v(\d+)[\d.]*((?: --[\w-]+)*)/.exec(report.machine)?.slice(1).join('') ?? '?'} (${report.date})`,
      '',
      `\`packages/queue/bench/throughput.ts\`: ${report.rounds} interleaved rounds of ${report.jobs} jobs per measurement, each in a fresh process, on a redis-server of its own; ${report.machine}; load average ${report.loadBefore.toFixed(1)} before, ${report.loadAfter.toFixed(1)} after; ${report.seconds} s. Two readings per measurement: jobs/s (wall clock) and CPU of the process per job; a direction is claimed only when both agree.`,
      '',
      report.markdown.trim(),
      '',
    );
  }
}
const notesDir = 'docs/benchmarks';
lines.push('# Notes per package', '');
for (const note of readdirSync(notesDir)
  .filter((f) => f.endsWith('.md'))
  .sort()) {
  lines.push(
    readFileSync(join(notesDir, note), 'utf8')
      .trim()
      .replace(/^(#+) /gm, '#$1 '),
    '',
  );
}
writeFileSync('docs/benchmarks.md', `${lines.join('\n')}\n`);
console.log('wrote docs/benchmarks.md');
process.exit(failed ? 1 : 0);
