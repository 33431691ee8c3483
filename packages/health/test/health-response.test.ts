import { err, ok } from '@prod/core';
import {
  createHealth,
  HEALTH_CONTENT_TYPE,
  type Health,
  HealthErrors,
  type HealthJson,
  renderHealth,
} from '@prod/health';
import { afterEach, describe, expect, it } from 'vitest';

let health: Health | undefined;
afterEach(() => health?.stop());

function build(): Health {
  health = createHealth({
    version: '1',
    releaseId: '1.4.2',
    serviceId: 'notes-api',
    description: 'notes service',
    checks: [
      {
        name: 'redis',
        kind: 'readiness',
        componentType: 'datastore',
        componentId: 'cache-primary',
        check: () => ok({ observedValue: 12.3, observedUnit: 'ms' }),
      },
      {
        name: 'search',
        kind: 'readiness',
        critical: false,
        check: () => err(HealthErrors.HEALTH_CHECK_FAILED('search answered 500')),
      },
    ],
  });
  return health;
}

describe('application/health+json', () => {
  it('answers the public view with statuses only', async () => {
    const response = await build().response('readiness');
    expect(response.status).toBe(200);
    expect(response.headers).toEqual({
      'content-type': HEALTH_CONTENT_TYPE,
      'cache-control': 'no-store',
    });
    expect(response.body).toEqual({
      status: 'warn',
      checks: {
        'redis:responseTime': [{ status: 'pass' }],
        'search:responseTime': [{ status: 'fail' }],
      },
    });
  });

  it('answers the detail view in the IETF draft shape', async () => {
    const response = await build().response('readiness', { detail: true });
    const body = response.body as HealthJson;
    expect(body).toMatchObject({
      status: 'warn',
      version: '1',
      releaseId: '1.4.2',
      serviceId: 'notes-api',
      description: 'notes service',
    });
    expect(body.checks?.['redis:responseTime']).toEqual([
      {
        status: 'pass',
        componentId: 'cache-primary',
        componentType: 'datastore',
        observedValue: 12.3,
        observedUnit: 'ms',
        time: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      },
    ]);
    expect(body.checks?.['search:responseTime']?.[0]).toMatchObject({
      status: 'fail',
      componentType: 'component',
      output: 'search answered 500',
    });
    expect(JSON.parse(JSON.stringify(body))).toEqual(body);
  });

  it('answers 503 when a critical check fails', async () => {
    health = createHealth({
      checks: [
        { name: 'db', kind: 'readiness', check: () => err(HealthErrors.HEALTH_CHECK_FAILED()) },
      ],
    });
    const response = await health.response('readiness');
    expect(response.status).toBe(503);
    expect((response.body as HealthJson).status).toBe('fail');
  });

  it('renders an empty probe as pass with no checks', () => {
    expect(
      renderHealth({ kind: 'liveness', status: 'pass', checks: [], shuttingDown: false }),
    ).toEqual({ status: 'pass', checks: {} });
  });
});

describe('outputs never leak secrets', () => {
  const leaks = [
    'connect ECONNREFUSED postgres://app:hunter2@db.internal:5432/notes',
    'redis://:hunter2@cache.internal:6379/0 is down',
    'failed for app:hunter2@db.internal',
    'bad config password=hunter2 host=db',
    'token: "hunter2" rejected',
    'Authorization: Bearer hunter2',
    'https://api.example.com/v1?api_key=hunter2',
  ];

  it.each(leaks)('scrubs %s from thrown errors, Err and observations', async (text) => {
    health = createHealth({
      checks: [
        {
          name: 'a',
          kind: 'readiness',
          check: () => {
            throw new Error(text);
          },
        },
        { name: 'b', kind: 'readiness', check: () => err(HealthErrors.HEALTH_CHECK_FAILED(text)) },
        { name: 'c', kind: 'readiness', check: () => ok({ output: text, status: 'warn' }) },
      ],
    });
    const body = JSON.stringify((await health.response('readiness', { detail: true })).body);
    expect(body).not.toContain('hunter2');
    expect(body).not.toMatch(/postgres:\/\/|redis:\/\/|https:\/\//);
    expect(body).toContain('redacted');
  });
});
