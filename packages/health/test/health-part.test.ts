import { type HttpRequest, type HttpResponse, ok } from '@prod/core';
import { bearerToken, createHealth, type Health, healthPart } from '@prod/health';
import { afterEach, describe, expect, it } from 'vitest';

let health: Health | undefined;
afterEach(() => health?.stop());

function request(path: string, headers: Record<string, string> = {}): HttpRequest {
  return {
    method: 'GET',
    path,
    route: undefined,
    headers,
    ip: '127.0.0.1',
    query: {},
    params: {},
    body: undefined,
    signal: undefined,
    meta: {},
  };
}

function build(): Health {
  health = createHealth({
    releaseId: '9.9.9',
    checks: [
      { name: 'loop', kind: 'liveness', check: () => ok({ observedValue: 1 }) },
      { name: 'db', kind: 'readiness', check: () => ok({ observedValue: 2 }) },
      { name: 'migrations', kind: 'startup', check: () => ok({}) },
    ],
  });
  return health;
}

async function call(
  part: ReturnType<typeof healthPart>,
  path: string,
  headers?: Record<string, string>,
): Promise<HttpResponse> {
  const route = part.routes?.find((r) => r.path === path);
  if (route === undefined) throw new Error(`no route ${path}`);
  return route.handler(request(path, headers));
}

describe('healthPart', () => {
  it('serves the three probes on the default paths', async () => {
    const part = healthPart(build());
    expect(part.name).toBe('health');
    expect(part.routes?.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /health/live',
      'GET /health/ready',
      'GET /health/startup',
    ]);
    const live = await call(part, '/health/live');
    expect(live.body).toEqual({
      status: 'pass',
      checks: { 'loop:responseTime': [{ status: 'pass' }] },
    });
    const ready = await call(part, '/health/ready');
    expect(ready.body).toEqual({
      status: 'pass',
      checks: { 'db:responseTime': [{ status: 'pass' }] },
    });
    const startup = await call(part, '/health/startup');
    expect(startup.body).toEqual({
      status: 'pass',
      checks: { 'migrations:responseTime': [{ status: 'pass' }] },
    });
  });

  it('takes configured paths', () => {
    const part = healthPart(build(), {
      paths: { live: '/livez', ready: '/readyz', startup: '/startupz' },
    });
    expect(part.routes?.map((r) => r.path)).toEqual(['/livez', '/readyz', '/startupz']);
  });

  it('shows the detail view only to requests the predicate accepts', async () => {
    const part = healthPart(build(), { detail: bearerToken('s3cret-token') });
    const anonymous = await call(part, '/health/ready');
    expect(anonymous.body).not.toHaveProperty('releaseId');
    const wrong = await call(part, '/health/ready', { authorization: 'Bearer wrong' });
    expect(wrong.body).not.toHaveProperty('releaseId');
    const right = await call(part, '/health/ready', { authorization: 'Bearer s3cret-token' });
    expect(right.body).toMatchObject({ releaseId: '9.9.9' });
    expect(JSON.stringify(right.body)).toContain('observedValue');
  });

  it('treats a throwing detail predicate as "no"', async () => {
    const part = healthPart(build(), {
      detail: () => {
        throw new Error('auth backend down');
      },
    });
    expect((await call(part, '/health/ready')).body).not.toHaveProperty('releaseId');
  });

  it('holds a beacon per in-flight request and releases it on response', () => {
    const h = build();
    const part = healthPart(h);
    const first = request('/v1/notes');
    const second = request('/v1/notes');
    part.onRequest?.(first);
    part.onRequest?.(second);
    expect(h.inFlight).toBe(2);
    part.onResponse?.(first, { status: 200, durationMs: 1 });
    part.onResponse?.(first, { status: 200, durationMs: 1 });
    expect(h.inFlight).toBe(1);
    part.onResponse?.(second, { status: 500, durationMs: 1 });
    expect(h.inFlight).toBe(0);
  });

  it('releases the beacon of a frozen request object too', () => {
    const h = build();
    const part = healthPart(h);
    const frozen = Object.freeze(request('/v1/notes'));
    part.onRequest?.(frozen);
    expect(h.inFlight).toBe(1);
    part.onResponse?.(frozen, { status: 200, durationMs: 1 });
    expect(h.inFlight).toBe(0);
  });

  it('does not count probe requests as in-flight work', () => {
    const h = build();
    const part = healthPart(h);
    part.onRequest?.(request('/health/ready'));
    expect(h.inFlight).toBe(0);
  });

  it('can leave request tracking off', () => {
    const part = healthPart(build(), { trackRequests: false });
    expect(part.onRequest).toBeUndefined();
    expect(part.onResponse).toBeUndefined();
  });

  it.each([
    ['paths', { paths: 'health' }, 'paths'],
    ['a relative path', { paths: { ready: 'ready' } }, 'paths.ready'],
    ['detail', { detail: 'yes' }, 'detail'],
    ['trackRequests', { trackRequests: 1 }, 'trackRequests'],
    ['options', 'all', 'options'],
  ])('refuses a bad %s with HEALTH_INVALID_OPTIONS naming it', (_label, options, option) => {
    expect(() => healthPart(build(), options as never)).toThrow(
      expect.objectContaining({
        code: 'HEALTH_INVALID_OPTIONS',
        details: expect.objectContaining({ option }),
      }),
    );
  });

  it('refuses something that is not a Health', () => {
    expect(() => healthPart({} as Health)).toThrow(
      expect.objectContaining({ code: 'HEALTH_INVALID_OPTIONS' }),
    );
  });
});

describe('healthPart onSend', () => {
  const answer = {
    status: 201,
    headers: { 'content-type': 'application/json', location: '/v1/notes/1' },
    body: { id: 1 },
  };

  it('leaves every answer alone while the service runs', () => {
    const part = healthPart(build());
    expect(part.onSend?.(request('/v1/notes'), answer, { native: false })).toBeUndefined();
  });

  it('adds connection: close to every answer once the shutdown has begun, keeping the rest', () => {
    const h = build();
    const part = healthPart(h);
    h.beginShutdown();
    expect(part.onSend?.(request('/v1/notes'), answer, { native: false })).toEqual({
      status: 201,
      headers: {
        'content-type': 'application/json',
        location: '/v1/notes/1',
        connection: 'close',
      },
      body: { id: 1 },
    });
    // Headers only for a framework's own route, and for an answer that had no headers.
    expect(part.onSend?.(request('/native'), { status: 204 }, { native: true })).toEqual({
      status: 204,
      headers: { connection: 'close' },
    });
  });

  it('decorates even with request tracking off', () => {
    const h = build();
    const part = healthPart(h, { trackRequests: false });
    h.beginShutdown();
    expect(part.onSend?.(request('/x'), { status: 200 }, { native: false })?.headers).toEqual({
      connection: 'close',
    });
  });
});

describe('bearerToken', () => {
  const accept = bearerToken('abc');
  it.each([
    [{ authorization: 'Bearer abc' }, true],
    [{ authorization: 'bearer abc' }, true],
    [{ authorization: 'Bearer abcd' }, false],
    [{ authorization: 'Bearer ab' }, false],
    [{ authorization: 'Basic abc' }, false],
    [{ authorization: `Bearer ${'a'.repeat(100_000)}` }, false],
    [{}, false],
  ])('%j -> %s', (headers, expected) => {
    expect(accept(request('/health/ready', headers as Record<string, string>))).toBe(expected);
  });

  it.each([[''], [undefined], [42]])(
    'refuses the token %j with HEALTH_INVALID_OPTIONS',
    (token) => {
      expect(() => bearerToken(token as string)).toThrow(
        expect.objectContaining({
          code: 'HEALTH_INVALID_OPTIONS',
          details: expect.objectContaining({ option: 'token' }),
        }),
      );
    },
  );
});
