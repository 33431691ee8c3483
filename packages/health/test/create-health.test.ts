import { err, ok } from '@prod/core';
import { createHealth, type Health, type HealthCheck, HealthErrors } from '@prod/health';
import { installMatchers } from '@prod/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';

installMatchers();

const started: Health[] = [];
function make(...args: Parameters<typeof createHealth>): Health {
  const health = createHealth(...args);
  started.push(health);
  return health;
}
afterEach(() => {
  for (const health of started.splice(0)) health.stop();
});

const passing = (name: string, extra: Partial<HealthCheck> = {}): HealthCheck => ({
  name,
  kind: 'readiness',
  check: () => ok({ observedValue: 1, observedUnit: 'ms' }),
  ...extra,
});

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('createHealth registration', () => {
  it('rejects duplicate name:measurement keys at boot with HEALTH_DUPLICATE_CHECK', () => {
    expect(() => createHealth({ checks: [passing('db'), passing('db')] })).toThrow(
      expect.objectContaining({ code: 'HEALTH_DUPLICATE_CHECK' }),
    );
  });

  it('allows the same component with different measurements', () => {
    const health = make({
      checks: [passing('db'), passing('db', { measurement: 'utilization' })],
    });
    expect(Object.keys(health.runCounts())).toEqual(['db:responseTime', 'db:utilization']);
  });

  it('register() returns Err for a duplicate and Ok otherwise', () => {
    const health = make({ checks: [passing('db')] });
    expect(health.register(passing('db'))).toBeErr('HEALTH_DUPLICATE_CHECK');
    expect(health.register(passing('cache'))).toBeOk();
  });

  it.each([
    ['a non-object', 42],
    ['null', null],
    ['an array', []],
    ['a colon in the name', { name: 'a:b', kind: 'readiness', check: () => ok({}) }],
    ['__proto__ as name', { name: '__proto__', kind: 'readiness', check: () => ok({}) }],
    ['an empty name', { name: '', kind: 'readiness', check: () => ok({}) }],
    ['a huge name', { name: 'x'.repeat(10_000), kind: 'readiness', check: () => ok({}) }],
    ['a number as name', { name: 7, kind: 'readiness', check: () => ok({}) }],
    ['an unknown kind', { name: 'a', kind: 'sometimes', check: () => ok({}) }],
    ['an empty kind list', { name: 'a', kind: [], check: () => ok({}) }],
    ['a missing check', { name: 'a', kind: 'readiness' }],
    ['a string check', { name: 'a', kind: 'readiness', check: 'SELECT 1' }],
    ['a negative timeout', { name: 'a', kind: 'readiness', check: () => ok({}), timeout: -1 }],
    ['a NaN timeout', { name: 'a', kind: 'readiness', check: () => ok({}), timeout: Number.NaN }],
    ['a string interval', { name: 'a', kind: 'readiness', check: () => ok({}), interval: '5s' }],
    ['a zero interval', { name: 'a', kind: 'readiness', check: () => ok({}), interval: 0 }],
    ['a string critical', { name: 'a', kind: 'readiness', check: () => ok({}), critical: 'yes' }],
    [
      'a huge componentId',
      { name: 'a', kind: 'readiness', check: () => ok({}), componentId: 'x'.repeat(300) },
    ],
  ])('rejects %s with HEALTH_INVALID_CHECK', (_label, input) => {
    const health = make();
    expect(health.register(input as HealthCheck)).toBeErr('HEALTH_INVALID_CHECK');
    expect(health.runCounts()).toEqual({});
  });
});

describe('probe status', () => {
  it('passes when every check passes and reports observed values', async () => {
    const health = make({ checks: [passing('db')] });
    const report = await health.report('readiness');
    expect(report.status).toBe('pass');
    expect(report.checks).toEqual([
      expect.objectContaining({
        key: 'db:responseTime',
        status: 'pass',
        observedValue: 1,
        observedUnit: 'ms',
        componentType: 'component',
      }),
    ]);
  });

  it('fails when a critical check fails', async () => {
    const health = make({
      checks: [
        passing('db'),
        passing('cache', { check: () => err(HealthErrors.HEALTH_CHECK_FAILED('down')) }),
      ],
    });
    const report = await health.report('readiness');
    expect(report.status).toBe('fail');
    expect(report.checks[1]).toMatchObject({ status: 'fail', output: 'down' });
    expect(report.checks[1]?.error?.code).toBe('HEALTH_CHECK_FAILED');
  });

  it('gives warn, not fail, when a non-critical check fails', async () => {
    const health = make({
      checks: [
        passing('db'),
        passing('search', {
          critical: false,
          check: () => err(HealthErrors.HEALTH_CHECK_FAILED()),
        }),
      ],
    });
    const report = await health.report('readiness');
    expect(report.status).toBe('warn');
    expect(report.checks[1]?.status).toBe('fail');
    const response = await health.response('readiness');
    expect(response.status).toBe(200);
  });

  it('gives warn when a check observes a degraded value', async () => {
    const health = make({
      checks: [passing('db', { check: () => ok({ observedValue: 900, status: 'warn' }) })],
    });
    expect((await health.report('readiness')).status).toBe('warn');
  });

  it('counts an Ok observation with status fail as a failure (keeping the value)', async () => {
    const health = make({
      checks: [
        passing('api', {
          check: () => ok({ observedValue: 1500, observedUnit: 'ms', status: 'fail' }),
        }),
      ],
    });
    const report = await health.report('readiness');
    expect(report.status).toBe('fail');
    expect(report.checks[0]).toMatchObject({ observedValue: 1500, status: 'fail' });
  });

  it('only runs the checks of the probe asked for', async () => {
    let liveness = 0;
    let readiness = 0;
    const health = make({
      checks: [
        {
          name: 'loop',
          kind: 'liveness',
          check: () => {
            liveness += 1;
            return ok({});
          },
        },
        {
          name: 'db',
          kind: 'readiness',
          check: () => {
            readiness += 1;
            return ok({});
          },
        },
      ],
    });
    await health.report('liveness');
    expect([liveness, readiness]).toEqual([1, 0]);
  });

  it('runs a check that belongs to several probes once for both', async () => {
    const health = make({
      checks: [passing('db', { kind: ['readiness', 'startup'] })],
    });
    await health.report('startup');
    await health.report('readiness');
    expect(health.runCounts()['db:responseTime']).toBe(1);
  });

  it('defaults the observed value to the run duration in ms', async () => {
    const health = make({ checks: [passing('db', { check: () => ok({}) })] });
    const [result] = (await health.report('readiness')).checks;
    expect(typeof result?.observedValue).toBe('number');
    expect(result?.observedUnit).toBe('ms');
  });
});

describe('hostile check functions', () => {
  it('turns a throw into HEALTH_CHECK_FAILED', async () => {
    const health = make({
      checks: [
        passing('db', {
          check: () => {
            throw new Error('boom');
          },
        }),
      ],
    });
    const [result] = (await health.report('readiness')).checks;
    expect(result).toMatchObject({ status: 'fail', output: 'boom' });
    expect(result?.error?.code).toBe('HEALTH_CHECK_FAILED');
  });

  it('turns a rejected promise and a thrown non-error into HEALTH_CHECK_FAILED', async () => {
    const health = make({
      checks: [
        passing('a', { check: () => Promise.reject(new Error('nope')) }),
        passing('b', {
          check: (() => {
            throw { toString: () => 'x' };
          }) as unknown as HealthCheck['check'],
        }),
      ],
    });
    const report = await health.report('readiness');
    expect(report.checks.map((c) => c.error?.code)).toEqual([
      'HEALTH_CHECK_FAILED',
      'HEALTH_CHECK_FAILED',
    ]);
  });

  it('fails a check that returns something other than a Result', async () => {
    // biome-ignore lint/suspicious/noExplicitAny: hostile input on purpose
    const health = make({ checks: [passing('db', { check: (() => 'fine') as any })] });
    const [result] = (await health.report('readiness')).checks;
    expect(result).toMatchObject({ status: 'fail', output: 'check did not return a Result' });
  });

  it('ignores junk in an observation (huge strings, objects, bad statuses, NaN)', async () => {
    const health = make({
      checks: [
        passing('db', {
          check: () =>
            ok({
              observedValue: Number.NaN,
              observedUnit: 'u'.repeat(1000),
              status: 'maybe' as 'pass',
              output: 'y'.repeat(100_000),
            }),
        }),
      ],
    });
    const [result] = (await health.report('readiness')).checks;
    expect(result?.status).toBe('pass');
    expect(result?.observedUnit).toBe('ms');
    expect(typeof result?.observedValue).toBe('number');
    expect(result?.output?.length).toBeLessThanOrEqual(512);
  });

  it('wraps a non-ProdError Err in HEALTH_CHECK_FAILED', async () => {
    const health = make({
      // biome-ignore lint/suspicious/noExplicitAny: hostile input on purpose
      checks: [passing('db', { check: (() => err('plain string')) as any })],
    });
    const [result] = (await health.report('readiness')).checks;
    expect(result).toMatchObject({ status: 'fail', output: 'plain string' });
    expect(result?.error?.code).toBe('HEALTH_CHECK_FAILED');
  });
});

describe('timeouts', () => {
  it('fails a hanging check with HEALTH_CHECK_TIMEOUT instead of hanging the probe', async () => {
    const health = make({
      checks: [passing('db', { timeout: 30, check: () => new Promise(() => {}) })],
    });
    const report = await health.report('readiness');
    expect(report.status).toBe('fail');
    expect(report.checks[0]?.error?.code).toBe('HEALTH_CHECK_TIMEOUT');
    expect(report.checks[0]?.output).toBe('timed out after 30 ms');
  });

  it('aborts the signal it gave the check when the timeout passes', async () => {
    const seen = deferred<AbortSignal>();
    const health = make({
      checks: [
        passing('db', {
          timeout: 20,
          check: ({ signal }) => {
            seen.resolve(signal);
            return new Promise(() => {});
          },
        }),
      ],
    });
    await health.report('readiness');
    const signal = await seen.promise;
    expect(signal.aborted).toBe(true);
    expect((signal.reason as { code?: string }).code).toBe('HEALTH_CHECK_TIMEOUT');
  });

  it('does not let a late rejection after the timeout escape as unhandled', async () => {
    const health = make({
      checks: [
        passing('db', {
          timeout: 10,
          check: () => new Promise((_, reject) => setTimeout(() => reject(new Error('late')), 40)),
        }),
      ],
    });
    expect((await health.report('readiness')).checks[0]?.error?.code).toBe('HEALTH_CHECK_TIMEOUT');
    await new Promise((resolve) => setTimeout(resolve, 60));
  });
});

describe('caching and single-flight', () => {
  it('shares one run between concurrent probes (single-flight)', async () => {
    const gate = deferred<void>();
    let calls = 0;
    const health = make({
      checks: [
        passing('db', {
          check: async () => {
            calls += 1;
            await gate.promise;
            return ok({});
          },
        }),
      ],
    });
    const probes = Array.from({ length: 50 }, () => health.report('readiness'));
    gate.resolve();
    const reports = await Promise.all(probes);
    expect(calls).toBe(1);
    expect(reports.every((r) => r.status === 'pass')).toBe(true);
  });

  it('reuses an on-demand result for cacheTtl', async () => {
    let calls = 0;
    const health = make({
      checks: [
        passing('db', {
          cacheTtl: 60_000,
          check: () => {
            calls += 1;
            return ok({});
          },
        }),
      ],
    });
    for (let i = 0; i < 20; i += 1) await health.report('readiness');
    expect(calls).toBe(1);
  });

  it('re-runs an on-demand check every probe with cacheTtl 0 (but still single-flight)', async () => {
    let calls = 0;
    const health = make({
      checks: [
        passing('db', {
          cacheTtl: 0,
          check: () => {
            calls += 1;
            return ok({});
          },
        }),
      ],
    });
    for (let i = 0; i < 5; i += 1) await health.report('readiness');
    expect(calls).toBe(5);
  });

  it('serves background results from cache: a probe storm makes no dependency calls', async () => {
    let calls = 0;
    const health = make({
      checks: [
        passing('db', {
          interval: 60_000,
          check: () => {
            calls += 1;
            return ok({});
          },
        }),
      ],
    });
    await health.report('readiness');
    for (let i = 0; i < 1000; i += 1) await health.report('readiness');
    expect(calls).toBe(1);
  });

  it('re-runs background checks on their interval, and stop() ends the loop', async () => {
    let calls = 0;
    const health = make({
      checks: [
        passing('db', {
          interval: 5,
          check: () => {
            calls += 1;
            return ok({});
          },
        }),
      ],
    });
    await vi.waitFor(() => expect(calls).toBeGreaterThanOrEqual(3));
    health.stop();
    const after = calls;
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(calls).toBe(after);
  });

  it('marks a background result stale (fail) once it is older than staleAfter', async () => {
    let calls = 0;
    const gate = deferred<void>();
    const health = make({
      checks: [
        passing('db', {
          interval: 10,
          staleAfter: 15,
          timeout: 100_000,
          check: async () => {
            calls += 1;
            if (calls > 1) await gate.promise; // the second run hangs (within its timeout)
            return ok({});
          },
        }),
      ],
    });
    expect((await health.report('readiness')).status).toBe('pass');
    await new Promise((resolve) => setTimeout(resolve, 60));
    const report = await health.report('readiness');
    expect(report.status).toBe('fail');
    expect(report.checks[0]?.error?.code).toBe('HEALTH_CHECK_STALE');
    gate.resolve();
  });
});

describe('startup', () => {
  it('latches once passed and stops re-running startup checks', async () => {
    let ready = false;
    let calls = 0;
    const health = make({
      checks: [
        {
          name: 'migrations',
          kind: 'startup',
          cacheTtl: 0,
          check: () => {
            calls += 1;
            return ready ? ok({}) : err(HealthErrors.HEALTH_CHECK_FAILED('pending'));
          },
        },
      ],
    });
    expect((await health.report('startup')).status).toBe('fail');
    expect(health.started).toBe(false);
    ready = true;
    expect((await health.report('startup')).status).toBe('pass');
    expect(health.started).toBe(true);
    ready = false;
    expect((await health.report('startup')).status).toBe('pass');
    expect(calls).toBe(2);
  });

  it('keeps readiness failing until startup has passed', async () => {
    let ready = false;
    const health = make({
      checks: [
        {
          name: 'warmup',
          kind: 'startup',
          cacheTtl: 0,
          check: () => (ready ? ok({}) : err(HealthErrors.HEALTH_CHECK_FAILED('warming'))),
        },
        passing('db'),
      ],
    });
    const before = await health.report('readiness');
    expect(before.status).toBe('fail');
    expect(before.output).toBe('startup has not completed');
    ready = true;
    expect((await health.report('readiness')).status).toBe('pass');
  });

  it('passes with no startup checks', async () => {
    expect((await make().report('startup')).status).toBe('pass');
  });
});

describe('shutdown state', () => {
  it('fails readiness at once but keeps liveness passing', async () => {
    let readinessCalls = 0;
    const health = make({
      checks: [
        { name: 'loop', kind: 'liveness', check: () => ok({}) },
        passing('db', {
          cacheTtl: 0,
          check: () => {
            readinessCalls += 1;
            return ok({});
          },
        }),
      ],
    });
    expect(health.signal.aborted).toBe(false);
    health.beginShutdown();
    expect(health.shuttingDown).toBe(true);
    expect(health.signal.aborted).toBe(true);
    const ready = await health.response('readiness', { detail: true });
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'fail', output: 'Service is shutting down' });
    expect(readinessCalls).toBe(0);
    expect((await health.response('liveness')).status).toBe(200);
  });
});

describe('beacons', () => {
  it('counts holds, releases idempotently and wakes whenIdle', async () => {
    const health = make();
    const a = health.beacon('export');
    const b = health.beacon('stream');
    expect(health.inFlight).toBe(2);
    expect(health.beacons().sort()).toEqual(['export', 'stream']);
    let idle = false;
    const waiting = health.whenIdle().then(() => {
      idle = true;
    });
    a.release();
    a.release();
    await Promise.resolve();
    expect(idle).toBe(false);
    expect(a.released).toBe(true);
    b[Symbol.dispose]();
    await waiting;
    expect(idle).toBe(true);
    expect(health.inFlight).toBe(0);
  });
});

describe('createHealth options', () => {
  it.each([
    ['checks', { checks: 'redis' }, 'checks'],
    ['autoStart', { autoStart: 'no' }, 'autoStart'],
    ['releaseId', { releaseId: 42 }, 'releaseId'],
    ['logger', { logger: { info: () => {} } }, 'logger.debug'],
    ['options', 7, 'options'],
  ])('refuses a bad %s with HEALTH_INVALID_OPTIONS naming it', (_label, options, option) => {
    expect(() => createHealth(options as never)).toThrow(
      expect.objectContaining({
        code: 'HEALTH_INVALID_OPTIONS',
        details: expect.objectContaining({ option }),
      }),
    );
  });

  it('logs each status change of a check at debug, and nothing while it holds', async () => {
    let up = true;
    const debug = vi.fn();
    const health = make({
      logger: { debug },
      checks: [
        {
          name: 'db',
          kind: 'readiness',
          cacheTtl: 0,
          check: () => (up ? ok({}) : err(HealthErrors.HEALTH_CHECK_FAILED('db down'))),
        },
      ],
    });
    await health.report('readiness');
    await health.report('readiness');
    up = false;
    await health.report('readiness');
    await health.report('readiness');
    up = true;
    await health.report('readiness');
    const changes = debug.mock.calls.map(([data, message]) => [message, data.from, data.to]);
    expect(changes).toEqual([
      ['health: check status changed', null, 'pass'],
      ['health: check status changed', 'pass', 'fail'],
      ['health: check status changed', 'fail', 'pass'],
    ]);
    expect(debug.mock.calls[1]?.[0]).toMatchObject({
      check: 'db:responseTime',
      code: 'HEALTH_CHECK_FAILED',
      critical: true,
    });
  });
});
