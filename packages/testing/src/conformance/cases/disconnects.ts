import { describe, expect, it } from 'vitest';
import type { ConformanceContext } from '../types.js';
import { abortableRequest } from './raw-request.js';
import { nextId, useSharedServer } from './shared-server.js';

/** A client that goes away: the abort signal and status 499. */
export function describeDisconnectCases(context: ConformanceContext): void {
  describe('client disconnects', () => {
    const shared = useSharedServer(context);
    it('aborts request.signal and reports status 499 to onResponse', async () => {
      const id = nextId('hang');
      const cut = abortableRequest(`${shared.url}/hang`, { 'x-request-id': id });
      await shared.kit.hanging(id);
      cut();
      expect(await shared.kit.hangSettled(id)).toBe(true);
      const recorded = await shared.kit.finished(id);
      expect(recorded.info?.status).toBe(499);
    });
  });
}
