import { describe, expect, it, vi } from 'vitest';
import type { ConformanceContext } from '../types.js';
import { FAULTY_PATH, SHORT_CIRCUIT_HEADER } from './conformance-parts.js';
import {
  nextId,
  ON_ERROR,
  ON_REQUEST,
  ON_RESPONSE,
  problemOf,
  useSharedServer,
} from './shared-server.js';

/** The documented hook order: onRequest, handler, onError, onResponse, and early answers. */
export function describeHookOrderCases(context: ConformanceContext): void {
  describe('hook order', () => {
    const shared = useSharedServer(context);
    const get = shared.get;
    it('runs onRequest in mount order, the handler, then onResponse in reverse', async () => {
      const id = nextId('order');
      await (await get('/items/1', { 'x-request-id': id })).arrayBuffer();
      expect((await shared.kit.finished(id)).events).toEqual([
        ...ON_REQUEST,
        'handler',
        ...ON_RESPONSE,
      ]);
    });

    it('on a throw, runs onError in mount order, then onResponse with the error', async () => {
      const id = nextId('order-error');
      const response = await get('/boom/prod', { 'x-request-id': id });
      expect(response.status).toBe(409);
      await response.arrayBuffer();
      const recorded = await shared.kit.finished(id);
      expect(recorded.events).toEqual([...ON_REQUEST, 'handler', ...ON_ERROR, ...ON_RESPONSE]);
      expect(recorded.info?.status).toBe(409);
      expect(recorded.info?.error).toMatchObject({ code: 'CONFLICT' });
    });

    it('stops at the first onError that answers, and sends its response', async () => {
      const id = nextId('recover');
      const response = await get('/boom/recoverable', { 'x-request-id': id });
      expect(response.status).toBe(418);
      expect(await response.json()).toEqual({ recovered: true });
      const recorded = await shared.kit.finished(id);
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
      const recorded = await shared.kit.finished(id);
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
      const recorded = await shared.kit.finished(id);
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
      expect((await shared.kit.finished(id)).events).toEqual([
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
      const recorded = await shared.kit.finished(id);
      expect(recorded.events.slice(-3)).toEqual([
        'second:onResponse',
        'short:onResponse',
        'first:onResponse',
      ]);
      errors.mockRestore();
      expect((await get('/items/2')).status).toBe(200);
    });
  });
}
