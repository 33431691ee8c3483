import { describe, expect, it } from 'vitest';
import type { ConformanceContext } from '../types.js';
import { rawRequest } from './raw-request.js';
import { useSharedServer } from './shared-server.js';

/** The request view every hook and handler gets: params, query, headers, method. */
export function describeRequestViewCases(context: ConformanceContext): void {
  describe('request view', () => {
    const shared = useSharedServer(context);
    const get = shared.get;
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
      const response = await rawRequest(`${shared.url}/items/1`, {
        headers: { 'X-Custom': ['one', 'two'] },
      });
      expect(response.status).toBe(200);
      expect(JSON.parse(response.body)).toMatchObject({ custom: 'one, two' });
    });

    it('answers HEAD on a GET route with headers and no body', async () => {
      const response = await fetch(`${shared.url}/items/1`, { method: 'HEAD' });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-request-id')).toBeTruthy();
      expect(await response.text()).toBe('');
    });
  });
}
