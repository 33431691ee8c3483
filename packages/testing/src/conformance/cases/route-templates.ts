import { describe, expect, it } from 'vitest';
import type { ConformanceContext } from '../types.js';
import { nextId, useSharedServer } from './shared-server.js';

/** Route templates as `onResponse` sees them: what metrics and spans label requests with. */
export function describeRouteTemplateCases(context: ConformanceContext): void {
  describe('route templates in metrics and spans', () => {
    const shared = useSharedServer(context);
    const get = shared.get;
    it('shows onResponse the template /items/:id, not the path, with status and duration', async () => {
      const id = nextId('template');
      const response = await get('/items/42', { 'x-request-id': id });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      const recorded = await shared.kit.finished(id);
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
      const recorded = await shared.kit.finished(id);
      expect(recorded.route).toBeUndefined();
      expect(recorded.info?.status).toBe(404);
    });
  });
}
