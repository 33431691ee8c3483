import {
  CoreErrors,
  currentContext,
  type HttpRequest,
  type RequestContext,
  runWithContext,
} from '@prod/core';
import { createLogger, requestLoggingPart } from '@prod/logger';
import { describe, expect, it } from 'vitest';
import { capture } from './capture.js';

function request(overrides: Partial<HttpRequest> = {}): HttpRequest {
  return {
    method: 'GET',
    path: '/v1/notes/42',
    route: '/v1/notes/:id',
    headers: {
      authorization: 'Bearer top-secret',
      cookie: 'sid=abc',
      'user-agent': 'curl/8',
      'x-forwarded-for': '10.0.0.1',
    },
    ip: '127.0.0.1',
    query: {},
    params: { id: '42' },
    body: undefined,
    signal: undefined,
    meta: {},
    ...overrides,
  };
}

/** Drives a part the way an adapter does: hooks inside the request's context. */
async function drive(
  part: ReturnType<typeof requestLoggingPart>,
  req: HttpRequest,
  info: { status: number; durationMs: number; error?: unknown },
  context: RequestContext = { requestId: 'req-1', traceId: 'trace-1', spanId: 'span-1' },
  respondOutside = false,
): Promise<RequestContext> {
  await runWithContext(context, async () => {
    const early = await part.onRequest?.(req);
    expect(early).toBeUndefined();
    if (!respondOutside) part.onResponse?.(req, info);
  });
  if (respondOutside) part.onResponse?.(req, info);
  return context;
}

function setup(options: Partial<Parameters<typeof requestLoggingPart>[0]> = {}) {
  const out = capture();
  const logger = createLogger({ destination: out.stream, base: null, dedupe: { max: 2 } });
  return { out, logger, part: requestLoggingPart({ logger, ...options }) };
}

describe('requestLoggingPart', () => {
  it('writes one line per request with method, route, status, duration, requestId, traceId', async () => {
    const { out, part } = setup();
    await drive(part, request(), { status: 200, durationMs: 12.34567 });
    expect(part.name).toBe('request-logging');
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]).toMatchObject({
      level: 'info',
      module: 'http',
      msg: 'request completed',
      method: 'GET',
      route: '/v1/notes/:id',
      status: 200,
      durationMs: 12.346,
      requestId: 'req-1',
      traceId: 'trace-1',
    });
    expect(out.lines[0]).not.toHaveProperty('path');
  });

  it('never logs the Authorization header or cookies, even when asked to', async () => {
    const { out, part } = setup({
      headers: ['Authorization', 'cookie', 'user-agent', 'x-missing'],
    });
    await drive(part, request(), { status: 200, durationMs: 1 });
    expect(out.lines[0]?.headers).toEqual({ 'user-agent': 'curl/8' });
    expect(out.raw[0]).not.toContain('top-secret');
    expect(out.raw[0]).not.toContain('sid=abc');
  });

  it('logs no headers by default', async () => {
    const { out, part } = setup();
    await drive(part, request(), { status: 200, durationMs: 1 });
    expect(out.lines[0]).not.toHaveProperty('headers');
    expect(out.raw[0]).not.toContain('curl');
  });

  it('sets ctx.logger to the service logger, without a child per request', async () => {
    const { out, logger, part } = setup();
    const context = await drive(part, request(), { status: 200, durationMs: 1 });
    expect(context.logger).toBe(logger);
    runWithContext(context, () =>
      currentContext()?.logger?.info({ step: 'handler' }, 'via context'),
    );
    expect(out.lines.at(-1)).toMatchObject({
      msg: 'via context',
      requestId: 'req-1',
      step: 'handler',
    });
    const own = { info() {}, warn() {}, error() {}, debug() {}, trace() {} };
    const kept = await drive(
      part,
      request(),
      { status: 200, durationMs: 1 },
      { requestId: 'r2', logger: own },
    );
    expect(kept.logger).toBe(own);
  });

  it('leaves ctx.logger alone with contextLogger: false', async () => {
    const { part } = setup({ contextLogger: false });
    const context = await drive(part, request(), { status: 200, durationMs: 1 });
    expect(context.logger).toBeUndefined();
  });

  it('uses warn for 4xx and error with the serialized error for 5xx', async () => {
    const { out, part } = setup();
    await drive(part, request(), { status: 404, durationMs: 1, error: CoreErrors.NOT_FOUND() });
    await drive(part, request(), {
      status: 500,
      durationMs: 1,
      error: Object.assign(new Error('db down'), { config: { password: 'pw-1' } }),
    });
    expect(out.lines[0]).toMatchObject({ level: 'warn', status: 404 });
    expect(out.lines[0]).not.toHaveProperty('err');
    expect(out.lines[1]).toMatchObject({
      level: 'error',
      status: 500,
      err: { message: 'db down', code: 'INTERNAL' },
    });
    expect(out.raw[1]).not.toContain('pw-1');
  });

  it('adds the (bounded) path when no route matched', async () => {
    const { out, part } = setup();
    await drive(part, request({ route: undefined, path: `/scan/${'a'.repeat(1000)}` }), {
      status: 404,
      durationMs: 1,
    });
    expect(out.lines[0]).toMatchObject({ method: 'GET', status: 404 });
    expect(out.lines[0]).not.toHaveProperty('route');
    expect(out.lines[0]?.path).toHaveLength(256);
  });

  it('still carries requestId and traceId when the adapter calls onResponse outside the context', async () => {
    const { out, part } = setup();
    await drive(
      part,
      request(),
      { status: 201, durationMs: 3 },
      { requestId: 'req-out', traceId: 't-out' },
      true,
    );
    expect(out.lines[0]).toMatchObject({ requestId: 'req-out', traceId: 't-out', status: 201 });
  });

  it('remembers the ids of a frozen request object too', async () => {
    const { out, part } = setup();
    await drive(
      part,
      Object.freeze(request()),
      { status: 200, durationMs: 1 },
      { requestId: 'req-frozen', traceId: 't-frozen' },
      true,
    );
    expect(out.lines[0]).toMatchObject({ requestId: 'req-frozen', traceId: 't-frozen' });
  });

  it('is never folded by repeated-line suppression', async () => {
    const { out, part } = setup();
    for (let i = 0; i < 20; i++)
      await drive(part, request(), { status: 200, durationMs: 1 }, { requestId: `r${i}` });
    expect(out.lines).toHaveLength(20);
    expect(new Set(out.lines.map((l) => l.requestId)).size).toBe(20);
  });

  it('skips ignored requests and follows the http module level', async () => {
    const { out, logger, part } = setup({ ignore: (r) => r.path === '/healthz' });
    await drive(part, request({ path: '/healthz', route: '/healthz' }), {
      status: 200,
      durationMs: 1,
    });
    expect(out.lines).toHaveLength(0);
    logger.setLevel('http', 'warn');
    await drive(part, request(), { status: 200, durationMs: 1 });
    await drive(part, request(), { status: 503, durationMs: 1 });
    expect(out.lines.map((l) => l.status)).toEqual([503]);
  });

  it('uses a custom level and message, and never throws from onResponse', async () => {
    const { out, part } = setup({ level: () => 'debug', message: 'done' });
    const { part: broken } = setup({
      ignore: () => {
        throw new Error('bug in ignore');
      },
    });
    await drive(part, request(), { status: 200, durationMs: 1 });
    expect(out.lines).toHaveLength(0);
    expect(() => broken.onResponse?.(request(), { status: 200, durationMs: 1 })).not.toThrow();
    const { out: out2, part: custom } = setup({ level: () => 'warn', message: 'done' });
    await drive(custom, request(), { status: 200, durationMs: 1 });
    expect(out2.lines[0]).toMatchObject({ level: 'warn', msg: 'done' });
  });

  it('writes "request started" at debug level only, with the request context ids', async () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream, base: null, level: 'info,http=debug' });
    const part = requestLoggingPart({ logger, ignore: (r) => r.path === '/healthz' });
    await drive(part, request(), { status: 200, durationMs: 1 });
    await drive(part, request({ path: '/healthz', route: undefined }), {
      status: 200,
      durationMs: 1,
    });
    expect(out.lines.map((line) => [line.level, line.msg])).toEqual([
      ['debug', 'request started'],
      ['info', 'request completed'],
    ]);
    expect(out.lines[0]).toMatchObject({
      method: 'GET',
      route: '/v1/notes/:id',
      requestId: 'req-1',
    });

    const quiet = capture();
    const infoOnly = createLogger({ destination: quiet.stream, base: null, level: 'info' });
    await drive(requestLoggingPart({ logger: infoOnly }), request(), {
      status: 200,
      durationMs: 1,
    });
    expect(quiet.lines.map((line) => line.msg)).toEqual(['request completed']);
  });

  it('rejects a missing logger', () => {
    expect(() => requestLoggingPart({} as never)).toThrow(
      'option logger must be a logger from createLogger(), got undefined',
    );
    expect(() => requestLoggingPart({ logger: console } as never)).toThrow(/option logger/);
  });

  it('rejects bad options, naming them', () => {
    const logger = createLogger({ destination: capture().stream });
    expect(() => requestLoggingPart({ logger, headers: 'user-agent' as never })).toThrow(
      /option headers must be an array/,
    );
    expect(() => requestLoggingPart({ logger, headers: [1 as never] })).toThrow(/headers\[0\]/);
    expect(() => requestLoggingPart({ logger, ignore: true as never })).toThrow(/option ignore/);
  });
});
