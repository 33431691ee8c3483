import { type HttpRequest, type HttpResponse, isProdError, type RouteMeta } from '@prod/core';
import { fakeRequest } from '@prod/testing';
import { defineRoute, problemResponse, routeSpecMeta, ValidationErrors } from '@prod/validation';
import { describe, expect, it, vi } from 'vitest';
import * as z from 'zod';

const Note = z.object({ id: z.string(), title: z.string() });

async function call(
  route: { handler: (r: HttpRequest) => unknown },
  request: Partial<HttpRequest>,
) {
  try {
    const answer = await route.handler(fakeRequest(request));
    return { answer: answer as HttpResponse, error: undefined };
  } catch (error) {
    return { answer: undefined, error };
  }
}

describe('defineRoute: input', () => {
  const handler = vi.fn((input: unknown) => ({ status: 200 as const, body: { echo: input } }));
  const route = defineRoute({
    method: 'POST',
    path: '/v1/things/:id/:part',
    request: {
      params: z.object({ id: z.number().int(), part: z.string() }),
      query: z.object({
        limit: z.number().int().max(100).default(10),
        exact: z.boolean().optional(),
        verbose: z.stringbool().optional(),
        ids: z.array(z.number()).optional(),
        names: z.array(z.string()).optional(),
        big: z.bigint().optional(),
      }),
      headers: z.object({ 'x-tenant': z.string().min(2) }),
      body: z.object({ title: z.string().min(1), count: z.number() }),
    },
    responses: { 200: z.object({ echo: z.unknown() }) },
    handler: (input) =>
      handler({
        params: input.params,
        query: input.query,
        headers: input.headers,
        body: input.body,
      }),
  });

  it('coerces path and query strings, wraps a single value of an array field, parses everything', async () => {
    const { answer } = await call(route, {
      method: 'POST',
      params: { id: '42', part: 'a' },
      query: {
        exact: 'true',
        verbose: 'yes',
        ids: '7',
        names: ['x', 'y'],
        big: '9007199254740993',
      },
      headers: { 'x-tenant': 'acme', 'x-other': 'ignored' },
      body: { title: ' T\u0007 ', count: 2 },
    });
    expect(answer?.status).toBe(200);
    expect(handler).toHaveBeenLastCalledWith({
      params: { id: 42, part: 'a' },
      query: {
        limit: 10,
        exact: true,
        verbose: true,
        ids: [7],
        names: ['x', 'y'],
        big: 9007199254740993n,
      },
      headers: { 'x-tenant': 'acme' },
      body: { title: ' T ', count: 2 },
    });
  });

  it('collects the failures of every part into one 400 VALIDATION_INVALID_INPUT', async () => {
    handler.mockClear();
    const { error } = await call(route, {
      params: { id: 'x', part: 'a' },
      query: { limit: '1000', exact: 'maybe', ids: ['1', 'two'] },
      headers: {},
      body: { title: '', count: '3' },
    });
    expect(handler).not.toHaveBeenCalled();
    expect(isProdError(error, 'VALIDATION_INVALID_INPUT')).toBe(true);
    const problem = (
      error as { toProblem(): { status: number; errors: { path: string; code: string }[] } }
    ).toProblem();
    expect(problem.status).toBe(400);
    expect(problem.errors.map((e) => e.path)).toEqual([
      '/params/id',
      '/query/limit',
      '/query/exact',
      '/query/ids/1',
      '/headers/x-tenant',
      '/body/title',
      '/body/count',
    ]);
  });

  it('maxErrors caps the listed errors of a route', async () => {
    const strict = defineRoute({
      method: 'POST',
      path: '/strict',
      maxErrors: 20,
      request: { body: z.strictObject({ a: z.string().optional() }) },
      responses: { 204: null },
      handler: () => ({ status: 204 }),
    });
    const body = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, i]));
    const { error } = await call(strict, { body });
    expect((error as { errors: unknown[] }).errors).toHaveLength(20);
    expect((error as { details: unknown }).details).toEqual({ errorCount: 300, listed: 20 });
  });

  it('refuses prototype keys in the query and the body before validation', async () => {
    const query = await call(route, {
      params: { id: '1', part: 'a' },
      query: JSON.parse('{"__proto__":"x"}'),
      body: {},
    });
    expect(isProdError(query.error, 'VALIDATION_UNSAFE_INPUT')).toBe(true);
    const body = await call(route, {
      params: { id: '1', part: 'a' },
      headers: { 'x-tenant': 'acme' },
      body: JSON.parse('{"title":"t","count":1,"constructor":{"prototype":{}}}'),
    });
    expect(isProdError(body.error, 'VALIDATION_UNSAFE_INPUT')).toBe(true);
  });

  it('sanitize: false keeps prototype keys out either way: stripped by a closed schema, refused by an open one', async () => {
    const seen = vi.fn();
    const closed = defineRoute({
      method: 'POST',
      path: '/closed',
      sanitize: false,
      request: { body: z.object({ a: z.string() }) },
      responses: { 204: null },
      handler: ({ body }) => {
        seen(body);
        return { status: 204 };
      },
    });
    await call(closed, { body: JSON.parse('{"a":"\\u0007","prototype":{"x":1},"constructor":1}') });
    expect(seen).toHaveBeenCalledWith({ a: '\u0007' });
    const open = defineRoute({
      method: 'POST',
      path: '/open',
      sanitize: false,
      request: { body: z.record(z.string(), z.unknown()) },
      responses: { 204: null },
      handler: () => ({ status: 204 }),
    });
    const { error } = await call(open, { body: JSON.parse('{"a":{"prototype":{"x":1}}}') });
    expect(isProdError(error, 'VALIDATION_UNSAFE_INPUT')).toBe(true);
  });

  it('without schemas the handler gets the raw params and query', async () => {
    const raw = defineRoute({
      method: 'GET',
      path: '/raw/:id',
      responses: { 200: z.object({ id: z.string(), q: z.unknown() }) },
      handler: ({ params, query }) => ({ status: 200, body: { id: params.id, q: query.q } }),
    });
    const { answer } = await call(raw, { params: { id: 'abc' }, query: { q: ['1', '2'] } });
    expect(answer?.body).toEqual({ id: 'abc', q: ['1', '2'] });
  });

  it('runs async refinements', async () => {
    const taken = defineRoute({
      method: 'POST',
      path: '/names',
      request: {
        body: z.object({
          name: z.string().refine(async (n) => n !== 'admin', { error: 'is taken' }),
        }),
      },
      responses: { 201: null },
      handler: () => ({ status: 201 }),
    });
    expect((await call(taken, { body: { name: 'ada' } })).answer?.status).toBe(201);
    const { error } = await call(taken, { body: { name: 'admin' } });
    expect((error as { errors: unknown[] }).errors).toEqual([
      { path: '/body/name', code: 'custom', message: 'is taken' },
    ]);
  });

  it('holds the body to a per-route limit and media types', async () => {
    const small = defineRoute({
      method: 'PATCH',
      path: '/small',
      request: {
        body: z.object({ a: z.string() }),
        bodyLimit: '16b',
        contentTypes: ['application/merge-patch+json'],
      },
      responses: { 204: null },
      handler: () => ({ status: 204 }),
    });
    const json = { 'content-type': 'application/merge-patch+json' };
    expect(
      (await call(small, { headers: { ...json, 'content-length': '10' }, body: { a: 'x' } })).answer
        ?.status,
    ).toBe(204);
    const large = await call(small, {
      headers: { ...json, 'content-length': '17' },
      body: { a: 'x' },
    });
    expect(isProdError(large.error, 'PAYLOAD_TOO_LARGE')).toBe(true);
    const chunked = await call(small, { headers: json, body: { a: 'x'.repeat(20) } });
    expect(isProdError(chunked.error, 'PAYLOAD_TOO_LARGE')).toBe(true);
    const wrongType = await call(small, {
      headers: { 'content-type': 'application/json' },
      body: { a: 'x' },
    });
    expect(isProdError(wrongType.error, 'UNSUPPORTED_MEDIA_TYPE')).toBe(true);
  });
});

describe('defineRoute: responses', () => {
  const make = (mode: 'strict' | 'strip' | 'off', answer: () => unknown, report = vi.fn()) =>
    defineRoute({
      method: 'GET',
      path: '/notes/:id',
      responseValidation: mode,
      onInvalidResponse: report,
      responses: { 200: Note, 204: null, 404: problemResponse('No such note') },
      handler: answer as never,
    });

  it('strict: an unknown field fails with a logged VALIDATION_RESPONSE_INVALID, the body never sent', async () => {
    const report = vi.fn();
    const route = make(
      'strict',
      () => ({ status: 200, body: { id: '1', title: 't', passwordHash: 'secret' } }),
      report,
    );
    const { error } = await call(route, {});
    expect(isProdError(error, 'VALIDATION_RESPONSE_INVALID')).toBe(true);
    expect((error as { status: number }).status).toBe(500);
    expect(report).toHaveBeenCalledTimes(1);
    expect(report.mock.calls[0]?.[0].errors).toEqual([
      { path: '/body/passwordHash', code: 'unrecognized_key', message: 'is not in the schema' },
    ]);
    const problem = JSON.stringify((error as { toProblem(): unknown }).toProblem());
    expect(problem).not.toContain('secret');
    expect(problem).not.toContain('passwordHash');
  });

  it('strip: unknown fields are removed so internal fields cannot leak', async () => {
    const route = make('strip', () => ({
      status: 200,
      body: { id: '1', title: 't', passwordHash: 'secret' },
    }));
    const { answer } = await call(route, {});
    expect(answer).toEqual({
      status: 200,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: { id: '1', title: 't' },
    });
  });

  it('strip and strict: a wrong type, a missing field, an undeclared status or an unexpected body fail', async () => {
    for (const mode of ['strip', 'strict'] as const) {
      for (const answer of [
        { status: 200, body: { id: 1, title: 't' } },
        { status: 200, body: { id: '1' } },
        { status: 201, body: { id: '1', title: 't' } },
        { status: 204, body: { id: '1' } },
      ]) {
        const report = vi.fn();
        const { error } = await call(
          make(mode, () => answer, report),
          {},
        );
        expect(
          isProdError(error, 'VALIDATION_RESPONSE_INVALID'),
          `${mode} ${JSON.stringify(answer)}`,
        ).toBe(true);
        expect(report).toHaveBeenCalledOnce();
      }
    }
  });

  it('off: sends what the handler answered', async () => {
    const route = make('off', () => ({ status: 200, body: { anything: true } }));
    expect((await call(route, {})).answer?.body).toEqual({ anything: true });
  });

  it('by default logs through the request logger, else console.error', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const route = defineRoute({
      method: 'GET',
      path: '/x',
      responseValidation: 'strict',
      responses: { 200: Note },
      handler: () => ({ status: 200, body: { id: '1' } }) as never,
    });
    await call(route, {});
    expect(spy).toHaveBeenCalledWith(
      expect.stringContaining('VALIDATION_RESPONSE_INVALID'),
      expect.any(Array),
    );
  });

  it('thrown ProdErrors and failed Results pass through as errors, not validated', async () => {
    const thrown = make('strict', () => {
      throw ValidationErrors.VALIDATION_INVALID_INPUT({ message: 'no' });
    });
    expect(isProdError((await call(thrown, {})).error, 'VALIDATION_INVALID_INPUT')).toBe(true);
    const failed = make('strict', () => ({
      ok: false,
      error: ValidationErrors.VALIDATION_UNSAFE_INPUT(),
    }));
    expect((await call(failed, {})).answer).toMatchObject({ ok: false });
    const okResult = make('strict', () => ({
      ok: true,
      value: { status: 200, body: { id: '1', title: 't' } },
    }));
    expect((await call(okResult, {})).answer?.body).toEqual({ id: '1', title: 't' });
  });

  it('async handlers and the parsed output (defaults, transforms) of the response schema', async () => {
    const route = defineRoute({
      method: 'GET',
      path: '/dated',
      responses: {
        200: z.object({ at: z.date().transform((d) => d.toISOString()), n: z.number().default(1) }),
      },
      handler: async () => ({ status: 200, body: { at: new Date(0) } }),
    });
    expect((await call(route, {})).answer?.body).toEqual({ at: '1970-01-01T00:00:00.000Z', n: 1 });
  });
});

describe('defineRoute: definitions', () => {
  const base = {
    method: 'GET',
    path: '/a/:id',
    responses: { 200: Note },
    handler: () => ({ status: 200 }),
  };
  const bad: [string, Record<string, unknown>][] = [
    ['method', { method: 'FETCH' }],
    ['path', { path: 'a' }],
    ['handler', { handler: 1 }],
    ['responses', { responses: {} }],
    ['responses.99', { responses: { 99: Note } }],
    ['responses.200', { responses: { 200: { nope: true } } }],
    ['request.params', { request: { params: z.object({ other: z.string() }) } }],
    ['request.headers', { request: { headers: z.object({ 'X-Upper': z.string() }) } }],
    ['request.bodyLimit', { request: { bodyLimit: 'lots' } }],
    ['responseValidation', { responseValidation: 'loose' }],
  ];
  for (const [option, change] of bad) {
    it(`refuses a bad ${option} with VALIDATION_INVALID_OPTIONS when defined`, () => {
      expect(() => defineRoute({ ...base, ...change } as never)).toThrowError(
        expect.objectContaining({
          code: 'VALIDATION_INVALID_OPTIONS',
          details: expect.objectContaining({ option }),
        }),
      );
    });
  }

  it('carries its spec as route metadata, with a generated operationId and summary', () => {
    const route = defineRoute({ ...base, meta: { [Symbol.for('my-app/x')]: 1 } } as never) as {
      meta: RouteMeta;
    };
    const spec = routeSpecMeta.read(route);
    expect(spec).toMatchObject({
      operationId: 'getAById',
      summary: 'GET /a/:id',
      pathParams: ['id'],
    });
    expect((route.meta as Record<symbol, unknown>)[Symbol.for('my-app/x')]).toBe(1);
  });
});
