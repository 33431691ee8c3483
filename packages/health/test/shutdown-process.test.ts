import { Agent, get, type IncomingMessage } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type FixtureProcess, spawnFixture, stopFixtures } from '@prod/testing';
import { afterEach, describe, expect, it } from 'vitest';

// The signal and exit path, end to end: a real child process, real SIGTERM, real exit code.
const here = dirname(fileURLToPath(import.meta.url));
const fixturePath = join(here, 'fixtures/shutdown-server.ts');

interface Service {
  readonly fixture: FixtureProcess;
  readonly port: number;
}

afterEach(stopFixtures);

async function start(env: Record<string, string>): Promise<Service> {
  const fixture = spawnFixture(fixturePath, {
    conditions: ['@prod/source'],
    cwd: join(here, '..'),
    env,
  });
  const port = Number((await fixture.waitForLine('port ')).slice(5));
  return { fixture, port };
}

/** Its exit code, once it has exited. */
const exitCode = async (service: Service): Promise<number | null> =>
  (await service.fixture.exited).code;

interface Answer {
  status?: number;
  connection?: string;
  body?: string;
  error?: string;
}

function request(port: number, path: string, agent: Agent | false): Promise<Answer> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path, agent }, (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          connection: String(res.headers.connection),
          body,
        }),
      );
      res.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? 'error' }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? 'error' }));
  });
}

describe('graceful shutdown in a real process', () => {
  it('answers 200 in-flight keep-alive requests during SIGTERM, then refuses and exits 0', async () => {
    const service = await start({ EXPECT: '200', PRE_STOP: '150' });
    const agent = new Agent({ keepAlive: true, maxSockets: 200 });
    try {
      const answers = Array.from({ length: 200 }, (_, i) =>
        request(service.port, `/work/${i}`, agent),
      );
      await service.fixture.waitForLine('inflight 200');
      service.fixture.kill('SIGTERM');
      await service.fixture.waitForLine('shutdown: readiness failing');
      // During preStopDelay readiness fails and liveness stays up (fresh connections).
      const ready = await request(service.port, '/health/ready', false);
      const live = await request(service.port, '/health/live', false);
      expect(ready.status).toBe(503);
      expect(live.status).toBe(200);
      const results = await Promise.all(answers);
      expect(results.filter((r) => r.error !== undefined)).toEqual([]);
      expect(results.every((r) => r.status === 200)).toBe(true);
      expect(results.every((r) => r.connection === 'close')).toBe(true);
      expect(new Set(results.map((r) => r.body)).size).toBe(200);
      const code = await exitCode(service);
      expect(code).toBe(0);
      expect(service.fixture.lines.filter((l) => l.startsWith('hook '))).toEqual([
        'hook queue',
        'hook cache',
        'hook postgres',
      ]);
      const after = await request(service.port, '/work/late', false);
      expect(after.error).toBe('ECONNREFUSED');
    } finally {
      agent.destroy();
    }
  }, 30_000);

  it('exits 1 when the drain deadline passes, after running the hooks', async () => {
    const service = await start({ EXPECT: '3', HANG: '1', DRAIN_TIMEOUT: '200' });
    const answers = Array.from({ length: 3 }, (_, i) =>
      request(service.port, `/stuck/${i}`, false),
    );
    await service.fixture.waitForLine('inflight 3');
    service.fixture.kill('SIGTERM');
    expect(await exitCode(service)).toBe(1);
    expect(service.fixture.lines.filter((l) => l.startsWith('hook '))).toHaveLength(3);
    // The stuck requests were cut off, not left hanging.
    const results = await Promise.all(answers);
    expect(results.every((r) => r.error !== undefined)).toBe(true);
  }, 30_000);

  it('does not let a hanging cleanup hook block the exit', async () => {
    const service = await start({ HOOK_HANGS: '1' });
    service.fixture.kill('SIGTERM');
    expect(await exitCode(service)).toBe(1);
    expect(service.fixture.lines.filter((l) => l.startsWith('hook '))).toEqual([
      'hook queue',
      'hook postgres',
    ]);
  }, 30_000);

  it('exits at once on a second signal', async () => {
    const service = await start({ PRE_STOP: '60000' });
    service.fixture.kill('SIGTERM');
    await service.fixture.waitForLine('shutdown: readiness failing');
    const ready = await request(service.port, '/health/ready', false);
    expect(ready.status).toBe(503);
    service.fixture.kill('SIGINT');
    expect(await exitCode(service)).toBe(1);
    expect(service.fixture.lines.filter((l) => l.startsWith('hook '))).toEqual([]);
  }, 30_000);
});
