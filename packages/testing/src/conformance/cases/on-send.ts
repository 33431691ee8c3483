import {
  CoreErrors,
  currentContext,
  definePart,
  type HttpRequest,
  type HttpResponse,
  json,
  type Part,
  type SendInfo,
} from '@prod/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BootedServer, ConformanceContext } from '../types.js';
import { nextId, problemOf } from './shared-server.js';

const ORDER = 'x-send-order';
const SEND_MODE = 'x-send-mode';

interface SendSeen {
  readonly requestId: string | undefined;
  readonly native: boolean;
  readonly status: number;
}

function appended(response: HttpResponse, name: string): HttpResponse {
  const before = response.headers?.[ORDER];
  return {
    ...response,
    headers: { ...response.headers, [ORDER]: before ? `${before},${name}` : name },
  };
}

/** Two decorating parts around an early-answer part, and the routes they decorate. */
function sendParts(): { parts: Part[]; seen: Map<string, SendSeen[]> } {
  const seen = new Map<string, SendSeen[]>();
  const record = (request: HttpRequest, response: HttpResponse, info: SendInfo): void => {
    const id = request.headers['x-request-id'] ?? 'none';
    const list = seen.get(id) ?? [];
    list.push({
      requestId: currentContext()?.requestId,
      native: info.native,
      status: response.status,
    });
    seen.set(id, list);
  };
  const outer = definePart({
    name: 'send-outer',
    onSend(_request, response) {
      return appended(response, 'outer');
    },
  });
  const early = definePart({
    name: 'send-early',
    onRequest: (request) =>
      request.headers['x-early'] === '1' ? json(429, { early: true }) : undefined,
  });
  const inner = definePart({
    name: 'send-inner',
    onSend(request, response, info) {
      record(request, response, info);
      const mode = request.headers[SEND_MODE];
      if (mode === 'throw') throw new Error('onSend failed');
      if (mode === 'bad-header')
        return { ...response, headers: { 'x-bad': 'a\r\nset-cookie: evil=1' } };
      if (mode === 'async') return Promise.resolve(json(500, {})) as unknown as HttpResponse;
      if (mode === 'transform' && !info.native) {
        return json(response.status, { transformed: true, original: response.body });
      }
      return appended(response, 'inner');
    },
    routes: [
      { method: 'GET', path: '/send/ok', handler: () => json(200, { ok: true }) },
      { method: 'GET', path: '/send/text', handler: () => ({ status: 200, body: 'plain' }) },
      {
        method: 'GET',
        path: '/send/boom',
        handler: () => {
          throw CoreErrors.CONFLICT({ message: 'send conflict' });
        },
      },
    ],
  });
  return { parts: [outer, early, inner], seen };
}

/**
 * `onSend` decorates every response the adapter answers, in reverse mount order, inside the
 * request context: part routes, early answers, errors, 404, 405, and the headers (only) of
 * the framework's own routes. A hook that throws, returns a promise or spoils the response
 * is reported and skipped.
 */
export function describeOnSendCases({ boot, native }: ConformanceContext): void {
  describe('onSend', () => {
    let server: BootedServer;
    let kit: ReturnType<typeof sendParts>;
    const get = (path: string, headers: Record<string, string> = {}): Promise<Response> =>
      fetch(`${server.url}${path}`, { headers });

    beforeAll(async () => {
      kit = sendParts();
      server = await boot(kit.parts, native);
    });
    afterAll(async () => {
      await server?.close();
    });

    it('decorates a part route answer, in reverse mount order, inside the request context', async () => {
      const id = nextId('send-ok');
      const response = await get('/send/ok', { 'x-request-id': id });
      expect(response.status).toBe(200);
      expect(response.headers.get(ORDER)).toBe('inner,outer');
      expect(response.headers.get('x-request-id')).toBe(id);
      expect(await response.json()).toEqual({ ok: true });
      expect(kit.seen.get(id)).toEqual([{ requestId: id, native: false, status: 200 }]);
    });

    it.each([
      ['an early answer from onRequest', '/send/ok', { 'x-early': '1' }, 429],
      ['a thrown error', '/send/boom', {}, 409],
      ['a 404', '/send/nowhere', {}, 404],
    ])('decorates %s', async (_label, path, headers, status) => {
      const response = await get(path, headers);
      expect(response.status).toBe(status);
      expect(response.headers.get(ORDER)).toBe('inner,outer');
      expect(response.headers.get('x-request-id')).toBeTruthy();
      await response.arrayBuffer();
    });

    it('decorates a 405, keeping Allow', async () => {
      const response = await fetch(`${server.url}/send/ok`, { method: 'DELETE' });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('GET, HEAD');
      expect(response.headers.get(ORDER)).toBe('inner,outer');
      expect(await problemOf(response)).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
    });

    it('may replace the body of a part route answer', async () => {
      const response = await get('/send/ok', { [SEND_MODE]: 'transform' });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(await response.json()).toEqual({ transformed: true, original: { ok: true } });
    });

    it.each(['throw', 'bad-header', 'async'])(
      'reports an onSend that fails (%s) and sends the response as it was before that hook',
      async (mode) => {
        const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
        try {
          const response = await get('/send/text', { [SEND_MODE]: mode });
          expect(response.status).toBe(200);
          expect(await response.text()).toBe('plain');
          expect(response.headers.get(ORDER)).toBe('outer');
          expect(response.headers.get('x-bad')).toBeNull();
          expect(response.headers.get('set-cookie')).toBeNull();
          expect(errors).toHaveBeenCalled();
        } finally {
          errors.mockRestore();
        }
        expect((await get('/send/ok')).status).toBe(200);
      },
    );

    it("decorates the headers of the framework's own route, leaving its body alone", async () => {
      const id = nextId('send-native');
      const response = await get(native.text, { 'x-request-id': id, [SEND_MODE]: 'transform' });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-native')).toBe('yes');
      expect(response.headers.get('x-request-id')).toBe(id);
      expect(await response.text()).toBe('native');
      expect(kit.seen.get(id)).toEqual([{ requestId: id, native: true, status: 200 }]);
      const decorated = await get(native.text);
      expect(decorated.headers.get(ORDER)).toBe('inner,outer');
      await decorated.arrayBuffer();
    });

    it("decorates the problem answer of the framework's own route that throws", async () => {
      const id = nextId('send-native-fail');
      const response = await get(native.fail, { 'x-request-id': id });
      expect(response.status).toBe(409);
      expect(response.headers.get(ORDER)).toBe('inner,outer');
      expect(await problemOf(response)).toMatchObject({ code: 'CONFLICT', requestId: id });
      expect(kit.seen.get(id)).toEqual([{ requestId: id, native: false, status: 409 }]);
    });
  });
}
