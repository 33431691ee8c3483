import { describe, expect, it } from 'vitest';
import type { ConformanceContext } from '../types.js';
import { createConformanceParts } from './conformance-parts.js';
import { rawRequest } from './raw-request.js';

/** Closing the server lets in-flight requests finish. */
export function describeGracefulCloseCases(context: ConformanceContext): void {
  describe('graceful close', () => {
    it('lets an in-flight request finish, then stops', async () => {
      const own = createConformanceParts();
      const booted = await context.boot(own.parts, context.native);
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
}
