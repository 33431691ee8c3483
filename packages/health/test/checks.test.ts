import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { err, ok } from '@prod/core';
import {
  type CheckResult,
  createHealth,
  customCheck,
  diskCheck,
  eventLoopLagCheck,
  type Health,
  type HealthCheck,
  HealthErrors,
  heapCheck,
  httpCheck,
} from '@prod/health';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const healths: Health[] = [];
afterEach(() => {
  for (const h of healths.splice(0)) h.stop();
});

async function runOnce(check: HealthCheck): Promise<CheckResult> {
  const health = createHealth({ checks: [check] });
  healths.push(health);
  const kind = Array.isArray(check.kind) ? check.kind[0] : check.kind;
  const report = await health.report(kind);
  const [result] = report.checks;
  if (result === undefined) throw new Error('no result');
  return result;
}

describe('httpCheck', () => {
  let server: Server;
  let base: string;
  const hanging = new Set<import('node:http').ServerResponse>();
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/ok') res.end('fine');
      else if (req.url === '/down') {
        res.statusCode = 503;
        res.end('down');
      } else if (req.url === '/slow') setTimeout(() => res.end('late'), 60);
      else hanging.add(res); // never answers
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const res of hanging) res.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('passes on 2xx with the latency', async () => {
    const result = await runOnce(httpCheck(`${base}/ok`, { name: 'api' }));
    expect(result).toMatchObject({ key: 'api:responseTime', status: 'pass', observedUnit: 'ms' });
    expect(result.output).toBe('HTTP 200');
  });

  it('fails on an unexpected status, keeping the latency', async () => {
    const result = await runOnce(httpCheck(`${base}/down`));
    expect(result).toMatchObject({ status: 'fail', output: 'unexpected HTTP status 503' });
    expect(typeof result.observedValue).toBe('number');
  });

  it('accepts a status list or predicate', async () => {
    expect((await runOnce(httpCheck(`${base}/down`, { expectStatus: [503] }))).status).toBe('pass');
    expect(
      (await runOnce(httpCheck(`${base}/ok`, { expectStatus: (s) => s === 204 }))).status,
    ).toBe('fail');
  });

  it('warns or fails on latency thresholds', async () => {
    expect((await runOnce(httpCheck(`${base}/slow`, { warnLatency: 1 }))).status).toBe('warn');
    expect((await runOnce(httpCheck(`${base}/slow`, { failLatency: 1 }))).status).toBe('fail');
  });

  it('fails within its timeout against a server that never answers', async () => {
    const result = await runOnce(httpCheck(`${base}/hang`, { timeout: 100 }));
    expect(result.error?.code).toBe('HEALTH_CHECK_TIMEOUT');
  });

  it('fails against a port nothing listens on, without showing the URL', async () => {
    const result = await runOnce(
      httpCheck('http://user:hunter2@127.0.0.1:1/status?token=hunter2', { timeout: 2000 }),
    );
    expect(result.error?.code).toBe('HEALTH_CHECK_FAILED');
    expect(JSON.stringify(result.output)).not.toContain('hunter2');
  });

  it.each([['file:///etc/passwd'], ['not a url']])(
    'refuses %s with HEALTH_INVALID_OPTIONS, without echoing it',
    (url) => {
      let thrown: unknown;
      try {
        httpCheck(url);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toMatchObject({ code: 'HEALTH_INVALID_OPTIONS', details: { option: 'url' } });
      expect(JSON.stringify(thrown) + String((thrown as Error).message)).not.toContain(url);
    },
  );
});

describe('eventLoopLagCheck', () => {
  it('reports p99 delay in ms as a liveness check', async () => {
    const result = await runOnce(eventLoopLagCheck());
    expect(result).toMatchObject({
      key: 'eventLoop:delay',
      componentType: 'system',
      observedUnit: 'ms',
      status: 'pass',
    });
  });

  it('fails over its threshold after the loop was blocked', async () => {
    const health = createHealth({ checks: [eventLoopLagCheck({ failAt: 20, cacheTtl: 0 })] });
    healths.push(health);
    await health.report('liveness');
    const until = Date.now() + 80;
    while (Date.now() < until) {
      // block the loop on purpose
    }
    await new Promise((resolve) => setTimeout(resolve, 30));
    const report = await health.report('liveness');
    expect(report.status).toBe('fail');
    expect(report.checks[0]?.observedValue).toBeGreaterThanOrEqual(20);
  });
});

describe('heapCheck', () => {
  it('reports heap use in percent', async () => {
    const result = await runOnce(heapCheck());
    expect(result).toMatchObject({
      key: 'heap:utilization',
      observedUnit: 'percent',
      status: 'pass',
    });
    expect(result.observedValue).toBeGreaterThan(0);
    expect(result.observedValue).toBeLessThan(100);
  });

  it('fails at its threshold', async () => {
    expect((await runOnce(heapCheck({ warnAt: 0, failAt: 0 }))).status).toBe('fail');
    expect((await runOnce(heapCheck({ warnAt: 0, failAt: 101 }))).status).toBe('warn');
  });
});

describe('diskCheck', () => {
  it('reports free bytes on a path', async () => {
    const result = await runOnce(diskCheck(tmpdir()));
    expect(result).toMatchObject({ key: 'disk:free', observedUnit: 'bytes' });
    expect(result.observedValue).toBeGreaterThan(0);
  });

  it('fails when the free space is under the floor', async () => {
    const result = await runOnce(diskCheck(tmpdir(), { minFreeBytes: Number.MAX_SAFE_INTEGER }));
    expect(result.status).toBe('fail');
  });

  it('fails on a missing path without naming it', async () => {
    const result = await runOnce(diskCheck('/no/such/secret-dir'));
    expect(result.error?.code).toBe('HEALTH_CHECK_FAILED');
    expect(result.output).not.toContain('secret-dir');
  });
});

describe('customCheck', () => {
  it.each([
    ['true', () => true, 'pass'],
    ['nothing', () => undefined, 'pass'],
    [
      'an observation',
      () => ({ observedValue: 3, observedUnit: 'jobs', status: 'warn' as const }),
      'warn',
    ],
    ['Ok', () => ok({ observedValue: 1 }), 'pass'],
    ['false', () => false, 'fail'],
    ['Err', () => err(new Error('x')), 'fail'],
    ['a ProdError Err', () => err(HealthErrors.HEALTH_CHECK_FAILED('x')), 'fail'],
    [
      'a throw',
      () => {
        throw new Error('x');
      },
      'fail',
    ],
    ['a rejection', () => Promise.reject(new Error('x')), 'fail'],
  ])('maps %s', async (_label, fn, status) => {
    expect((await runOnce(customCheck('job', fn))).status).toBe(status);
  });

  it('takes kind, critical and timeout options', async () => {
    const check = customCheck('warm', () => new Promise(() => {}), {
      kind: 'startup',
      critical: false,
      timeout: 20,
    });
    expect(check).toMatchObject({ name: 'warm', kind: 'startup', critical: false, timeout: 20 });
    expect((await runOnce(check)).error?.code).toBe('HEALTH_CHECK_TIMEOUT');
  });
});
