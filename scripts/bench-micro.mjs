#!/usr/bin/env node
// `pnpm bench:micro [filter...]`: runs the sub-microsecond benchmarks, every
// packages/*/bench/*.bench.ts (or those whose path contains one of the filters), one Node
// process per file, one file after another. Each file is bundled first with esbuild (without
// `keepNames`, which would rename every closure each time it is created, as tsx does; every
// package left external), so that @prod packages load from their built dist like the peers
// do, through Node's own resolver, and the bench code runs as a compiler would emit it. Run
// `pnpm build` first (`pnpm bench` does). Settings are read by config/bench-micro.ts: ROUNDS,
// TIME, LOOP_TIME, GROUP, BENCH_RESULTS.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

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

// Node resolves a package's own name only from inside it, and the bundle lives in its
// node_modules: point the package's imports of itself at its built ESM entry instead.
function selfImports(pkgDir) {
  const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const name = manifest.name;
  return {
    name: 'prod-self-import',
    setup(build) {
      build.onResolve({ filter: /^@prod\// }, (args) => {
        if (args.path !== name && !args.path.startsWith(`${name}/`)) return undefined;
        const subpath = `.${args.path.slice(name.length)}`;
        const entry = manifest.exports?.[subpath]?.import?.default;
        if (entry === undefined) throw new Error(`${name}: no import entry for ${subpath}`);
        return { path: resolve(pkgDir, entry), external: true };
      });
    },
  };
}

let failed = 0;
for (const { pkg, file } of files) {
  const pkgDir = join('packages', pkg);
  const cache = join(pkgDir, 'node_modules', '.cache', 'prod-bench');
  mkdirSync(cache, { recursive: true });
  const outfile = join(cache, file.split('/').pop().replace(/\.ts$/, '.mjs'));
  await esbuild.build({
    entryPoints: [file],
    outfile,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    keepNames: false,
    logLevel: 'warning',
    plugins: [selfImports(pkgDir)],
  });
  console.error(`\n${file}`);
  // Relative to the package, so bare imports resolve from its node_modules, as its tests do.
  const run = spawnSync(
    process.execPath,
    [join('node_modules', '.cache', 'prod-bench', outfile.split('/').pop())],
    {
      cwd: pkgDir,
      stdio: 'inherit',
      env: { ...process.env, BENCH_SOURCE: file },
    },
  );
  if (run.status !== 0) {
    console.error(`${file}: exited with ${run.status ?? run.signal}`);
    failed += 1;
  }
}
process.exit(failed === 0 ? 0 : 1);
