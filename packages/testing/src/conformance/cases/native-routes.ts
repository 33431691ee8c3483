import { describe, expect, it } from 'vitest';
import type { ConformanceContext } from '../types.js';
import {
  nextId,
  ON_ERROR,
  ON_REQUEST,
  ON_RESPONSE,
  problemOf,
  useSharedServer,
} from './shared-server.js';

/**
 * The application's own framework routes: they run in the request context, through every
 * part's `onRequest` and `onResponse`, and their errors become problem+json through `onError`.
 */
export function describeNativeRouteCases(context: ConformanceContext): void {
  describe("the framework's own routes", () => {
    const shared = useSharedServer(context);

    it('run through onRequest and onResponse, with the request id echoed', async () => {
      const id = nextId('native');
      const response = await shared.get(context.native.text, { 'x-request-id': id });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-request-id')).toBe(id);
      expect(response.headers.get('x-native')).toBe('yes');
      expect(await response.text()).toBe('native');
      const recorded = await shared.kit.finished(id);
      expect(recorded.events).toEqual([...ON_REQUEST, ...ON_RESPONSE]);
      expect(recorded.info?.status).toBe(200);
      expect(new Set(recorded.contextIds)).toEqual(new Set([id]));
    });

    it('answer a thrown error with problem+json through onError', async () => {
      const id = nextId('native-fail');
      const response = await shared.get(context.native.fail, { 'x-request-id': id });
      expect(response.status).toBe(409);
      expect(await problemOf(response)).toMatchObject({ code: 'CONFLICT', requestId: id });
      const recorded = await shared.kit.finished(id);
      expect(recorded.events).toEqual([...ON_REQUEST, ...ON_ERROR, ...ON_RESPONSE]);
      expect(recorded.info?.error).toMatchObject({ code: 'CONFLICT' });
    });
  });
}
