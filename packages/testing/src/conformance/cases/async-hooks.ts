import { CoreErrors, currentContext, definePart, json, type Part } from '@prod/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { BootedServer, ConformanceContext } from '../types.js';

/** Sync and async onRequest hooks side by side, an async handler, and a sync one. */
function asyncParts(): { parts: Part[]; calls: string[] } {
  const calls: string[] = [];
  const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1));
  const note = (what: string): void => {
    calls.push(`${what} ${currentContext()?.requestId ?? 'no-context'}`);
  };
  const parts: Part[] = [
    definePart({
      name: 'sync-first',
      onRequest() {
        note('sync-first');
        return undefined;
      },
      onResponse() {
        note('onResponse');
      },
    }),
    definePart({
      name: 'async-gate',
      async onRequest(request) {
        await tick();
        note('async-gate');
        const gate = request.headers['x-gate'];
        if (gate === 'answer') return json(429, { gated: true });
        if (gate === 'reject') throw CoreErrors.UNAUTHORIZED({ message: 'gate says no' });
        return undefined;
      },
    }),
    definePart({
      name: 'sync-last',
      onRequest() {
        note('sync-last');
        return undefined;
      },
      routes: [
        {
          method: 'GET',
          path: '/later',
          handler: async () => {
            await tick();
            note('handler');
            return json(200, { requestId: currentContext()?.requestId });
          },
        },
        {
          method: 'GET',
          path: '/now',
          handler: () => json(200, { requestId: currentContext()?.requestId }),
        },
      ],
    }),
  ];
  return { parts, calls };
}

async function settledCalls(calls: string[], id: string): Promise<string[]> {
  for (let i = 0; i < 200 && !calls.includes(`onResponse ${id}`); i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return calls.filter((call) => call.endsWith(` ${id}`)).map((call) => call.split(' ')[0] ?? '');
}

/**
 * Conformance cases for asynchronous hooks: the adapters take a synchronous fast path when
 * every hook and handler answers at once, so mixing sync and async ones must keep the order,
 * the request context and early answers exactly as documented.
 */
export function describeAsyncHookCases({ boot, native }: ConformanceContext): void {
  describe('asynchronous hooks', () => {
    let server: BootedServer | undefined;
    afterEach(async () => {
      await server?.close();
      server = undefined;
    });

    it('awaits an async onRequest between sync ones, then an async handler, in the request context', async () => {
      const { parts, calls } = asyncParts();
      server = await boot(parts, native);
      const response = await fetch(`${server.url}/later`, { headers: { 'x-request-id': 'a-1' } });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ requestId: 'a-1' });
      expect(await settledCalls(calls, 'a-1')).toEqual([
        'sync-first',
        'async-gate',
        'sync-last',
        'handler',
        'onResponse',
      ]);
    });

    it('answers early from an async onRequest, and skips the later hooks and the handler', async () => {
      const { parts, calls } = asyncParts();
      server = await boot(parts, native);
      const response = await fetch(`${server.url}/now`, {
        headers: { 'x-request-id': 'a-2', 'x-gate': 'answer' },
      });
      expect(response.status).toBe(429);
      expect(response.headers.get('x-request-id')).toBe('a-2');
      expect(await response.json()).toEqual({ gated: true });
      expect(await settledCalls(calls, 'a-2')).toEqual(['sync-first', 'async-gate', 'onResponse']);
    });

    it('turns a rejected async onRequest into problem+json', async () => {
      const { parts, calls } = asyncParts();
      server = await boot(parts, native);
      const response = await fetch(`${server.url}/now`, {
        headers: { 'x-request-id': 'a-3', 'x-gate': 'reject' },
      });
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(await response.json()).toMatchObject({ code: 'UNAUTHORIZED', requestId: 'a-3' });
      expect(await settledCalls(calls, 'a-3')).toEqual(['sync-first', 'async-gate', 'onResponse']);
    });

    it('serves a synchronous handler after an async onRequest', async () => {
      const { parts } = asyncParts();
      server = await boot(parts, native);
      const response = await fetch(`${server.url}/now`, { headers: { 'x-request-id': 'a-4' } });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ requestId: 'a-4' });
    });
  });
}
