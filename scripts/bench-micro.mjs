#!/usr/bin/env node
// Runs the sub-microsecond benchmarks: every packages/*/bench/*.bench.ts (or those whose path
// contains one of the arguments), one file after another. `pnpm bench:micro` builds first and
// stores the results; run directly (`node scripts/bench-micro.mjs core/bench/result`) it only
// prints them, measuring whatever dist/ holds. Settings are read by config/bench-micro.ts.
//
// - The built @prod packages are copied first (dist/ and package.json, no source maps) into a
//   snapshot under each benched package's node_modules/.cache/prod-bench/node_modules/@prod/:
//   the machine is shared, and another engineer's build cleans dist/ while it runs (a 10-minute
//   run lost two files that way). The bench and the snapshot's own imports of @prod/* resolve
//   there; everything else (the peers, pino, prom-client...) resolves from the package's
//   node_modules as usual. Both sides are loaded by Node's own resolver, untransformed.
// - Each file is bundled with esbuild without `keepNames` (tsx would rename every closure each
//   time it is created), every package left external, so the bench code runs as a compiler
//   would emit it.
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

// esbuild is tsup's: the build tool the packages already use, at the version it pins.
const esbuild = createRequire(import.meta.resolve('tsup'))('esbuild');

const filters = process.argv.slice(2);
const files = readdirSync('packages')
  .sort()
  .flatMap((pkg) => {
    const dir = join('packages', pkg, 'bench');
    return existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => f.endsWith('.bench.ts'))
          .sort()
          .map((f) => ({ pkg, file: join(dir, f) }))
      : [];
  })
  .filter(({ file }) => filters.length === 0 || filters.some((f) => file.includes(f)));
if (files.length === 0) {
  console.error(`bench:micro: no bench file matches ${filters.join(' ')}`);
  process.exit(1);
}

// Every file an exports map points at, so a half-cleaned dist/ is caught, not benchmarked.
function entries(exportsField) {
  if (typeof exportsField === 'string') return [exportsField];
  if (exportsField === null || typeof exportsField !== 'object') return [];
  return Object.entries(exportsField)
    .filter(([condition]) => condition !== '@prod/source' && condition !== 'types')
    .flatMap(([, value]) => entries(value));
}

const built = readdirSync('packages')
  .sort()
  .map((dir) => join('packages', dir))
  .filter((dir) => existsSync(join(dir, 'dist')) && existsSync(join(dir, 'package.json')))
  .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }));

function snapshot(cache) {
  const modules = join(cache, 'node_modules');
  rmSync(modules, { recursive: true, force: true });
  for (const { dir, manifest } of built) {
    const target = join(modules, manifest.name);
    mkdirSync(target, { recursive: true });
    cpSync(join(dir, 'package.json'), join(target, 'package.json'));
    cpSync(join(dir, 'dist'), join(target, 'dist'), {
      recursive: true,
      filter: (source) => !source.endsWith('.map') && !/\.d\.c?ts$/.test(source),
    });
    for (const entry of entries(manifest.exports)) {
      if (entry.startsWith('./dist/') && !existsSync(join(target, entry))) {
        throw new Error(`${manifest.name}: ${entry} is missing (is another build running?)`);
      }
    }
  }
}

const caches = new Map();
for (const { pkg } of files) {
  const cache = join('packages', pkg, 'node_modules', '.cache', 'prod-bench');
  if (caches.has(pkg)) continue;
  caches.set(pkg, cache);
  // Someone else's build may be between cleaning dist/ and writing it: wait and copy again.
  for (let attempt = 1; ; attempt += 1) {
    try {
      snapshot(cache);
      break;
    } catch (error) {
      if (attempt === 5) throw error;
      console.error(`bench:micro: ${error.message}; copying again in 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 10_000));
    }
  }
}
const newest = Math.max(
  ...built
    .filter(({ dir }) => existsSync(join(dir, 'dist')))
    .map(({ dir }) => statSync(join(dir, 'dist')).mtimeMs),
);
console.error(`bench:micro: built packages copied (newest dist ${new Date(newest).toISOString()})`);

let failed = 0;
for (const { pkg, file } of files) {
  const cache = caches.get(pkg);
  const name = file.split('/').pop().replace(/\.ts$/, '.mjs');
  // Beside the snapshot's node_modules, so `@prod/*` resolves to it first.
  await esbuild.build({
    entryPoints: [file],
    outfile: join(cache, name),
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    keepNames: false,
    logLevel: 'warning',
  });
  console.error(`\n${file}`);
  const run = spawnSync(process.execPath, [join(cache, name)], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_SOURCE: file },
  });
  if (run.status !== 0) {
    console.error(`${file}: exited with ${run.status ?? run.signal}`);
    failed += 1;
  }
}
process.exit(failed === 0 ? 0 : 1);
