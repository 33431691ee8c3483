#!/usr/bin/env node
// Copies one example service out of this repository into a standalone npm project:
//
//   node scripts/copy-example.mjs koa-service ../my-service [--name my-service]
//
// The copy is the framework folder with examples/notes-app inside it as ./notes-app, and
// every tie to this monorepo undone (docs/examples.md, "Copy one", lists the same steps):
//   - only the files git tracks (no node_modules links, no build output);
//   - package name from --name (default: the destination folder's name);
//   - `workspace:` ranges of @prod packages -> the published range (`workspace:^` -> `^<version>`,
//     as `pnpm publish` writes it); `example-notes-app` -> `file:./notes-app`;
//   - the `@prod/source` condition (sources instead of builds) dropped from the scripts and
//     the tsconfig files; a plain vitest.config.ts instead of the repository's preset;
//   - in the tests, what only holds in the repository's layout: `example-<framework>-service`
//     (the example importing itself by its old name) -> `../src/index.js`, and
//     `../../notes-app/` (a sibling folder there) -> `../notes-app/` (inside the copy).
// Then: npm install && npm test && npm start.
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repository = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SERVICES = ['express-service', 'fastify-service', 'koa-service'];
// Tooling of this repository that tests the copy itself: not part of the example.
const REPOSITORY_ONLY = new Set(['notes-app/test/copy-example.int.test.ts']);
const SKIPPED_DIRECTORIES = new Set(['node_modules', '.turbo', 'dist', 'coverage']);

const VITEST_CONFIG = `import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'notes-app/test/**/*.test.ts'],
    testTimeout: 10_000,
    // The end-to-end suite boots the service (and PGlite, about 2.5 s) before its tests.
    hookTimeout: 60_000,
  },
});
`;

function fail(message) {
  process.stderr.write(`copy-example: ${message}\n`);
  process.exit(1);
}

function parseArguments(argv) {
  const positional = [];
  let name;
  for (let index = 0; index < argv.length; index += 1) {
    if (argv[index] === '--name') name = argv[++index];
    else positional.push(argv[index]);
  }
  const [example, destination] = positional;
  if (!SERVICES.includes(example) || destination === undefined || positional.length !== 2) {
    fail(`usage: copy-example.mjs <${SERVICES.join('|')}> <destination> [--name <package name>]`);
  }
  return { example, destination: resolve(destination), name };
}

/** Files of `folder` (relative to it): what git tracks, or a walk without build output. */
function filesOf(folder) {
  try {
    const listed = execFileSync('git', ['ls-files', '-z', '--', '.'], {
      cwd: folder,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return listed.split('\0').filter((file) => file !== '' && existsSync(join(folder, file)));
  } catch {
    const walk = (directory) =>
      readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
        if (SKIPPED_DIRECTORIES.has(entry.name)) return [];
        const path = join(directory, entry.name);
        return entry.isDirectory() ? walk(path) : [relative(folder, path)];
      });
    return walk(folder);
  }
}

function copyFolder(from, to, prefix) {
  for (const file of filesOf(from)) {
    if (REPOSITORY_ONLY.has(`${prefix}${file}`)) continue;
    mkdirSync(dirname(join(to, file)), { recursive: true });
    copyFileSync(join(from, file), join(to, file));
  }
}

/** Re-points the imports of the example's tests that only resolve in the repository. */
function relinkTests(example, folder) {
  const tests = join(folder, 'test');
  if (!existsSync(tests)) return;
  for (const file of readdirSync(tests, { recursive: true })) {
    const path = join(tests, String(file));
    if (!/\.[cm]?[jt]s$/.test(path)) continue;
    const source = readFileSync(path, 'utf8');
    const depth = '../'.repeat(String(file).split(/[\\/]/).length);
    const relinked = source
      .replaceAll(`'example-${example}'`, `'${depth}src/index.js'`)
      .replaceAll(`'${depth}../notes-app/`, `'${depth}notes-app/`);
    if (relinked !== source) writeFileSync(path, relinked);
  }
}

const versions = new Map(
  readdirSync(join(repository, 'packages')).flatMap((folder) => {
    const manifest = join(repository, 'packages', folder, 'package.json');
    if (!existsSync(manifest)) return [];
    const { name, version } = JSON.parse(readFileSync(manifest, 'utf8'));
    return [[name, version]];
  }),
);

/** `workspace:^` -> `^1.2.3` (what pnpm publishes), `workspace:*` -> `1.2.3`, ... */
function publishedRange(name, range) {
  if (!range.startsWith('workspace:')) return range;
  const version = versions.get(name);
  if (version === undefined) fail(`${name} is not a package of this repository`);
  const spec = range.slice('workspace:'.length);
  if (spec === '*') return version;
  if (spec === '^' || spec === '~') return `${spec}${version}`;
  return spec;
}

function rewriteManifest(path, changes) {
  const manifest = JSON.parse(readFileSync(path, 'utf8'));
  for (const field of ['dependencies', 'devDependencies', 'peerDependencies']) {
    for (const [name, range] of Object.entries(manifest[field] ?? {})) {
      manifest[field][name] =
        name === 'example-notes-app' ? 'file:./notes-app' : publishedRange(name, range);
    }
  }
  for (const [script, command] of Object.entries(manifest.scripts ?? {})) {
    manifest.scripts[script] = command.replace(' --conditions=@prod/source', '');
  }
  Object.assign(manifest, changes);
  writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Drops `customConditions` (and the comment line above it) from a tsconfig.json. */
function dropSourceCondition(path) {
  const lines = readFileSync(path, 'utf8').split('\n');
  const at = lines.findIndex((line) => line.includes('"customConditions"'));
  if (at === -1) return;
  const from = lines[at - 1]?.trim().startsWith('//') ? at - 1 : at;
  lines.splice(from, at - from + 1);
  // The option before it may now end the object with a trailing comma.
  const last = from - 1;
  if (lines[from]?.trim().startsWith('}')) lines[last] = lines[last].replace(/,\s*$/, '');
  writeFileSync(path, lines.join('\n'));
}

const { example, destination, name } = parseArguments(process.argv.slice(2));
if (existsSync(destination) && readdirSync(destination).length > 0) {
  fail(`${destination} exists and is not empty`);
}
const examples = join(repository, 'examples');
copyFolder(join(examples, example), destination, '');
copyFolder(join(examples, 'notes-app'), join(destination, 'notes-app'), 'notes-app/');
relinkTests(example, destination);

rewriteManifest(join(destination, 'package.json'), { name: name ?? basename(destination) });
rewriteManifest(join(destination, 'notes-app', 'package.json'), {});
dropSourceCondition(join(destination, 'tsconfig.json'));
dropSourceCondition(join(destination, 'notes-app', 'tsconfig.json'));
writeFileSync(join(destination, 'vitest.config.ts'), VITEST_CONFIG);
// Its tests run from the copy's own vitest.config.ts.
rmSync(join(destination, 'notes-app', 'vitest.config.ts'), { force: true });

process.stdout.write(
  `Copied examples/${example} and examples/notes-app to ${destination}\n` +
    `Next: cd ${relative(process.cwd(), destination) || '.'} && npm install && npm test && npm start\n`,
);
