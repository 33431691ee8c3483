import { currentContext, definePart, json, type Part } from '@prod/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BootedServer } from './types.js';

/**
 * A server running the real observability parts (`tracingPart`, `requestLoggingPart`,
 * `metricsPart`, `healthPart`) behind one adapter, plus the probe parts the suite gives.
 */
export interface ObservedServer extends BootedServer {
  /** The JSON lines the request-logging part has written so far, parsed. */
  logLines(): readonly Record<string, unknown>[];
  /**
   * Makes one critical readiness check fail (`true`) or pass again. The check must not cache
   * its result (`cacheTtl: 0`), so the next probe sees the change.
   */
  setCriticalFailure(failing: boolean): void;
}

/**
 * Boots a server on 127.0.0.1 port 0 with, in this order: `tracingPart()` (with an
 * OpenTelemetry SDK and the W3C propagator registered), `requestLoggingPart()`,
 * `metricsPart()` (with `exemplars: true`), `healthPart()` (default paths), then `parts`.
 */
export type ObservabilityBoot = (parts: Part[]) => Promise<ObservedServer>;

const ROUTE = '/observed/items/:id';
const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const PARENT_SPAN_ID = 'b7ad6b7169203331';
const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;

let sequence = 0;
const nextId = (label: string): string => {
  sequence += 1;
  return `obs-${label}-${sequence}`;
};

const probePart = (): Part =>
  definePart({
    name: 'observed-routes',
    routes: [
      {
        method: 'GET',
        path: ROUTE,
        handler: (request) => {
          const context = currentContext();
          return json(200, {
            id: request.params.id,
            requestId: context?.requestId,
            traceId: context?.traceId,
            spanId: context?.spanId,
          });
        },
      },
    ],
  });

/**
 * The observability conformance suite: the health, metrics, request-logging and tracing parts
 * of @prod, mounted through an adapter, behave as documented: `application/health+json` on the
 * three probes (503 when a critical check fails), the route template (never the path) in
 * metrics, one log line per request with its template and request id, the caller's
 * `traceparent` continued into the context, the log line and the metric exemplar.
 *
 * @prod/testing depends on no feature package, so the caller builds the parts: the example
 * services run it with their composed parts on Express, Fastify and Koa.
 *
 * @example
 * declare function start(parts: Part[]): Promise<{ url: string; close(): Promise<void> }>;
 * declare const lines: Record<string, unknown>[];
 * declare function setCriticalFailure(failing: boolean): void;
 * runObservabilityConformance('express', async (parts) => {
 *   const running = await start(parts);
 *   return { url: running.url, close: running.close, logLines: () => lines, setCriticalFailure };
 * });
 */
export function runObservabilityConformance(name: string, boot: ObservabilityBoot): void {
  describe(`${name}: observability parts conformance`, () => {
    let server: ObservedServer;
    const get = (path: string, headers: Record<string, string> = {}): Promise<Response> =>
      fetch(`${server.url}${path}`, { headers });
    const linesOf = (requestId: string): Record<string, unknown>[] =>
      server.logLines().filter((line) => line.requestId === requestId);
    const requestLine = async (requestId: string): Promise<Record<string, unknown>> => {
      // The line is written by onResponse, after the client has its answer.
      await vi.waitFor(() => expect(linesOf(requestId).length).toBeGreaterThan(0), {
        timeout: 5000,
      });
      const lines = linesOf(requestId).filter((line) => 'status' in line && 'method' in line);
      expect(lines).toHaveLength(1);
      return lines[0] as Record<string, unknown>;
    };

    beforeAll(async () => {
      server = await boot([probePart()]);
    });
    afterAll(async () => {
      server?.setCriticalFailure(false);
      await server?.close();
    });

    describe('health part', () => {
      it.each([['/health/live'], ['/health/ready'], ['/health/startup']])(
        'answers %s with 200 application/health+json, not cached',
        async (path) => {
          const response = await get(path);
          expect(response.status).toBe(200);
          expect(response.headers.get('content-type')).toMatch(/^application\/health\+json/);
          expect(response.headers.get('cache-control')).toBe('no-store');
          expect(response.headers.get('x-request-id')).toBeTruthy();
          const body = (await response.json()) as { status: string };
          expect(['pass', 'warn']).toContain(body.status);
        },
      );

      it('answers readiness 503 while a critical check fails, liveness still 200', async () => {
        server.setCriticalFailure(true);
        try {
          await vi.waitFor(
            async () => {
              const ready = await get('/health/ready');
              expect(ready.status).toBe(503);
              expect(ready.headers.get('content-type')).toMatch(/^application\/health\+json/);
              expect(((await ready.json()) as { status: string }).status).toBe('fail');
            },
            { timeout: 5000, interval: 100 },
          );
          const live = await get('/health/live');
          expect(live.status).toBe(200);
          await live.arrayBuffer();
        } finally {
          server.setCriticalFailure(false);
        }
        await vi.waitFor(async () => expect((await get('/health/ready')).status).toBe(200), {
          timeout: 5000,
          interval: 100,
        });
      });
    });

    describe('metrics part', () => {
      it('records the route template, never the raw path', async () => {
        for (const id of ['41', '42', '43']) await (await get(`/observed/items/${id}`)).json();
        await vi.waitFor(async () => {
          const text = await (await get('/metrics')).text();
          const series = text
            .split('\n')
            .filter((line) => line.startsWith('http_server_request_duration_seconds_count'));
          const observed = series.find((line) => line.includes(`http_route="${ROUTE}"`));
          expect(observed).toBeDefined();
          expect(observed).toContain('http_request_method="GET"');
          expect(observed).toContain('http_response_status_code="200"');
          expect(Number(observed?.split(' ').at(-1))).toBeGreaterThanOrEqual(3);
          expect(text).not.toContain('/observed/items/42');
        });
      });

      it('attaches the trace id of the request as an exemplar (onResponse runs in context)', async () => {
        const traceId = '5bf92f3577b34da6a3ce929d0e0e4736';
        await (
          await get('/observed/items/9', { traceparent: `00-${traceId}-${PARENT_SPAN_ID}-01` })
        ).json();
        await vi.waitFor(async () => {
          const response = await get('/metrics', { accept: 'application/openmetrics-text' });
          expect(response.headers.get('content-type')).toMatch(/^application\/openmetrics-text/);
          expect(await response.text()).toContain(`trace_id="${traceId}"`);
        });
      });
    });

    describe('request-logging part', () => {
      it('writes one line per request with the route template, status and request id', async () => {
        const id = nextId('log');
        const response = await get('/observed/items/5', { 'x-request-id': id });
        expect(response.status).toBe(200);
        await response.arrayBuffer();
        const line = await requestLine(id);
        expect(line).toMatchObject({ requestId: id, method: 'GET', route: ROUTE, status: 200 });
        expect(typeof line.durationMs).toBe('number');
      });

      it('writes one line for an unmatched path, with its status and the path', async () => {
        const id = nextId('log-404');
        await (await get('/observed/nowhere', { 'x-request-id': id })).arrayBuffer();
        const line = await requestLine(id);
        expect(line).toMatchObject({ requestId: id, status: 404, path: '/observed/nowhere' });
        expect(line.route).toBeUndefined();
      });
    });

    describe('tracing part', () => {
      it("continues the caller's traceparent: same trace id, a new span, in the log line", async () => {
        const id = nextId('trace');
        const response = await get('/observed/items/1', {
          'x-request-id': id,
          traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`,
        });
        const body = (await response.json()) as { traceId?: string; spanId?: string };
        expect(body.traceId).toBe(TRACE_ID);
        expect(body.spanId).toMatch(HEX16);
        expect(body.spanId).not.toBe(PARENT_SPAN_ID);
        const line = await requestLine(id);
        expect(line.traceId).toBe(TRACE_ID);
        expect(line.spanId).toBe(body.spanId);
      });

      it('starts a new trace when the caller sends none, or a malformed one', async () => {
        for (const traceparent of [
          undefined,
          '00-xyz-abc-01',
          `00-${'0'.repeat(32)}-${PARENT_SPAN_ID}-01`,
        ]) {
          const response = await get(
            '/observed/items/2',
            traceparent === undefined ? {} : { traceparent },
          );
          const body = (await response.json()) as { traceId?: string };
          expect(body.traceId).toMatch(HEX32);
          expect(body.traceId).not.toBe('0'.repeat(32));
        }
      });
    });
  });
}
