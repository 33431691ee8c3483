import { describe, expect, it } from 'vitest';
import type { ConformanceContext } from '../types.js';
import { useSharedServer } from './shared-server.js';

/** How responses from parts are sent: JSON, text, bytes, no body, headers, streams. */
export function describeResponseCases(context: ConformanceContext): void {
  describe('responses from parts', () => {
    const shared = useSharedServer(context);
    const get = shared.get;
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
}
