import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const repository = join(root, '..', '..');
const readJson = (path: string) =>
  JSON.parse(readFileSync(path, 'utf8')) as { name: string; scripts: Record<string, string> };

// `pnpm start` without pnpm in between, so the test sees the service's own exit code.
const [command, ...startArgs] =
  readJson(join(root, 'package.json')).scripts.start?.split(' ') ?? [];

interface Run {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
}

function run(file: string, args: string[], cwd: string, env: Record<string, string>): Run {
  let stdout = '';
  let stderr = '';
  const child = spawn(file, args, {
    cwd,
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    // Its own process group, so the test can signal pnpm and the service together.
    detached: true,
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return { child, stdout: () => stdout, stderr: () => stderr };
}

async function waitFor(read: () => string, pattern: RegExp, child: ChildProcess): Promise<string> {
  for (;;) {
    const match = pattern.exec(read());
    if (match !== null) return match[1] ?? match[0];
    if (child.exitCode !== null) throw new Error(`exited ${child.exitCode} before ${pattern}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the demo', () => {
  it('is the root `pnpm demo` script: this example started by pnpm', () => {
    expect(readJson(join(repository, 'package.json')).scripts.demo).toBe(
      `pnpm --filter ${readJson(join(root, 'package.json')).name} start`,
    );
    expect(command).toBe('node');
    expect(startArgs).toEqual(['--conditions=@prod/source', '--import', 'tsx', 'src/main.ts']);
  });

  it('`pnpm demo` starts on PORT and HOST with embedded defaults, prints the URLs to try, and drains on SIGTERM', async () => {
    const demo = run('pnpm', ['demo'], repository, { PORT: '0', HOST: '127.0.0.1' });
    try {
      const url = await waitFor(
        demo.stderr,
        /listening on (http:\/\/127\.0\.0\.1:\d+)/,
        demo.child,
      );
      expect(demo.stderr()).toContain('(express, pglite store)');
      expect(demo.stderr()).toContain(`curl -i -X POST ${url}/v1/notes`);
      expect(demo.stderr()).toContain(`curl -i ${url}/health/ready`);

      const created = await fetch(`${url}/v1/notes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'from the demo test' }),
      });
      expect(created.status).toBe(201);
      expect((await fetch(`${url}/health/ready`)).status).toBe(200);

      process.kill(-(demo.child.pid ?? 0), 'SIGTERM');
      await waitFor(demo.stdout, /"msg":"shutdown: done"/, demo.child);
      const done = demo
        .stdout()
        .split('\n')
        .find((line) => line.includes('"shutdown: done"'));
      expect(JSON.parse(done ?? '{}')).toMatchObject({ exitCode: 0 });
      const logged = demo
        .stdout()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(logged.find((line) => line.route === '/v1/notes')).toMatchObject({ status: 201 });
    } finally {
      if (demo.child.exitCode === null) process.kill(-(demo.child.pid ?? 0), 'SIGKILL');
    }
  }, 90_000);

  it('exits 0 on SIGTERM once the service has drained', async () => {
    const service = run(process.execPath, startArgs, root, {
      PORT: '0',
      HOST: '127.0.0.1',
      NOTES_STORE: 'memory',
    });
    await waitFor(service.stderr, /listening on (http:\/\/\S+)/, service.child);
    service.child.kill('SIGTERM');
    const [code] = await once(service.child, 'exit');
    expect(code).toBe(0);
  }, 60_000);

  it.each([
    ['PORT', { PORT: 'eighty' }, /PORT must be an integer from 0 to 65535/],
    ['LOG_LEVEL', { LOG_LEVEL: 'info,cache=loud' }, /LOG_LEVEL .*loud/],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://x:secret@db/notes' }, /DATABASE_URL must be a URL/],
    [
      'a PostgreSQL that does not answer',
      { DATABASE_URL: 'postgres://postgres:secret@127.0.0.1:1/test' },
      /UNAVAILABLE: cannot prepare the notes table on postgres/,
    ],
  ])(
    'refuses a bad %s with one line on stderr and exit 1',
    async (_label, env, message) => {
      const service = run(process.execPath, startArgs, root, { PORT: '0', ...env });
      const [code] = await once(service.child, 'exit');
      expect(code).toBe(1);
      const lines = service.stderr().trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^cannot start: /);
      expect(lines[0]).toMatch(message);
      expect(lines[0]).not.toContain('secret');
      expect(service.stderr()).not.toMatch(/\bat .+:\d+:\d+/);
    },
    60_000,
  );
});
