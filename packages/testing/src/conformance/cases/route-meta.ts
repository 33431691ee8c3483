import {
  CoreErrors,
  currentContext,
  definePart,
  defineRouteMeta,
  type HttpRequest,
  json,
  type Part,
} from '@prod/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BootedServer, ConformanceContext } from '../types.js';
import { nextId, problemOf } from './shared-server.js';

/** A route's required scope, as an authentication part would declare it. */
const scopeMeta = defineRouteMeta<{ readonly scope: string }>('@prod/testing/conformance-scope');

type Hook = 'onRequest' | 'handler' | 'onError' | 'onSend' | 'onResponse';

function metaParts(): {
  parts: Part[];
  seen(requestId: string): Promise<Partial<Record<Hook, string | null>>>;
} {
  const records = new Map<string, Partial<Record<Hook, string | null>>>();
  const waiters = new Map<string, () => void>();
  const note = (hook: Hook, request: HttpRequest): void => {
    const id = currentContext()?.requestId ?? 'missing-context';
    const entry = records.get(id) ?? {};
    entry[hook] = scopeMeta.read(request)?.scope ?? null;
    records.set(id, entry);
    if (hook === 'onResponse') waiters.get(id)?.();
  };
  const guard = definePart({
    name: 'scope-guard',
    onRequest(request) {
      note('onRequest', request);
      const needed = scopeMeta.read(request);
      if (needed !== undefined && request.headers['x-scope'] !== needed.scope) {
        return json(403, { missing: needed.scope });
      }
      return undefined;
    },
    onError(_error, request) {
      note('onError', request);
      return undefined;
    },
    onSend(request) {
      note('onSend', request);
      return undefined;
    },
    onResponse(request) {
      note('onResponse', request);
    },
  });
  const routes = definePart({
    name: 'meta-routes',
    routes: [
      {
        method: 'GET',
        path: '/meta/guarded/:id',
        meta: scopeMeta({ scope: 'notes:read' }),
        handler: (request) => {
          note('handler', request);
          return json(200, { id: request.params.id, scope: scopeMeta.read(request)?.scope });
        },
      },
      {
        method: 'GET',
        path: '/meta/plain',
        handler: (request) => {
          note('handler', request);
          return json(200, { keys: Object.getOwnPropertySymbols(request.meta).length });
        },
      },
      {
        method: 'GET',
        path: '/meta/boom',
        meta: scopeMeta({ scope: 'notes:boom' }),
        handler: (request) => {
          note('handler', request);
          throw CoreErrors.CONFLICT({ message: 'meta conflict' });
        },
      },
    ],
  });
  return {
    parts: [guard, routes],
    seen: (requestId) =>
      new Promise((resolve) => {
        const ready = (): void => resolve(records.get(requestId) ?? {});
        if (records.get(requestId)?.onResponse !== undefined) ready();
        else waiters.set(requestId, ready);
      }),
  };
}

/**
 * Route metadata: the matched part route's `meta` reaches every hook of the request
 * (`onRequest` included, before the handler) and the handler; no other request sees it.
 */
export function describeRouteMetaCases({ boot, native }: ConformanceContext): void {
  describe('route metadata', () => {
    let server: BootedServer;
    let kit: ReturnType<typeof metaParts>;
    const get = (path: string, headers: Record<string, string> = {}): Promise<Response> =>
      fetch(`${server.url}${path}`, { headers });

    beforeAll(async () => {
      kit = metaParts();
      server = await boot(kit.parts, native);
    });
    afterAll(async () => {
      await server?.close();
    });

    it('shows the matched route its metadata in onRequest, the handler, onSend and onResponse', async () => {
      const id = nextId('meta');
      const response = await get('/meta/guarded/7', {
        'x-request-id': id,
        'x-scope': 'notes:read',
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ id: '7', scope: 'notes:read' });
      expect(await kit.seen(id)).toEqual({
        onRequest: 'notes:read',
        handler: 'notes:read',
        onSend: 'notes:read',
        onResponse: 'notes:read',
      });
    });

    it('lets an onRequest act on the metadata: answers early when the scope is missing', async () => {
      const id = nextId('meta-denied');
      const response = await get('/meta/guarded/7', { 'x-request-id': id });
      expect(response.status).toBe(403);
      expect(await response.json()).toEqual({ missing: 'notes:read' });
      const seen = await kit.seen(id);
      expect(seen.onRequest).toBe('notes:read');
      expect(seen.handler).toBeUndefined();
    });

    it('shows the metadata to onError for a route that throws', async () => {
      const id = nextId('meta-error');
      const response = await get('/meta/boom', { 'x-request-id': id, 'x-scope': 'notes:boom' });
      expect(response.status).toBe(409);
      await problemOf(response);
      expect(await kit.seen(id)).toMatchObject({ onError: 'notes:boom', onSend: 'notes:boom' });
    });

    it('shows empty metadata for a route without any, a 404 and a 405', async () => {
      const plainId = nextId('meta-plain');
      const plain = await get('/meta/plain', { 'x-request-id': plainId });
      expect(await plain.json()).toEqual({ keys: 0 });
      expect((await kit.seen(plainId)).onRequest).toBeNull();
      const missingId = nextId('meta-404');
      await (await get('/meta/nowhere', { 'x-request-id': missingId })).arrayBuffer();
      expect(await kit.seen(missingId)).toMatchObject({ onRequest: null, onResponse: null });
      const otherId = nextId('meta-405');
      const other = await fetch(`${server.url}/meta/guarded/7`, {
        method: 'POST',
        headers: { 'x-request-id': otherId },
      });
      expect(other.status).toBe(405);
      await other.arrayBuffer();
      expect((await kit.seen(otherId)).onRequest).toBeNull();
    });
  });
}
