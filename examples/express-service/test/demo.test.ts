import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { type IncomingMessage, request } from 'node:http';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const repository = join(root, '..', '..');
const readJson = (path: string) =>
  JSON.parse(readFileSync(path, 'utf8')) as { name: string; scripts: Record<string, string> };
const startScript = readJson(join(root, 'package.json')).scripts.start ?? '';
// `pnpm start` without pnpm or a shell in between, so the test sees the service's own exit code.
const [command, ...startArgs] = startScript.replace(/^exec /, '').split(' ');
// Inside the @prod repository only: `pnpm demo` is the repository's script, not the example's.
const inRepository = existsSync(join(repository, 'scripts', 'demo.mjs'));
// The footprint the demo must stay under (docs/reliability.md, "Footprint of the embedded
// default"): it measures about 150 MB, so a breach means the default store or the loader changed.
const RSS_CEILING_MB = 250;

interface Run {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Settles once every process holding the output pipes has exited. */
  readonly closed: Promise<unknown>;
}

function run(file: string, args: string[], cwd: string, env: Record<string, string>): Run {
  let stdout = '';
  let stderr = '';
  const child = spawn(file, args, {
    cwd,
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    // Its own process group, as a shell gives a command: Ctrl-C signals that group.
    detached: true,
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const closed = Promise.all([
    child.stdout ? once(child.stdout, 'close') : undefined,
    child.stderr ? once(child.stderr, 'close') : undefined,
  ]);
  return { child, stdout: () => stdout, stderr: () => stderr, closed };
}

async function waitFor(read: () => string, pattern: RegExp, child: ChildProcess): Promise<string> {
  for (;;) {
    const match = pattern.exec(read());
    if (match !== null) return match[1] ?? match[0];
    if (child.exitCode !== null) throw new Error(`exited ${child.exitCode} before ${pattern}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Whether a process (or, with a negative id, any process of a group) still exists. */
function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves once nothing of `pids` exists any more; the test's timeout bounds the wait. */
async function untilGone(pids: readonly number[]): Promise<void> {
  while (pids.some(exists)) await new Promise((resolve) => setTimeout(resolve, 100));
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

function logLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function residentMegabytes(pid: number): number | undefined {
  const status = `/proc/${pid}/status`;
  if (!existsSync(status)) return undefined;
  const kilobytes = /VmRSS:\s+(\d+)/.exec(readFileSync(status, 'utf8'))?.[1];
  return kilobytes === undefined ? undefined : Number(kilobytes) / 1024;
}

/** The demo key line of the start banner, exactly as issue 12 words it. */
const KEY_LINE = /^API key for writes: (notes_[0-9A-Za-z]{38})$/m;

/** Starts `pnpm demo`, uses it once, and answers what the assertions need. */
async function startDemo(): Promise<{ demo: Run; url: string; key: string; servicePid: number }> {
  const demo = run('pnpm', ['demo'], repository, { PORT: '0', HOST: '127.0.0.1' });
  const url = await waitFor(demo.stderr, /listening on (http:\/\/127\.0\.0\.1:\d+)/, demo.child);
  const key = await waitFor(demo.stderr, KEY_LINE, demo.child);
  const created = await fetch(`${url}/v1/notes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify({ title: 'from the demo test' }),
  });
  expect(created.status).toBe(201);
  // The default write limit, small enough to reach by hand: 60 a minute per API key, 300 per address.
  expect(created.headers.get('ratelimit-policy')).toBe(
    '"notes-write";q=60;w=60, "notes-write-ip";q=300;w=60',
  );
  const anonymous = await fetch(`${url}/v1/notes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'without the key' }),
  });
  expect(anonymous.status).toBe(401);
  expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="api"');
  await anonymous.arrayBuffer();
  expect((await fetch(`${url}/health/ready`)).status).toBe(200);
  await waitFor(demo.stdout, /"route":"\/v1\/notes"/, demo.child);
  const request = logLines(demo.stdout()).find((line) => line.route === '/v1/notes');
  expect(request).toMatchObject({ status: 201 });
  const servicePid = Number(request?.pid);
  expect(servicePid).not.toBe(demo.child.pid);
  return { demo, url, key, servicePid };
}

/** What must hold once the demo was told to stop: drained, exit 0, nothing left, port free. */
async function expectStoppedCleanly(
  demo: Run,
  url: string,
  servicePid: number,
  reason: string,
): Promise<void> {
  // pnpm, its shell, the launcher and the service: one process group.
  await untilGone([-(demo.child.pid ?? 0), servicePid]);
  expect(await portIsFree(Number(new URL(url).port))).toBe(true);
  await demo.closed;
  const lines = logLines(demo.stdout());
  expect(lines.find((line) => line.msg === 'shutdown: readiness failing')).toMatchObject({
    reason,
  });
  expect(lines.find((line) => line.msg === 'shutdown: done')).toMatchObject({ exitCode: 0 });
  expect(lines.filter((line) => String(line.msg).includes('second signal'))).toEqual([]);
}

describe.skipIf(!inRepository)('`pnpm demo` (only inside the @prod repository)', () => {
  it('is the launcher that runs this example the way its `start` script does', () => {
    expect(readJson(join(repository, 'package.json')).scripts.demo).toBe('node scripts/demo.mjs');
    expect(readFileSync(join(repository, 'scripts', 'demo.mjs'), 'utf8')).toContain(
      'examples/express-service/',
    );
    // `exec`, so that `npm start` / `pnpm start` signal the service itself, not a shell.
    expect(startScript).toBe('exec node --conditions=@prod/source --import tsx src/main.ts');
  });

  it('starts on PORT and HOST with the memory store, stays small, and drains on SIGTERM to pnpm', async () => {
    const { demo, url, key, servicePid } = await startDemo();
    try {
      const banner = demo.stderr();
      expect(banner).toContain('(express, memory store)');
      // The key line sits right before the curl lines, and every write among them uses it.
      const lines = banner.split('\n');
      const at = lines.indexOf(`API key for writes: ${key}`);
      expect(at).toBeGreaterThan(0);
      expect(lines[at + 1]).toBe('Try:');
      const writes = lines.filter((line) => / -X (POST|PATCH|DELETE) /.test(line));
      expect(writes.length).toBeGreaterThanOrEqual(4);
      for (const line of writes.filter((entry) => !entry.includes('# 401'))) {
        expect(line).toContain(`-H "x-api-key: ${key}"`);
      }
      expect(banner).toContain(`curl -i -X POST ${url}/v1/notes -H "x-api-key: ${key}"`);
      expect(banner).toContain(`curl -i ${url}/health/ready`);
      // Shown once, in the banner: never in a log line.
      expect(demo.stdout()).not.toContain(key);
      const rss = residentMegabytes(servicePid);
      // Linux only (/proc); elsewhere the default store is what guards the footprint.
      if (rss !== undefined) expect(rss).toBeLessThan(RSS_CEILING_MB);
      // To pnpm alone, as `kill <pid>` does: pnpm passes it to its shell only; the launcher
      // sees its shell die and passes it on to the service.
      process.kill(demo.child.pid ?? 0, 'SIGTERM');
      await expectStoppedCleanly(demo, url, servicePid, 'SIGTERM');
    } finally {
      if (exists(-(demo.child.pid ?? 0))) process.kill(-(demo.child.pid ?? 0), 'SIGKILL');
      if (exists(servicePid)) process.kill(servicePid, 'SIGKILL');
    }
  }, 90_000);

  it('drains and frees the port on Ctrl-C (SIGINT to the process group)', async () => {
    const { demo, url, servicePid } = await startDemo();
    try {
      process.kill(-(demo.child.pid ?? 0), 'SIGINT');
      await expectStoppedCleanly(demo, url, servicePid, 'SIGINT');
    } finally {
      if (exists(-(demo.child.pid ?? 0))) process.kill(-(demo.child.pid ?? 0), 'SIGKILL');
      if (exists(servicePid)) process.kill(servicePid, 'SIGKILL');
    }
  }, 90_000);
});

describe('the service started as `start` does', () => {
  it('runs node with tsx on the sources', () => {
    expect(command).toBe('node');
    expect(startArgs.slice(-3)).toEqual(['--import', 'tsx', 'src/main.ts']);
  });

  it('exits 0 on SIGTERM once the service has drained', async () => {
    const service = run(process.execPath, startArgs, root, { PORT: '0', HOST: '127.0.0.1' });
    await waitFor(service.stderr, /listening on (http:\/\/\S+)/, service.child);
    service.child.kill('SIGTERM');
    const [code] = await once(service.child, 'exit');
    expect(code).toBe(0);
  }, 60_000);

  it('takes the same Ctrl-C delivered twice (by the terminal, then by npm) for one', async () => {
    const service = run(process.execPath, startArgs, root, { PORT: '0', HOST: '127.0.0.1' });
    const url = new URL(
      await waitFor(service.stderr, /listening on (http:\/\/\S+)/, service.child),
    );
    const key = await waitFor(service.stderr, KEY_LINE, service.child);
    // A request still being uploaded keeps the drain open while the second copy arrives.
    const body = JSON.stringify({ title: 'sent during the drain' });
    const slow = request({
      host: url.hostname,
      port: url.port,
      method: 'POST',
      path: '/v1/notes',
      headers: {
        'content-type': 'application/json',
        'content-length': body.length,
        'x-api-key': key,
      },
    });
    const answered = once(slow, 'response') as Promise<[IncomingMessage]>;
    // Headers and the first bytes handed to the kernel: the drain reads what is on the wire.
    await new Promise((resolve) => slow.write(body.slice(0, 5), resolve));
    service.child.kill('SIGINT');
    await waitFor(service.stdout, /"msg":"shutdown: draining"/, service.child);
    service.child.kill('SIGINT');
    slow.end(body.slice(5));
    const [response] = await answered;
    expect(response.statusCode).toBe(201);
    response.resume();
    const [code] = await once(service.child, 'exit');
    expect(code).toBe(0);
    expect(service.stdout()).toContain('"msg":"shutdown: done"');
    expect(service.stdout()).not.toContain('second signal');
  }, 60_000);

  it.each([
    [
      'PORT',
      { PORT: 'eighty' },
      [/^ {2}- port: expected number, found "eighty" \(from env:PORT\)$/],
    ],
    [
      'LOG_LEVEL',
      { LOG_LEVEL: 'info,cache=loud' },
      [/^ {2}- logLevel: expected a level spec .*"loud".* \(from env:LOG_LEVEL\)$/],
    ],
    [
      'DATABASE_URL',
      { DATABASE_URL: 'mysql://x:secret@db/notes' },
      [/^ {2}- databaseUrl: expected a URL like .*, found \[REDACTED\] \(from env:DATABASE_URL\)$/],
    ],
    [
      'PORT, HOST and HEALTH_TOKEN at once',
      { PORT: 'eighty', HOST: 'bad host', HEALTH_TOKEN: 'secret' },
      [
        /^ {2}- port: .*\(from env:PORT\)$/,
        /^ {2}- host: expected a host name or an IP address, found "bad host" \(from env:HOST\)$/,
        /^ {2}- healthToken: expected at least 16 characters, found \[REDACTED\] \(from env:HEALTH_TOKEN\)$/,
      ],
    ],
  ])(
    'refuses a bad %s with every problem on stderr, one line each, and exit 1',
    async (_label, env, problems) => {
      const service = run(process.execPath, startArgs, root, { PORT: '0', ...env });
      const [code] = await once(service.child, 'exit');
      expect(code).toBe(1);
      const [first, ...rest] = service.stderr().trim().split('\n');
      const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
      expect(first).toBe(`cannot start: invalid configuration (${count}):`);
      expect(rest).toHaveLength(problems.length);
      for (const [index, line] of rest.entries()) expect(line).toMatch(problems[index] ?? /^$/);
      expect(service.stderr()).not.toContain('secret');
      expect(service.stderr()).not.toMatch(/\bat .+:\d+:\d+/);
    },
    60_000,
  );

  it('refuses a PostgreSQL that does not answer with one line on stderr and exit 1', async () => {
    const service = run(process.execPath, startArgs, root, {
      PORT: '0',
      DATABASE_URL: 'postgres://postgres:secret@127.0.0.1:1/test',
      // A database needs keys that outlive the process (without them: CONFIG_INVALID first).
      NOTES_KEYS: JSON.stringify([{ id: 1, key: 'k'.repeat(43), status: 'primary' }]),
      AUDIT_SIGNING_KEY: 'secret-audit-signing-key-of-32-chars',
      API_KEY_SECRET: 'secret-api-key-secret-of-32-chars!!',
    });
    const [code] = await once(service.child, 'exit');
    expect(code).toBe(1);
    const lines = service.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^cannot start: DB_UNAVAILABLE: cannot migrate the database on postgres: .*ECONNREFUSED/,
    );
    expect(lines[0]).not.toContain('secret');
    expect(service.stderr()).not.toMatch(/\bat .+:\d+:\d+/);
  }, 60_000);

  it('prints every setting with its source, secrets redacted, for `describe-config`', async () => {
    const scripts = readJson(join(root, 'package.json')).scripts;
    expect(scripts['describe-config']).toBe(`${startScript} --describe-config`);
    const described = run(process.execPath, [...startArgs, '--describe-config'], root, {
      PORT: '8080',
      DATABASE_URL: 'postgres://app:secret@db/notes',
      NOTES_STORE: 'memory',
      NOTES_FLAGS: '{"notes.search":{"defaultVariant":"on"}}',
    });
    const [code] = await once(described.child, 'exit');
    expect(code).toBe(0);
    const text = described.stdout();
    expect(text).toMatch(/^configuration \(profile: \w+\)$/m);
    expect(text).toMatch(/^port\s+8080\s+env:PORT$/m);
    expect(text).toMatch(/^host\s+"0\.0\.0\.0"\s+default$/m);
    expect(text).toMatch(/^databaseUrl\s+\[REDACTED\]\s+env:DATABASE_URL\s+secret$/m);
    expect(text).toMatch(
      /^flags\s+\{"notes\.search":\{"defaultVariant":"on"\}\}\s+env:NOTES_FLAGS\s+reloadable$/m,
    );
    expect(text).toContain('notes store in use: memory');
    expect(text + described.stderr()).not.toContain('secret@');
  }, 60_000);
});
