import { SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import {
  currentContext,
  type HttpRequest,
  ProdError,
  type RequestContext,
  runWithContext,
} from '@prod/core';
import { currentSpan, injectTraceHeaders, tracingPart, withSpan } from '@prod/tracing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { installSdk, type TestSdk } from './sdk.js';

let sdk: TestSdk;
beforeAll(() => {
  sdk = installSdk();
});
afterAll(async () => {
  await sdk.uninstall();
});
beforeEach(() => {
  sdk.exporter.reset();
});

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const PARENT_ID = 'b7ad6b7169203331';
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_ID}-01`;

interface RequestInit {
  method?: string;
  path?: string;
  route?: string | undefined;
  headers?: Record<string, string | undefined>;
  ip?: string;
}

/** An HttpRequest whose route can be set later, as an adapter's becomes known after routing. */
function request(init: RequestInit = {}): HttpRequest & { route: string | undefined } {
  return {
    method: init.method ?? 'GET',
    path: init.path ?? '/notes/42',
    route: init.route,
    headers: init.headers ?? {},
    ip: init.ip,
    query: {},
    params: {},
    body: undefined,
    signal: undefined,
    meta: {},
  };
}

function newContext(): RequestContext {
  return { requestId: 'req-1', extensions: new Map() };
}

/** Runs one request through the part the way an adapter does, inside the request context. */
async function handle(
  req: HttpRequest & { route: string | undefined },
  options: {
    part?: ReturnType<typeof tracingPart>;
    ctx?: RequestContext;
    status?: number;
    error?: unknown;
    routeAfterRouting?: string;
    handler?: () => unknown;
  } = {},
): Promise<RequestContext> {
  const part = options.part ?? tracingPart();
  const ctx = options.ctx ?? newContext();
  await runWithContext(ctx, async () => {
    expect(await part.onRequest?.(req)).toBeUndefined();
    if (options.routeAfterRouting !== undefined) req.route = options.routeAfterRouting;
    await options.handler?.();
    part.onResponse?.(req, {
      status: options.status ?? 200,
      durationMs: 1,
      ...(options.error !== undefined && { error: options.error }),
    });
  });
  return ctx;
}

describe('tracingPart: the server span', () => {
  it('starts a SERVER span named METHOD /route with the HTTP attributes', async () => {
    await handle(
      request({
        route: '/notes/:id',
        headers: {
          host: 'api.example.com:8443',
          'user-agent': 'curl/8',
          'x-forwarded-proto': 'https',
        },
        ip: '10.0.0.7',
      }),
    );
    const span = sdk.span('GET /notes/:id');
    expect(span.kind).toBe(SpanKind.SERVER);
    expect(span.attributes).toEqual({
      'http.request.method': 'GET',
      'http.route': '/notes/:id',
      'url.path': '/notes/42',
      'url.scheme': 'https',
      'server.address': 'api.example.com',
      'server.port': 8443,
      'client.address': '10.0.0.7',
      'user_agent.original': 'curl/8',
      'http.response.status_code': 200,
    });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.ended).toBe(true);
  });

  it('renames the span when the route is only known after routing', async () => {
    await handle(request({ method: 'POST', path: '/notes' }), { routeAfterRouting: '/notes' });
    const span = sdk.span('POST /notes');
    expect(span.attributes['http.route']).toBe('/notes');
  });

  it('falls back to the method alone, never the raw path', async () => {
    await handle(request({ path: '/users/123/secret-token-abc' }), { status: 404 });
    const [span] = sdk.spans();
    expect(span?.name).toBe('GET');
    expect(span?.attributes['http.route']).toBeUndefined();
    expect(span?.attributes['url.path']).toBe('/users/123/secret-token-abc');
  });

  it('maps an unknown method to _OTHER and names the span HTTP', async () => {
    await handle(request({ method: 'PROPFIND', route: '/dav' }));
    const span = sdk.span('HTTP /dav');
    expect(span.attributes['http.request.method']).toBe('_OTHER');
    expect(span.attributes['http.request.method_original']).toBe('PROPFIND');
  });

  it('reads an IPv6 Host and ignores a malformed or oversized one', async () => {
    await handle(request({ route: '/a', headers: { host: '[::1]:3000' } }));
    await handle(request({ route: '/b', headers: { host: 'evil host\r\nx: y' } }));
    await handle(request({ route: '/c', headers: { host: `${'a'.repeat(300)}.com` } }));
    expect(sdk.span('GET /a').attributes['server.address']).toBe('::1');
    expect(sdk.span('GET /a').attributes['server.port']).toBe(3000);
    expect(sdk.span('GET /b').attributes['server.address']).toBeUndefined();
    expect(sdk.span('GET /c').attributes['server.address']).toBeUndefined();
  });

  it('clips a huge user agent and path', async () => {
    await handle(
      request({
        route: '/x',
        path: `/${'p'.repeat(100_000)}`,
        headers: { 'user-agent': 'u'.repeat(100_000) },
      }),
    );
    const span = sdk.span('GET /x');
    expect((span.attributes['user_agent.original'] as string).length).toBe(1024);
    expect((span.attributes['url.path'] as string).length).toBe(2048);
  });

  it('adds the caller-supplied attributes', async () => {
    await handle(request({ route: '/t' }), {
      part: tracingPart({ attributes: (req) => ({ 'app.path.length': req.path.length }) }),
    });
    expect(sdk.span('GET /t').attributes['app.path.length']).toBe('/notes/42'.length);
  });

  it('leaves ignored requests untraced', async () => {
    const ctx = await handle(request({ path: '/healthz', route: '/healthz' }), {
      part: tracingPart({ ignore: (req) => req.path === '/healthz' }),
    });
    expect(sdk.spans()).toEqual([]);
    expect(ctx.traceId).toBeUndefined();
  });
});

describe('tracingPart: status', () => {
  it('leaves a 4xx UNSET with no error.type: the client failed, not the server', async () => {
    await handle(request({ route: '/notes/:id' }), {
      status: 404,
      error: new ProdError({ code: 'NOTE_NOT_FOUND', status: 404 }),
    });
    const span = sdk.span('GET /notes/:id');
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes['http.response.status_code']).toBe(404);
    expect(span.attributes['error.type']).toBeUndefined();
    expect(span.events).toEqual([]);
  });

  it('marks a 5xx ERROR with error.type = status code and the error as an exception event', async () => {
    await handle(request({ route: '/notes/:id' }), {
      status: 503,
      error: new ProdError({ code: 'STORE_UNAVAILABLE', status: 503 }),
    });
    const span = sdk.span('GET /notes/:id');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR });
    expect(span.attributes['error.type']).toBe('503');
    expect(span.events[0]?.name).toBe('exception');
    expect(span.events[0]?.attributes?.['exception.type']).toBe('STORE_UNAVAILABLE');
  });

  it('marks a 5xx without an error ERROR with no exception event', async () => {
    await handle(request({ route: '/x' }), { status: 500 });
    expect(sdk.span('GET /x').status.code).toBe(SpanStatusCode.ERROR);
    expect(sdk.span('GET /x').events).toEqual([]);
  });

  it('treats an impossible status as an error and does not record it as a status code', async () => {
    await handle(request({ route: '/x' }), { status: 42 });
    const span = sdk.span('GET /x');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe('_OTHER');
    expect(span.attributes['http.response.status_code']).toBeUndefined();
  });

  it('ignores onResponse for a request it never saw', () => {
    const part = tracingPart();
    expect(() => part.onResponse?.(request(), { status: 200, durationMs: 1 })).not.toThrow();
    expect(sdk.spans()).toEqual([]);
  });
});

describe('tracingPart: incoming trace context', () => {
  it('continues the caller trace from traceparent and keeps tracestate', async () => {
    await handle(
      request({
        route: '/r',
        headers: { traceparent: TRACEPARENT, tracestate: 'vendor=abc,other=1' },
      }),
    );
    const span = sdk.span('GET /r');
    expect(span.spanContext().traceId).toBe(TRACE_ID);
    expect(span.parentSpanContext?.spanId).toBe(PARENT_ID);
    expect(span.parentSpanContext?.isRemote).toBe(true);
    expect(span.spanContext().traceState?.get('vendor')).toBe('abc');
  });

  it.each([
    ['missing', undefined],
    ['upper-case hex', `00-${TRACE_ID.toUpperCase()}-${PARENT_ID}-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${PARENT_ID}-01`],
    ['an all-zero parent id', `00-${TRACE_ID}-${'0'.repeat(16)}-01`],
    ['version ff', `ff-${TRACE_ID}-${PARENT_ID}-01`],
    ['two values joined', `${TRACEPARENT}, ${TRACEPARENT}`],
    ['garbage', 'not-a-traceparent'],
    ['1 MB of junk', `00-${TRACE_ID}-${PARENT_ID}-01-${'x'.repeat(1_000_000)}`],
  ])('starts a new trace when traceparent is %s', async (_label, traceparent) => {
    await handle(request({ route: '/r', headers: { traceparent } }));
    const span = sdk.span('GET /r');
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.spanContext().traceId).not.toBe(TRACE_ID);
  });

  it('ignores a traceparent that is only inherited (__proto__ in parsed JSON headers)', async () => {
    const headers = JSON.parse(`{"__proto__": {"traceparent": "${TRACEPARENT}"}}`) as Record<
      string,
      string
    >;
    await handle(request({ route: '/r', headers }));
    expect(sdk.span('GET /r').parentSpanContext).toBeUndefined();
  });
});

describe('tracingPart: the request context', () => {
  it('writes the server span ids into the current request context object', async () => {
    const ctx = newContext();
    await handle(request({ route: '/r' }), { ctx });
    const span = sdk.span('GET /r');
    expect(ctx.traceId).toBe(span.spanContext().traceId);
    expect(ctx.spanId).toBe(span.spanContext().spanId);
    expect(ctx.extensions?.size).toBe(1);
  });

  it('parents withSpan on the server span although the adapter never entered the OTel context', async () => {
    let headers: Record<string, string> = {};
    let current: string | undefined;
    await handle(request({ route: '/notes/:id', headers: { traceparent: TRACEPARENT } }), {
      handler: () => {
        expect(trace.getActiveSpan()).toBeUndefined();
        current = currentSpan()?.spanContext().spanId;
        return withSpan('notes.load', async () => {
          await new Promise((resolve) => setTimeout(resolve, 1));
          withSpan('notes.decode', () => undefined);
          headers = injectTraceHeaders({});
        });
      },
    });
    const server = sdk.span('GET /notes/:id');
    const load = sdk.span('notes.load');
    const decode = sdk.span('notes.decode');
    expect(current).toBe(server.spanContext().spanId);
    expect(load.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(decode.parentSpanContext?.spanId).toBe(load.spanContext().spanId);
    expect(load.spanContext().traceId).toBe(TRACE_ID);
    expect(headers.traceparent).toBe(`00-${TRACE_ID}-${load.spanContext().spanId}-01`);
  });

  it('works with a request context that has no extensions map', async () => {
    const ctx: RequestContext = { requestId: 'bare' };
    await handle(request({ route: '/r' }), {
      ctx,
      handler: () => withSpan('inner', () => undefined),
    });
    expect(sdk.span('inner').parentSpanContext?.spanId).toBe(
      sdk.span('GET /r').spanContext().spanId,
    );
    expect(ctx.traceId).toBe(sdk.span('GET /r').spanContext().traceId);
  });

  it('keeps concurrent requests apart', async () => {
    const part = tracingPart();
    const one = request({ route: '/one' });
    const two = request({ route: '/two' });
    await Promise.all([
      handle(one, {
        part,
        handler: () => new Promise((r) => setTimeout(r, 5)).then(() => withSpan('in.one', () => 1)),
      }),
      handle(two, { part, handler: () => withSpan('in.two', () => 2) }),
    ]);
    expect(sdk.span('in.one').parentSpanContext?.spanId).toBe(
      sdk.span('GET /one').spanContext().spanId,
    );
    expect(sdk.span('in.two').parentSpanContext?.spanId).toBe(
      sdk.span('GET /two').spanContext().spanId,
    );
    expect(sdk.span('GET /one').spanContext().traceId).not.toBe(
      sdk.span('GET /two').spanContext().traceId,
    );
  });

  it('still works outside a request context, ending the span on response', async () => {
    const part = tracingPart();
    const req = request({ route: '/bare' });
    expect(currentContext()).toBeUndefined();
    await part.onRequest?.(req);
    part.onResponse?.(req, { status: 204, durationMs: 1 });
    expect(sdk.span('GET /bare').attributes['http.response.status_code']).toBe(204);
  });

  it('ends the span of a frozen request object too', async () => {
    const part = tracingPart();
    const req = Object.freeze(request({ route: '/frozen' }));
    await part.onRequest?.(req);
    part.onResponse?.(req, { status: 202, durationMs: 1 });
    expect(sdk.span('GET /frozen').attributes['http.response.status_code']).toBe(202);
  });

  it('never throws from its hooks, even when the tracer does', async () => {
    const broken = {
      startSpan() {
        throw new Error('tracer broke');
      },
    } as unknown as Tracer;
    const part = tracingPart({ tracer: broken });
    const req = request({ route: '/r' });
    await expect(
      runWithContext(newContext(), async () => part.onRequest?.(req)),
    ).resolves.toBeUndefined();
    expect(() => part.onResponse?.(req, { status: 200, durationMs: 1 })).not.toThrow();
  });
});

describe('tracingPart: debug lines and options', () => {
  it('writes the SDK state once, then one line per server span, only at debug level', async () => {
    const lines: Array<[unknown, string | undefined]> = [];
    let enabled = true;
    const logger = {
      debug: (obj: unknown, msg?: string) => void lines.push([obj, msg]),
      isLevelEnabled: (level: string) => enabled && level === 'debug',
    };
    const part = tracingPart({ logger });
    await handle(request({ route: '/notes/:id', headers: { traceparent: TRACEPARENT } }), { part });
    await handle(request({ route: '/notes/:id' }), { part });
    enabled = false;
    await handle(request({ route: '/notes/:id' }), { part });
    expect(lines.map(([, msg]) => msg)).toEqual([
      'tracing: first request',
      'tracing: server span started',
      'tracing: server span started',
    ]);
    expect(lines[0]?.[0]).toEqual({ tracerProvider: true, propagator: true });
    expect(lines[1]?.[0]).toMatchObject({
      traceId: TRACE_ID,
      joinedCallerTrace: true,
      sampled: true,
    });
    expect(lines[2]?.[0]).toMatchObject({ joinedCallerTrace: false });
  });

  it.each([
    ['ignore', { ignore: '/healthz' }],
    ['attributes', { attributes: { a: 1 } }],
    ['tracer', { tracer: {} }],
    ['logger', { logger: console.log }],
    ['options', 'yes'],
  ])('throws TRACING_INVALID_OPTIONS naming %s', (option, options) => {
    expect(() => tracingPart(options as never)).toThrow(
      expect.objectContaining({
        code: 'TRACING_INVALID_OPTIONS',
        details: expect.objectContaining({ option }),
      }),
    );
  });
});
