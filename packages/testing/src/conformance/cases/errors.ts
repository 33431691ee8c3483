import { describe, expect, it } from 'vitest';
import type { ConformanceContext } from '../types.js';
import { nextId, problemOf, STACK_LINE, useSharedServer } from './shared-server.js';

/** Errors as problem+json: thrown and returned ProdErrors, unknown errors, 404, 405. */
export function describeErrorCases(context: ConformanceContext): void {
  describe('errors as problem+json', () => {
    const shared = useSharedServer(context);
    const get = shared.get;
    const send = shared.send;
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
      const recorded = await shared.kit.finished(id);
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
      const response = await fetch(`${shared.url}/items/42`, { method: 'DELETE' });
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
}
