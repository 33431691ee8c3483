import { CoreErrors, currentContext, definePart, json, type Part } from '@prod/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BootedServer, ConformanceContext } from '../types.js';

/** What the context part saw in the later hooks of one request. */
interface Seen {
  handler?: { requestId?: string | undefined; traceId?: string | undefined };
  onError?: { requestId?: string | undefined; traceId?: string | undefined };
  onResponse?: {
    requestId?: string | undefined;
    traceId?: string | undefined;
    route?: string | undefined;
    status: number;
  };
}

const TRACE_HEADER = 'x-conformance-trace';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

function contextParts(): { parts: Part[]; seen(requestId: string): Promise<Seen> } {
  const records = new Map<string, Seen>();
  const waiters = new Map<string, (seen: Seen) => void>();
  const entry = (): Seen => {
    const id = currentContext()?.requestId ?? 'missing-context';
    let seen = records.get(id);
    if (seen === undefined) {
      seen = {};
      records.set(id, seen);
    }
    return seen;
  };
  const snapshot = () => ({
    requestId: currentContext()?.requestId,
    traceId: currentContext()?.traceId,
  });

  // What tracing does: fill the context in onRequest; what logging and metrics do: read it
  // back in onResponse (exemplars, log lines) and onError.
  const ids = definePart({
    name: 'context-ids',
    onRequest(request) {
      const context = currentContext();
      const trace = request.headers[TRACE_HEADER];
      if (context !== undefined && trace !== undefined) {
        context.traceId = trace;
        context.spanId = '00f067aa0ba902b7';
      }
      return undefined;
    },
    onError() {
      entry().onError = snapshot();
      return undefined;
    },
    onResponse(_request, info) {
      const seen = entry();
      seen.onResponse = { ...snapshot(), route: currentContext()?.route, status: info.status };
      const id = currentContext()?.requestId;
      if (id !== undefined) waiters.get(id)?.(seen);
    },
  });

  const routes = definePart({
    name: 'context-routes',
    routes: [
      {
        method: 'GET',
        path: '/ctx/items/:id',
        handler: async () => {
          await new Promise((resolve) => setTimeout(resolve, 1));
          entry().handler = snapshot();
          return json(200, snapshot());
        },
      },
      {
        method: 'GET',
        path: '/ctx/boom',
        handler: () => {
          entry().handler = snapshot();
          throw CoreErrors.CONFLICT({ message: 'conformance conflict' });
        },
      },
      {
        method: 'GET',
        path: '/ctx/health',
        // What a health probe answers when a critical check fails.
        handler: () => ({
          status: 503,
          headers: { 'content-type': 'application/health+json', 'cache-control': 'no-store' },
          body: { status: 'fail', checks: { 'db:responseTime': [{ status: 'fail' }] } },
        }),
      },
    ],
  });

  return {
    parts: [ids, routes],
    seen: (requestId) =>
      new Promise((resolve) => {
        const done = records.get(requestId);
        if (done?.onResponse !== undefined) resolve(done);
        else waiters.set(requestId, resolve);
      }),
  };
}

let sequence = 0;
const nextId = (label: string): string => {
  sequence += 1;
  return `ctx-${label}-${sequence}`;
};

/**
 * Cases for what the observability parts (tracing, request logging, metrics, health) need
 * from an adapter, written with plain parts so that @prod/testing depends on no feature
 * package: `onResponse` and `onError` run inside the request context, fields a hook sets on
 * the context reach every later hook, the handler and the problem body, and a route may answer
 * its own media type with a 503.
 */
export function describeContextCases({ boot, native }: ConformanceContext): void {
  describe('the request context seen by observability parts', () => {
    let server: BootedServer;
    let kit: ReturnType<typeof contextParts>;
    const get = (path: string, headers: Record<string, string> = {}): Promise<Response> =>
      fetch(`${server.url}${path}`, { headers });

    beforeAll(async () => {
      kit = contextParts();
      server = await boot(kit.parts, native);
    });
    afterAll(async () => {
      await server?.close();
    });

    it('runs onResponse inside the request context, with the route template', async () => {
      const id = nextId('on-response');
      const response = await get('/ctx/items/7', { 'x-request-id': id });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      expect((await kit.seen(id)).onResponse).toEqual({
        requestId: id,
        traceId: undefined,
        route: '/ctx/items/:id',
        status: 200,
      });
    });

    it('runs onResponse inside the request context for a 404 too', async () => {
      const id = nextId('on-response-404');
      await (await get('/ctx/nowhere', { 'x-request-id': id })).arrayBuffer();
      const seen = await kit.seen(id);
      expect(seen.onResponse).toMatchObject({ requestId: id, status: 404 });
      expect(seen.onError).toMatchObject({ requestId: id });
    });

    it('keeps what onRequest put on the context for the handler and onResponse', async () => {
      const id = nextId('trace');
      const response = await get('/ctx/items/1', { 'x-request-id': id, [TRACE_HEADER]: TRACE_ID });
      expect(await response.json()).toEqual({ requestId: id, traceId: TRACE_ID });
      const seen = await kit.seen(id);
      expect(seen.handler).toEqual({ requestId: id, traceId: TRACE_ID });
      expect(seen.onResponse).toMatchObject({ requestId: id, traceId: TRACE_ID });
    });

    it('keeps it for onError and puts the trace id in the problem body', async () => {
      const id = nextId('trace-error');
      const response = await get('/ctx/boom', { 'x-request-id': id, [TRACE_HEADER]: TRACE_ID });
      expect(response.status).toBe(409);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await response.json()).toMatchObject({
        code: 'CONFLICT',
        requestId: id,
        traceId: TRACE_ID,
      });
      const seen = await kit.seen(id);
      expect(seen.onError).toEqual({ requestId: id, traceId: TRACE_ID });
      expect(seen.onResponse).toMatchObject({ traceId: TRACE_ID, status: 409 });
    });

    it('sends a 503 with a media type of its own (application/health+json) as given', async () => {
      const response = await get('/ctx/health');
      expect(response.status).toBe(503);
      expect(response.headers.get('content-type')).toBe('application/health+json');
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(await response.json()).toEqual({
        status: 'fail',
        checks: { 'db:responseTime': [{ status: 'fail' }] },
      });
    });
  });
}
