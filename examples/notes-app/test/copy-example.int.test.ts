// docs/examples.md, "Copy one", followed to the letter in a temporary folder: the page's `sh`
// block runs line by line, so the page and what works cannot drift apart. The @prod packages
// are not on the npm registry yet: scripts/publish-locally.ts packs them as `pnpm publish`
// would and serves them as the `@prod` scope's registry; everything else comes from npm.
// Not copied by scripts/copy-example.mjs (it is tooling of this repository).
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type LocalRegistry,
  prodPackagesNeededBy,
  publishLocally,
} from '../../../scripts/publish-locally.js';

const repository = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const EXAMPLE = 'koa-service';

/** The commands of the first `sh` block under "## Copy one", comments dropped. */
function copySteps(): string[] {
  const page = readFileSync(join(repository, 'docs/examples.md'), 'utf8');
  const section = page.split(/^## /m).find((part) => part.startsWith('Copy one\n'));
  const block = /```sh\n([\s\S]*?)```/.exec(section ?? '')?.[1];
  if (block === undefined) throw new Error('docs/examples.md has no sh block under "Copy one"');
  return block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '');
}

/** This environment without what the test runner and pnpm put in it, plus `extra`. */
function userEnvironment(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    // npm reads every npm_config_* variable as its own configuration; vitest's variables would
    // make the copy's vitest think it runs inside this one.
    if (
      value === undefined ||
      /^(npm_|vitest|tinypool|init_cwd$|node_options$|node_env$|test$)/i.test(name)
    ) {
      continue;
    }
    env[name] = value;
  }
  return { ...env, ...extra };
}

interface Finished {
  readonly code: number | null;
  readonly output: string;
}

async function runLine(line: string, cwd: string, env: Record<string, string>): Promise<Finished> {
  const child = spawn('sh', ['-c', line], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, output };
}

function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  try {
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    server.close();
  }
}

/**
 * `npm start` as a user runs it (its own process group, as a shell gives it): one note
 * created and listed, then `stop` (SIGTERM to npm, or Ctrl-C to the group); answers the
 * exit code of npm and the service's log lines.
 */
async function startAndStop(
  cwd: string,
  env: Record<string, string>,
  stop: 'SIGTERM to npm' | 'Ctrl-C',
): Promise<{ code: number | null; lines: Record<string, unknown>[] }> {
  const npm = spawn('npm', ['start'], {
    cwd,
    env: { ...env, PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  npm.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  npm.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = once(npm, 'exit') as Promise<[number | null]>;
  const closed = Promise.all([once(npm.stdout, 'close'), once(npm.stderr, 'close')]);
  const group = -(npm.pid ?? 0);
  try {
    let url: string | undefined;
    while (url === undefined) {
      url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1];
      if (npm.exitCode !== null) throw new Error(`npm start exited ${npm.exitCode}:\n${stderr}`);
      await new Promise((done) => setTimeout(done, 100));
    }
    expect(stderr).toContain('(koa, memory store)');
    // Writes need an API key: the copy issues a demo key at start and prints it once.
    let key: string | undefined;
    while (key === undefined) {
      key = /^API key for writes: (\S+)$/m.exec(stderr)?.[1];
      if (npm.exitCode !== null) throw new Error(`npm start exited ${npm.exitCode}:\n${stderr}`);
      if (key === undefined) await new Promise((done) => setTimeout(done, 100));
    }
    const created = await fetch(`${url}/v1/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify({ title: 'from a copy' }),
    });
    expect(created.status).toBe(201);
    const listed = await fetch(`${url}/v1/notes`);
    expect(((await listed.json()) as { items: { title: string }[] }).items).toMatchObject([
      { title: 'from a copy' },
    ]);
    // The connection stays open (keep-alive): the drain waits for it, so a second copy of the
    // signal arrives while it runs.
    process.kill(
      stop === 'Ctrl-C' ? group : (npm.pid ?? 0),
      stop === 'Ctrl-C' ? 'SIGINT' : 'SIGTERM',
    );
    const [code] = await exited;
    await closed;
    while (exists(group)) await new Promise((done) => setTimeout(done, 100));
    expect(await portIsFree(Number(new URL(url).port))).toBe(true);
    const lines = stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    return { code, lines };
  } finally {
    if (exists(group)) process.kill(group, 'SIGKILL');
  }
}

describe('docs/examples.md, "Copy one", in a temporary folder with npm', () => {
  let registry: LocalRegistry;
  let workspace: string;
  let env: Record<string, string>;
  let needed: string[];

  beforeAll(async () => {
    workspace = mkdtempSync(join(tmpdir(), 'prod-copy-example-'));
    needed = prodPackagesNeededBy([
      join(repository, 'examples', EXAMPLE, 'package.json'),
      join(repository, 'examples', 'notes-app', 'package.json'),
    ]);
    registry = await publishLocally(needed, join(workspace, 'tarballs'));
    // The scope's registry goes in npm's global configuration file (a copy of the machine's,
    // plus one line): `npm_config_@prod:registry` is no name a shell passes on.
    const globalConfig = join(workspace, 'npmrc');
    const machineConfig = execFileSync('npm', ['config', 'get', 'globalconfig'], {
      cwd: workspace,
      encoding: 'utf8',
      env: userEnvironment({}),
    }).trim();
    const machine = existsSync(machineConfig) ? readFileSync(machineConfig, 'utf8') : '';
    writeFileSync(globalConfig, `${machine}\n@prod:registry=${registry.url}\n`);
    env = userEnvironment({
      npm_config_globalconfig: globalConfig,
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
    });
  }, 300_000);

  afterAll(async () => {
    await registry?.close();
    if (workspace !== undefined) rmSync(workspace, { recursive: true, force: true });
  });

  it('installs the published packages, typechecks, passes npm test, and serves with npm start', async () => {
    const steps = copySteps();
    expect(steps[0]).toBe(`node <this repo>/scripts/copy-example.mjs ${EXAMPLE} my-service`);
    // The one long-running step, which the test drives itself; every other one must exit 0.
    expect(steps.at(-1)).toBe('npm start');
    let cwd = workspace;
    for (const step of steps.slice(0, -1)) {
      const line = step.replaceAll('<this repo>', repository);
      const cd = /^cd (\S+)$/.exec(line);
      if (cd?.[1] !== undefined) {
        cwd = resolve(cwd, cd[1]);
        continue;
      }
      const finished = await runLine(line, cwd, env);
      expect(finished.code, `${step}\n${finished.output.slice(-4000)}`).toBe(0);
    }

    // The configuration, encryption, audit log, cache and limits of the example come from the
    // packed packages, as a user installs them.
    const used = ['config', 'crypto', 'audit', 'cache', 'ratelimit'];
    expect(needed).toEqual(
      expect.arrayContaining(['@prod/core', '@prod/koa', ...used.map((name) => `@prod/${name}`)]),
    );
    for (const name of used) {
      expect(existsSync(join(cwd, 'node_modules', '@prod', name, 'dist', 'index.js')), name).toBe(
        true,
      );
    }
    // What was installed is what the registry stand-in served, as a user would get it.
    const installed = JSON.parse(
      readFileSync(join(cwd, 'node_modules', '@prod', 'koa', 'package.json'), 'utf8'),
    ) as { dependencies: Record<string, string> };
    expect(JSON.stringify(installed.dependencies)).not.toContain('workspace:');
    const copied = readFileSync(join(cwd, 'package.json'), 'utf8');
    expect(copied).not.toMatch(/workspace:|@prod\/source/);

    const terminated = await startAndStop(cwd, env, 'SIGTERM to npm');
    expect(terminated.code).toBe(0);
    expect(
      terminated.lines.find((line) => line.msg === 'shutdown: readiness failing'),
    ).toMatchObject({
      reason: 'SIGTERM',
    });
    expect(terminated.lines.find((line) => line.msg === 'shutdown: done')).toMatchObject({
      exitCode: 0,
    });

    const interrupted = await startAndStop(cwd, env, 'Ctrl-C');
    expect(
      interrupted.lines.find((line) => line.msg === 'shutdown: readiness failing'),
    ).toMatchObject({
      reason: 'SIGINT',
    });
    expect(interrupted.lines.find((line) => line.msg === 'shutdown: done')).toMatchObject({
      exitCode: 0,
    });
    expect(interrupted.lines.filter((line) => String(line.msg).includes('second signal'))).toEqual(
      [],
    );
  }, 600_000);
});
