import type { Part } from '@prod/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { describeAsyncHookCases } from './async-hook-cases.js';
import {
  type ConformanceParts,
  createConformanceParts,
  FAULTY_PATH,
  SHORT_CIRCUIT_HEADER,
} from './conformance-parts.js';
import { describeContextCases } from './context-cases.js';
import { abortableRequest, rawRequest } from './raw-request.js';

/** A server an adapter booted for the conformance suite. */
export interface BootedServer {
  /** Base URL, e.g. `http://127.0.0.1:54321` (no trailing slash). */
  readonly url: string;
  /** Stops accepting connections and resolves once in-flight requests have finished. */
  close(): Promise<void>;
}

/** Boots a framework on 127.0.0.1 port 0 with `parts` mounted by the adapter under test. */
export type AdapterBoot = (parts: Part[]) => Promise<BootedServer>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const STACK_LINE = /\bat\s.+:\d+:\d+/;
const ON_REQUEST = ['first:onRequest', 'short:onRequest', 'second:onRequest', 'third:onRequest'];
const ON_RESPONSE = [
  'third:onResponse',
  'faulty:onResponse',
  'second:onResponse',
  'short:onResponse',
  'first:onResponse',
];
const ON_ERROR = ['first:onError', 'second:onError', 'third:onError'];

let sequence = 0;
function nextId(label: string): string {
  sequence += 1;
  return `conf-${label}-${sequence}`;
}

async function problemOf(response: Response): Promise<Record<string, unknown>> {
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return (await response.json()) as Record<string, unknown>;
}

/**
 * The adapter conformance suite: one set of HTTP-level cases that @prod/express,
 * @prod/fastify and @prod/koa each run, so the three frameworks cannot drift.
 *
 * It covers request id propagation and the request context, route templates seen by
 * `onResponse` (what metrics and tracing read), the documented hook order, early answers,
 * headers and bodies from parts (JSON, text, bytes, streams), problem+json for thrown and
 * returned ProdErrors, unknown errors, 404, 405, malformed, oversized, non-JSON and
 * prototype-polluting bodies, client disconnects, a throwing `onResponse`, and graceful
 * close. Every part added later adds its cases here.
 *
 * @example
 * runAdapterConformance('express', async (parts) => {
 *   const app = express();
 *   mountExpress(app, { parts });
 *   const server = app.listen(0, '127.0.0.1');
 *   await once(server, 'listening');
 *   const { port } = server.address() as AddressInfo;
 *   return { url: `http://127.0.0.1:${port}`, close: () => promisify(server.close.bind(server))() };
 * });
 */
export function runAdapterConformance(name: string, boot: AdapterBoot): void {
  describe(`${name}: adapter conformance`, () => {
    let server: BootedServer;
    let kit: ConformanceParts;
    const get = (path: string, headers: Record<string, string> = {}): Promise<Response> =>
      fetch(`${server.url}${path}`, { headers });
    const send = (
      method: string,
      path: string,
      body: string | Uint8Array,
      contentType?: string,
    ): Promise<Response> =>
      fetch(`${server.url}${path}`, {
        method,
        body,
        headers: contentType === undefined ? {} : { 'content-type': contentType },
      });

    beforeAll(async () => {
      kit = createConformanceParts();
      server = await boot(kit.parts);
    });
    afterAll(async () => {
      await server?.close();
    });

    describe('request id and context', () => {
      it('generates a UUID when none is sent, echoes it and runs the handler in its context', async () => {
        const response = await get('/context');
        const id = response.headers.get('x-request-id') ?? '';
        expect(id).toMatch(UUID);
        const body = (await response.json()) as Record<string, unknown>;
        expect(body.requestId).toBe(id);
        expect(body.signal).toBe(true);
        const recorded = await kit.finished(id);
        expect(new Set(recorded.contextIds)).toEqual(new Set([id]));
      });

      it('keeps a safe incoming x-request-id everywhere: response, handler, every hook', async () => {
        const id = 'Req-abc.123:x_y';
        const response = await get('/items/1', { 'x-request-id': id });
        expect(response.headers.get('x-request-id')).toBe(id);
        expect(((await response.json()) as { requestId: string }).requestId).toBe(id);
        const recorded = await kit.finished(id);
        expect(recorded.contextIds.length).toBeGreaterThanOrEqual(9);
        expect(new Set(recorded.contextIds)).toEqual(new Set([id]));
      });

      it.each([
        ['with a space', 'has space'],
        ['too long', 'a'.repeat(129)],
        ['with markup', '<script>'],
        ['with a quote', 'x"y'],
      ])('replaces an unsafe incoming id (%s) with a fresh UUID', async (_label, unsafe) => {
        const response = await get('/context', { 'x-request-id': unsafe });
        const id = response.headers.get('x-request-id') ?? '';
        expect(id).toMatch(UUID);
        expect(((await response.json()) as { requestId: string }).requestId).toBe(id);
      });

      it('passes the same request object to every hook and the handler', async () => {
        const id = nextId('identity');
        await (await get('/items/9', { 'x-request-id': id })).json();
        const recorded = await kit.finished(id);
        expect(recorded.views.size).toBe(1);
      });

      it('sets the route template on the request context once routed', async () => {
        const id = nextId('ctx-route');
        const body = (await (await get('/context', { 'x-request-id': id })).json()) as {
          route: string;
        };
        expect(body.route).toBe('/context');
        expect((await kit.finished(id)).contextRoute).toBe('/context');
      });
    });

    describe('request view', () => {
      it('gives params, path, method, query (repeated keys as arrays) and the route template', async () => {
        const response = await get('/items/42?tag=a&tag=b&q=x%20y');
        expect(response.status).toBe(200);
        expect(await response.json()).toMatchObject({
          id: '42',
          route: '/items/:id',
          path: '/items/42',
          method: 'GET',
          query: { tag: ['a', 'b'], q: 'x y' },
        });
      });

      it('joins repeated request headers with ", " under lower-case names', async () => {
        const response = await rawRequest(`${server.url}/items/1`, {
          headers: { 'X-Custom': ['one', 'two'] },
        });
        expect(response.status).toBe(200);
        expect(JSON.parse(response.body)).toMatchObject({ custom: 'one, two' });
      });

      it('answers HEAD on a GET route with headers and no body', async () => {
        const response = await fetch(`${server.url}/items/1`, { method: 'HEAD' });
        expect(response.status).toBe(200);
        expect(response.headers.get('x-request-id')).toBeTruthy();
        expect(await response.text()).toBe('');
      });
    });

    describe('route templates in metrics and spans', () => {
      it('shows onResponse the template /items/:id, not the path, with status and duration', async () => {
        const id = nextId('template');
        const response = await get('/items/42', { 'x-request-id': id });
        expect(response.status).toBe(200);
        await response.arrayBuffer();
        const recorded = await kit.finished(id);
        expect(recorded.route).toBe('/items/:id');
        expect(recorded.contextRoute).toBe('/items/:id');
        expect(recorded.info?.status).toBe(200);
        expect(Number.isFinite(recorded.info?.durationMs)).toBe(true);
        expect(recorded.info?.durationMs).toBeGreaterThanOrEqual(0);
        expect(recorded.info && 'error' in recorded.info).toBe(false);
      });

      it('shows no template for an unmatched path', async () => {
        const id = nextId('no-template');
        await (await get('/nowhere/42', { 'x-request-id': id })).arrayBuffer();
        const recorded = await kit.finished(id);
        expect(recorded.route).toBeUndefined();
        expect(recorded.info?.status).toBe(404);
      });
    });

    describe('hook order', () => {
      it('runs onRequest in mount order, the handler, then onResponse in reverse', async () => {
        const id = nextId('order');
        await (await get('/items/1', { 'x-request-id': id })).arrayBuffer();
        expect((await kit.finished(id)).events).toEqual([...ON_REQUEST, 'handler', ...ON_RESPONSE]);
      });

      it('on a throw, runs onError in mount order, then onResponse with the error', async () => {
        const id = nextId('order-error');
        const response = await get('/boom/prod', { 'x-request-id': id });
        expect(response.status).toBe(409);
        await response.arrayBuffer();
        const recorded = await kit.finished(id);
        expect(recorded.events).toEqual([...ON_REQUEST, 'handler', ...ON_ERROR, ...ON_RESPONSE]);
        expect(recorded.info?.status).toBe(409);
        expect(recorded.info?.error).toMatchObject({ code: 'CONFLICT' });
      });

      it('stops at the first onError that answers, and sends its response', async () => {
        const id = nextId('recover');
        const response = await get('/boom/recoverable', { 'x-request-id': id });
        expect(response.status).toBe(418);
        expect(await response.json()).toEqual({ recovered: true });
        const recorded = await kit.finished(id);
        expect(recorded.events).toEqual([
          ...ON_REQUEST,
          'handler',
          'first:onError',
          'second:onError',
          ...ON_RESPONSE,
        ]);
      });

      it('lets an onRequest answer early: later onRequest and the handler are skipped', async () => {
        const id = nextId('short');
        const response = await get('/items/1', { 'x-request-id': id, [SHORT_CIRCUIT_HEADER]: '1' });
        expect(response.status).toBe(429);
        expect(response.headers.get('retry-after')).toBe('7');
        expect(response.headers.get('x-short-circuit')).toBe('yes');
        expect(response.headers.get('x-request-id')).toBe(id);
        expect(response.headers.get('content-type')).toMatch(/^application\/json/);
        expect(await response.json()).toEqual({ limited: true });
        const recorded = await kit.finished(id);
        expect(recorded.events).toEqual(['first:onRequest', 'short:onRequest', ...ON_RESPONSE]);
        expect(recorded.info?.status).toBe(429);
      });

      it('treats a throwing onRequest as a failed request: onError, problem+json, onResponse', async () => {
        const id = nextId('throwing-hook');
        const response = await get('/items/1', {
          'x-request-id': id,
          [SHORT_CIRCUIT_HEADER]: 'throw',
        });
        expect(response.status).toBe(401);
        expect(await problemOf(response)).toMatchObject({ code: 'UNAUTHORIZED', requestId: id });
        const recorded = await kit.finished(id);
        expect(recorded.events).toEqual([
          'first:onRequest',
          'short:onRequest',
          ...ON_ERROR,
          ...ON_RESPONSE,
        ]);
        expect(recorded.info?.error).toMatchObject({ code: 'UNAUTHORIZED' });
      });

      it('runs onRequest and onResponse for 404s too', async () => {
        const id = nextId('order-404');
        await (await get('/nowhere', { 'x-request-id': id })).arrayBuffer();
        expect((await kit.finished(id)).events).toEqual([
          ...ON_REQUEST,
          ...ON_ERROR,
          ...ON_RESPONSE,
        ]);
      });

      it('survives an onResponse that throws: later hooks run and the server keeps serving', async () => {
        const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
        const id = nextId('faulty');
        const response = await get(FAULTY_PATH, { 'x-request-id': id });
        expect(await response.text()).toBe('ok');
        const recorded = await kit.finished(id);
        expect(recorded.events.slice(-3)).toEqual([
          'second:onResponse',
          'short:onResponse',
          'first:onResponse',
        ]);
        errors.mockRestore();
        expect((await get('/items/2')).status).toBe(200);
      });
    });

    describe('responses from parts', () => {
      it('sends a plain object as JSON', async () => {
        const response = await get('/items/5');
        expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
        expect(await response.json()).toMatchObject({ id: '5' });
      });

      it('sends a string as text/plain', async () => {
        const response = await get('/text');
        expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
        expect(await response.text()).toBe('plain text');
      });

      it('sends bytes as they are', async () => {
        const response = await get('/bytes');
        expect(response.headers.get('content-type')).toBe('application/octet-stream');
        expect([...new Uint8Array(await response.arrayBuffer())]).toEqual([0, 1, 2, 255]);
      });

      it('sends no body when there is none', async () => {
        const response = await get('/empty');
        expect(response.status).toBe(204);
        expect(await response.text()).toBe('');
      });

      it('sets headers from parts as given, including repeated set-cookie and content-type', async () => {
        const response = await get('/headers');
        expect(response.headers.get('content-type')).toBe('application/vnd.conformance+json');
        expect(response.headers.get('x-part-header')).toBe('from-part');
        expect(response.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
        expect(await response.json()).toEqual({ ok: true });
      });

      it('streams a Readable untouched, without buffering it into a content-length', async () => {
        const response = await get('/stream');
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
        expect(response.headers.get('content-length')).toBeNull();
        expect(await response.text()).toBe('first line\nsecond line\n');
      });

      it('streams an async iterable of bytes', async () => {
        const response = await get('/stream/generator');
        expect([...new Uint8Array(await response.arrayBuffer())]).toEqual([1, 2, 3]);
      });
    });

    describe('concurrency and failures mid-response', () => {
      it('keeps concurrent requests in their own contexts', async () => {
        const ids = Array.from({ length: 20 }, (_, index) => nextId(`concurrent-${index}`));
        const bodies = await Promise.all(
          ids.map(async (id) => {
            const response = await get('/context', { 'x-request-id': id });
            return (await response.json()) as { requestId: string };
          }),
        );
        expect(bodies.map((body) => body.requestId)).toEqual(ids);
      });

      it('cuts the connection when a stream fails mid-way, and keeps serving', async () => {
        const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
        const id = nextId('broken-stream');
        const outcome = await get('/stream/broken', { 'x-request-id': id }).then(
          async (response) =>
            response.text().then(
              (text) => `complete: ${text}`,
              () => 'cut',
            ),
          () => 'cut',
        );
        expect(outcome).toBe('cut');
        const recorded = await kit.finished(id);
        expect(recorded.info?.status).toBe(499);
        errors.mockRestore();
        expect((await get('/items/3')).status).toBe(200);
      });
    });

    describe('errors as problem+json', () => {
      it('answers a thrown ProdError with its status, code, detail and request id', async () => {
        const id = nextId('prod-error');
        const response = await get('/boom/prod', { 'x-request-id': id });
        expect(response.status).toBe(409);
        const problem = await problemOf(response);
        expect(problem).toMatchObject({
          status: 409,
          code: 'CONFLICT',
          detail: 'Item 7 already exists',
          details: { id: 7 },
          requestId: id,
        });
      });

      it('answers a returned ProdError the same way', async () => {
        const response = await get('/boom/returned');
        expect(response.status).toBe(403);
        expect(await problemOf(response)).toMatchObject({ code: 'FORBIDDEN', detail: 'Not yours' });
      });

      it('answers an unknown error with 500 INTERNAL, leaking no message or stack', async () => {
        const id = nextId('plain-error');
        const response = await get('/boom/plain', { 'x-request-id': id });
        expect(response.status).toBe(500);
        const text = await response.text();
        expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(JSON.parse(text)).toMatchObject({ status: 500, code: 'INTERNAL', requestId: id });
        expect(text).not.toContain('hunter2');
        expect(text).not.toMatch(STACK_LINE);
        expect(text).not.toContain('stack');
        const recorded = await kit.finished(id);
        expect((recorded.info?.error as Error | undefined)?.message).toContain('hunter2');
      });

      it('answers a handler that returns no valid response with 500 INTERNAL', async () => {
        const response = await get('/boom/invalid');
        expect(response.status).toBe(500);
        expect(await problemOf(response)).toMatchObject({ code: 'INTERNAL' });
      });

      it('answers a response with a header that would split the response with 500 INTERNAL', async () => {
        const response = await get('/boom/header');
        expect(response.status).toBe(500);
        expect(response.headers.get('x-bad')).toBeNull();
        expect(response.headers.get('set-cookie')).toBeNull();
        expect(await problemOf(response)).toMatchObject({ code: 'INTERNAL' });
      });

      it('answers an unmatched path with 404 NOT_FOUND', async () => {
        const id = nextId('404');
        const response = await get('/does/not/exist', { 'x-request-id': id });
        expect(response.status).toBe(404);
        expect(response.headers.get('x-request-id')).toBe(id);
        expect(await problemOf(response)).toMatchObject({
          status: 404,
          code: 'NOT_FOUND',
          requestId: id,
        });
      });

      it('answers another method on a part route path with 405 and Allow', async () => {
        const response = await fetch(`${server.url}/items/42`, { method: 'DELETE' });
        expect(response.status).toBe(405);
        const allow = (response.headers.get('allow') ?? '').split(/,\s*/).sort();
        expect(allow).toEqual(['GET', 'HEAD', 'PUT']);
        expect(await problemOf(response)).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
        const post = await send('POST', '/text', '{}', 'application/json');
        expect(post.status).toBe(405);
        expect(post.headers.get('allow')).toBe('GET, HEAD');
        await post.arrayBuffer();
      });
    });

    describe('request bodies', () => {
      it('parses a JSON body for a neutral route', async () => {
        const response = await send(
          'POST',
          '/items',
          '{"title":"x","tags":[1,2]}',
          'application/json',
        );
        expect(response.status).toBe(201);
        expect(await response.json()).toEqual({ received: { title: 'x', tags: [1, 2] } });
      });

      it('accepts application/*+json media types and charset parameters', async () => {
        const patch = await send('PUT', '/items/3', '{"a":1}', 'application/merge-patch+json');
        expect(await patch.json()).toEqual({ id: '3', received: { a: 1 } });
        const withCharset = await send('POST', '/items', '[1]', 'application/json; charset=utf-8');
        expect(await withCharset.json()).toEqual({ received: [1] });
      });

      it('gives undefined as the body of a request without one', async () => {
        const response = await fetch(`${server.url}/items`, { method: 'POST' });
        expect(await response.json()).toEqual({ received: null });
      });

      it('answers malformed JSON with 400 MALFORMED_JSON', async () => {
        const response = await send('POST', '/items', '{"title": ', 'application/json');
        expect(response.status).toBe(400);
        expect(await problemOf(response)).toMatchObject({ code: 'MALFORMED_JSON' });
      });

      it.each([
        ['__proto__ at the top', '{"__proto__":{"polluted":true}}', '/__proto__'],
        ['__proto__ nested in an array', '{"list":[{"__proto__":{"x":1}}]}', '/list/0/__proto__'],
        [
          'constructor.prototype',
          '{"a":{"constructor":{"prototype":{"x":1}}}}',
          '/a/constructor/prototype',
        ],
      ])(
        'rejects a body with %s as 400 FORBIDDEN_KEY with its path',
        async (_label, body, path) => {
          const response = await send('POST', '/items', body, 'application/json');
          expect(response.status).toBe(400);
          expect(await problemOf(response)).toMatchObject({
            code: 'FORBIDDEN_KEY',
            details: { path },
          });
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        },
      );

      it('rejects a body nested too deep to scan as 400 FORBIDDEN_KEY', async () => {
        const deep = `${'['.repeat(200)}${']'.repeat(200)}`;
        const response = await send('POST', '/items', deep, 'application/json');
        expect(response.status).toBe(400);
        expect(await problemOf(response)).toMatchObject({ code: 'FORBIDDEN_KEY' });
      });

      it('answers a non-JSON body with 415 UNSUPPORTED_MEDIA_TYPE', async () => {
        for (const contentType of [
          'text/plain',
          'application/x-www-form-urlencoded',
          'application/jsonp',
        ]) {
          const response = await send('POST', '/items', 'a=1', contentType);
          expect(response.status, contentType).toBe(415);
          expect(await problemOf(response)).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
        }
        const untyped = await send('POST', '/items', new TextEncoder().encode('{}'));
        expect(untyped.status).toBe(415);
        await untyped.arrayBuffer();
      });

      it('answers a body over the default 1mb limit with 413 PAYLOAD_TOO_LARGE', async () => {
        const big = JSON.stringify({ blob: 'x'.repeat(1024 * 1024 + 10) });
        const response = await send('POST', '/items', big, 'application/json');
        expect(response.status).toBe(413);
        expect(await problemOf(response)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
      });
    });

    describe('client disconnects', () => {
      it('aborts request.signal and reports status 499 to onResponse', async () => {
        const id = nextId('hang');
        const cut = abortableRequest(`${server.url}/hang`, { 'x-request-id': id });
        await kit.hanging(id);
        cut();
        expect(await kit.hangSettled(id)).toBe(true);
        const recorded = await kit.finished(id);
        expect(recorded.info?.status).toBe(499);
      });
    });

    describeContextCases(boot);
    describeAsyncHookCases(boot);

    describe('graceful close', () => {
      it('lets an in-flight request finish, then stops', async () => {
        const own = createConformanceParts();
        const booted = await boot(own.parts);
        const slow = rawRequest(`${booted.url}/slow`);
        await own.slow.entered;
        let closed = false;
        const closing = booted.close().then(() => {
          closed = true;
        });
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(closed).toBe(false);
        own.slow.release();
        const response = await slow;
        expect(response.status).toBe(200);
        expect(response.body).toBe('slow done');
        await closing;
        expect(closed).toBe(true);
        await expect(rawRequest(`${booted.url}/items/1`)).rejects.toThrow();
      });
    });
  });
}
