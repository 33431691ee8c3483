import { fakeRequest } from '@prod/testing';
import { apiVersions, defineRoute, deprecationHeaders } from '@prod/validation';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';

const request = (version?: string) =>
  fakeRequest({ headers: version === undefined ? {} : { 'api-version': version } });

describe('apiVersions', () => {
  const versions = apiVersions({
    versions: ['2024-01-01', '2024-06-01', { id: '2025-01-01' }],
    changes: [
      {
        version: '2024-06-01',
        description: 'a',
        response: (body) => ({ ...(body as object), a: true }),
      },
      {
        version: '2025-01-01',
        description: 'b',
        response: (body) => ({ ...(body as object), b: true }),
      },
    ],
  });

  it('resolves exact ids, any later date to the version in force, and the latest by default', () => {
    expect(versions.resolve(request('2024-06-01'))).toEqual({ ok: true, value: '2024-06-01' });
    expect(versions.resolve(request('2024-12-31'))).toEqual({ ok: true, value: '2024-06-01' });
    expect(versions.resolve(request('2030-01-01'))).toEqual({ ok: true, value: '2025-01-01' });
    expect(versions.resolve(request())).toEqual({ ok: true, value: '2025-01-01' });
    const before = versions.resolve(request('2023-12-31'));
    expect(before.ok === false && before.error.code).toBe('VALIDATION_UNSUPPORTED_VERSION');
    const junk = versions.resolve(request(`${'x'.repeat(500)}`));
    expect(junk.ok === false && JSON.stringify(junk.error.toProblem())).not.toContain('xxxx');
  });

  it('walks a response back through every change since the client\u2019s version, newest first', () => {
    const route = defineRoute({
      method: 'GET',
      path: '/x',
      responses: { 200: z.object({}) },
      handler: () => ({ status: 200, body: {} }),
    });
    const down = (id: string) =>
      versions.context(id).downgrade?.({}, 200, route.spec, request()) ?? {};
    expect(down('2024-01-01')).toEqual({ a: true, b: true });
    expect(down('2024-06-01')).toEqual({ b: true });
    expect(versions.context('2025-01-01').downgrade).toBeUndefined();
  });

  it('a default function pins a client to its version; refuseAfterSunset answers 410', () => {
    const pinned = apiVersions({
      versions: [{ id: 'v1', deprecated: { at: '2020-01-01', sunset: '2021-01-01' } }, 'v2'],
      default: (r) => (r.headers['x-account'] === 'old' ? 'v1' : undefined),
      refuseAfterSunset: true,
    });
    expect(pinned.resolve(fakeRequest({ headers: { 'x-account': 'new' } }))).toEqual({
      ok: true,
      value: 'v2',
    });
    const retired = pinned.resolve(fakeRequest({ headers: { 'x-account': 'old' } }));
    expect(retired.ok === false && retired.error.code).toBe('VALIDATION_VERSION_SUNSET');
    expect(retired.ok === false && retired.error.status).toBe(410);
  });

  it('refuses bad definitions when they are made', () => {
    const bad: unknown[] = [
      { versions: [] },
      { versions: ['a', 'a'] },
      { versions: ['2025-01-01', '2024-01-01'] },
      { versions: ['v1', 'v2'], changes: [{ version: 'v3', description: 'x' }] },
      { versions: ['v1', 'v2'], changes: [{ version: 'v1', description: 'x' }] },
      { versions: ['v1'], default: 'v9' },
      { versions: ['v1'], header: 'bad header' },
      { versions: [{ id: 'v1', deprecated: { sunset: 'not a date' } }] },
      { versions: ['has space'] },
    ];
    for (const options of bad) {
      expect(() => apiVersions(options as never), JSON.stringify(options)).toThrowError(
        expect.objectContaining({ code: 'VALIDATION_INVALID_OPTIONS' }),
      );
    }
  });
});

describe('deprecationHeaders', () => {
  it('writes RFC 9745 Deprecation, RFC 8594 Sunset and a deprecation Link', () => {
    expect(
      deprecationHeaders({
        at: '2025-01-01T00:00:00Z',
        sunset: new Date('2025-07-01T00:00:00Z'),
        link: 'https://example.com/v1',
      }),
    ).toEqual({
      deprecation: '@1735689600',
      sunset: 'Tue, 01 Jul 2025 00:00:00 GMT',
      link: '<https://example.com/v1>; rel="deprecation"; type="text/html"',
    });
    expect(deprecationHeaders({})).toEqual({});
    expect(() => deprecationHeaders({ link: 'javascript:alert(1)>' })).toThrow();
  });
});
