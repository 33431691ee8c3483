import { describe, expect, it } from 'vitest';
import type { ConformanceContext } from '../types.js';
import { nextId, UUID, useSharedServer } from './shared-server.js';

/** The request id: generated or kept when safe, echoed, and the one id of the request context in every hook. */
export function describeRequestIdCases(context: ConformanceContext): void {
  describe('request id and context', () => {
    const shared = useSharedServer(context);
    const get = shared.get;
    it('generates a UUID when none is sent, echoes it and runs the handler in its context', async () => {
      const response = await get('/context');
      const id = response.headers.get('x-request-id') ?? '';
      expect(id).toMatch(UUID);
      const body = (await response.json()) as Record<string, unknown>;
      expect(body.requestId).toBe(id);
      expect(body.signal).toBe(true);
      const recorded = await shared.kit.finished(id);
      expect(new Set(recorded.contextIds)).toEqual(new Set([id]));
    });

    it('keeps a safe incoming x-request-id everywhere: response, handler, every hook', async () => {
      const id = 'Req-abc.123:x_y';
      const response = await get('/items/1', { 'x-request-id': id });
      expect(response.headers.get('x-request-id')).toBe(id);
      expect(((await response.json()) as { requestId: string }).requestId).toBe(id);
      const recorded = await shared.kit.finished(id);
      expect(recorded.contextIds.length).toBeGreaterThanOrEqual(9);
      expect(new Set(recorded.contextIds)).toEqual(new Set([id]));
    });

    it.each([
      ['a JSON answer', '/items/1', 'GET', 200],
      ['a text answer', '/text', 'GET', 200],
      ['an empty 204', '/empty', 'GET', 204],
      ['a streamed answer', '/stream', 'GET', 200],
      ['a thrown error', '/boom/prod', 'GET', 409],
      ['an unsendable answer', '/boom/invalid', 'GET', 500],
      ['a 404', '/nowhere/at/all', 'GET', 404],
      ['a 405', '/items/1', 'PATCH', 405],
    ])('echoes the id on %s of the kit', async (_label, path, method, status) => {
      const id = nextId('every-answer');
      const response = await fetch(`${shared.url}${path}`, {
        method,
        headers: { 'x-request-id': id },
      });
      await response.arrayBuffer();
      expect([response.status, response.headers.get('x-request-id')]).toEqual([status, id]);
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
      const recorded = await shared.kit.finished(id);
      expect(recorded.views.size).toBe(1);
    });

    it('sets the route template on the request context once routed', async () => {
      const id = nextId('ctx-route');
      const body = (await (await get('/context', { 'x-request-id': id })).json()) as {
        route: string;
      };
      expect(body.route).toBe('/context');
      expect((await shared.kit.finished(id)).contextRoute).toBe('/context');
    });
  });
}
