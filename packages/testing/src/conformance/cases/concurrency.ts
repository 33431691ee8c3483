import { describe, expect, it, vi } from 'vitest';
import type { ConformanceContext } from '../types.js';
import { nextId, useSharedServer } from './shared-server.js';

/** Concurrent requests keep their contexts; a stream that fails mid-way cuts only its connection. */
export function describeConcurrencyCases(context: ConformanceContext): void {
  describe('concurrency and failures mid-response', () => {
    const shared = useSharedServer(context);
    const get = shared.get;
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
      const recorded = await shared.kit.finished(id);
      expect(recorded.info?.status).toBe(499);
      errors.mockRestore();
      expect((await get('/items/3')).status).toBe(200);
    });
  });
}
