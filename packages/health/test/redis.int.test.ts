import { type CheckResult, createHealth, type Health, redisCheck } from '@prod/health';
import { redisTestUrl } from '@prod/testing';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { blackHole, tcpProxy } from './fixtures/tcp.js';

const redis = await redisTestUrl();
afterAll(() => redis.cleanup());

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface ClientOptions {
  readonly lazyConnect?: boolean;
  readonly retryStrategy?: () => number;
}

function client(url: string, options: ClientOptions = {}): Redis {
  const c = new Redis(url, { lazyConnect: false, ...options });
  c.on('error', () => {});
  cleanups.push(() => c.disconnect());
  return c;
}

// Connect before the first probe: these tests are about the check, not the connect time.
async function connected(c: Redis): Promise<Redis> {
  if (c.status !== 'ready') await new Promise((resolve) => c.once('ready', resolve));
  return c;
}

async function once(health: Health): Promise<CheckResult> {
  cleanups.push(() => health.stop());
  const [result] = (await health.report('readiness')).checks;
  if (result === undefined) throw new Error('no result');
  return result;
}

describe.skipIf(!redis.available)(
  'redisCheck against real Redis (skipped: Redis not reachable)',
  () => {
    it('passes with the PING latency', async () => {
      const c = await connected(client(redis.url));
      const result = await once(createHealth({ checks: [redisCheck(c)] }));
      expect(result).toMatchObject({
        key: 'redis:responseTime',
        status: 'pass',
        componentType: 'datastore',
        observedUnit: 'ms',
      });
      expect(result.observedValue).toBeGreaterThanOrEqual(0);
    });

    it('fails when the server goes away (proxy stopped)', async () => {
      const url = new URL(redis.url);
      const proxy = await tcpProxy(url.hostname, Number(url.port || 6379));
      const c = await connected(
        client(`redis://127.0.0.1:${proxy.port}`, { retryStrategy: () => 50 }),
      );
      const health = createHealth({ checks: [redisCheck(c, { timeout: 1000, cacheTtl: 0 })] });
      cleanups.push(() => health.stop());
      expect((await health.report('readiness')).status).toBe('pass');
      await proxy.stop();
      const report = await health.report('readiness');
      expect(report.status).toBe('fail');
      expect(['HEALTH_CHECK_FAILED', 'HEALTH_CHECK_TIMEOUT']).toContain(
        report.checks[0]?.error?.code,
      );
    });
  },
);

describe('redisCheck against unreachable servers', () => {
  it('fails within its timeout on a port nothing listens on (offline queue would hang)', async () => {
    const c = client('redis://:hunter2@127.0.0.1:1', { retryStrategy: () => 100 });
    const result = await once(createHealth({ checks: [redisCheck(c, { timeout: 200 })] }));
    expect(result.status).toBe('fail');
    expect(['HEALTH_CHECK_FAILED', 'HEALTH_CHECK_TIMEOUT']).toContain(result.error?.code);
    expect(JSON.stringify(result)).not.toContain('hunter2');
  });

  it('fails with HEALTH_CHECK_TIMEOUT against a server that accepts and never answers', async () => {
    const hole = await blackHole();
    cleanups.push(() => hole.close());
    const c = client(`redis://127.0.0.1:${hole.port}`);
    const result = await once(createHealth({ checks: [redisCheck(c, { timeout: 200 })] }));
    expect(result.error?.code).toBe('HEALTH_CHECK_TIMEOUT');
    expect(result.output).toBe('timed out after 200 ms');
  });

  it('fails at once, without queueing a PING, when the client has ended', async () => {
    const c = client('redis://127.0.0.1:1', { lazyConnect: true });
    c.disconnect();
    let pings = 0;
    const counting = {
      get status() {
        return c.status;
      },
      ping: () => {
        pings += 1;
        return c.ping();
      },
    };
    const result = await once(createHealth({ checks: [redisCheck(counting, { timeout: 5000 })] }));
    expect(result).toMatchObject({ status: 'fail', output: 'redis connection is end' });
    expect(pings).toBe(0);
  });

  it('answers warn for a non-critical Redis that is down', async () => {
    const hole = await blackHole();
    cleanups.push(() => hole.close());
    const c = client(`redis://127.0.0.1:${hole.port}`);
    const health = createHealth({ checks: [redisCheck(c, { timeout: 100, critical: false })] });
    cleanups.push(() => health.stop());
    const response = await health.response('readiness');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      status: 'warn',
      checks: { 'redis:responseTime': [{ status: 'fail' }] },
    });
  });
});
