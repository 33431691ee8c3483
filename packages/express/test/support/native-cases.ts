import { CoreErrors, currentContext, definePart, json, type Part } from '@prod/core';
import { mountExpress, prodExpress } from '@prod/express';
import { type BootedServer, listen, recordingPart } from '@prod/testing';
import express from 'express';
import { afterEach, describe, expect, it, vi } from 'vitest';

const notes = definePart({
  name: 'notes',
  routes: [
    {
      method: 'GET',
      path: '/notes/:id',
      handler: (request) => json(200, { route: request.route }),
    },
    { method: 'POST', path: '/notes', handler: (request) => json(201, request.body) },
  ],
});

export function describeNativeRoutes(label: string): void {
  describe(`${label}: prodExpress with native routes`, () => {
    let server: BootedServer | undefined;
    afterEach(async () => {
      await server?.close();
      server = undefined;
    });

    async function start(
      parts: Part[],
      native: (app: express.Express) => void,
      mount = '/',
    ): Promise<string> {
      const app = express();
      const prod = prodExpress({ parts });
      app.use(mount, prod.handler);
      native(app);
      app.use(prod.finalHandler);
      server = await listen(app);
      return server.url;
    }

    it('runs onRequest for native routes and shows onResponse their template', async () => {
      const { part, settled } = recordingPart();
      const url = await start([part, notes], (app) => {
        app.get('/native/:name', (req, res) => {
          res.json({ requestId: currentContext()?.requestId, name: req.params.name });
        });
      });
      const response = await fetch(`${url}/native/ada`, {
        headers: { 'x-request-id': 'native-1' },
      });
      expect(response.headers.get('x-request-id')).toBe('native-1');
      expect(await response.json()).toEqual({ requestId: 'native-1', name: 'ada' });
      const [seen] = await settled(1);
      expect(seen).toMatchObject({
        requestId: 'native-1',
        path: '/native/ada',
        route: '/native/:name',
        info: { status: 200 },
      });
    });

    it('keeps the request context in native handlers after express.json()', async () => {
      const url = await start([notes], (app) => {
        app.post('/native', express.json(), (req, res) => {
          res.json({ requestId: currentContext()?.requestId, body: req.body });
        });
      });
      const response = await fetch(`${url}/native`, {
        method: 'POST',
        body: '{"a":1}',
        headers: { 'content-type': 'application/json', 'x-request-id': 'ctx-after-body' },
      });
      expect(await response.json()).toEqual({ requestId: 'ctx-after-body', body: { a: 1 } });
    });

    it('turns native errors into problem+json: unknown -> 500, http-style 4xx keeps status', async () => {
      const url = await start([notes], (app) => {
        app.get('/crash', () => {
          throw new Error('secret connection string');
        });
        app.get('/gone', (_req, _res, next) => {
          next(Object.assign(new Error('This note was deleted'), { status: 410 }));
        });
        app.get('/limited', (_req, _res, next) => {
          next(CoreErrors.RATE_LIMITED({ retryAfterMs: 2_000 }));
        });
      });
      const crash = await fetch(`${url}/crash`);
      expect(crash.status).toBe(500);
      const crashText = await crash.text();
      expect(crashText).not.toContain('secret');
      expect(JSON.parse(crashText)).toMatchObject({ code: 'INTERNAL' });
      const gone = await fetch(`${url}/gone`);
      expect(gone.status).toBe(410);
      expect(await gone.json()).toMatchObject({
        code: 'BAD_REQUEST',
        detail: 'This note was deleted',
      });
      const limited = await fetch(`${url}/limited`);
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('2');
      await limited.arrayBuffer();
    });

    it('maps errors from a native express.json() to CoreErrors', async () => {
      const url = await start([notes], (app) => {
        app.post('/native', express.json({ limit: 16 }), (req, res) => res.json(req.body));
      });
      const post = (body: string): Promise<Response> =>
        fetch(`${url}/native`, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json' },
        });
      const malformed = await post('{"a":');
      expect(malformed.status).toBe(400);
      expect(await malformed.json()).toMatchObject({ code: 'MALFORMED_JSON' });
      const large = await post(JSON.stringify({ a: 'x'.repeat(100) }));
      expect(large.status).toBe(413);
      expect(await large.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
      const charset = await fetch(`${url}/native`, {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json; charset=klingon' },
      });
      expect(charset.status).toBe(415);
      expect(await charset.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    });

    it('prefixes the route template with the mount path', async () => {
      const url = await start([notes], () => {}, '/api');
      const response = await fetch(`${url}/api/notes/1`);
      expect(await response.json()).toEqual({ route: '/api/notes/:id' });
      expect((await fetch(`${url}/notes/1`)).status).toBe(404);
    });

    it('takes bodyLimit for neutral routes', async () => {
      const app = express();
      mountExpress(app, { parts: [notes], bodyLimit: 32 });
      server = await listen(app);
      const small = await fetch(`${server.url}/notes`, {
        method: 'POST',
        body: '{"a":1}',
        headers: { 'content-type': 'application/json' },
      });
      expect(small.status).toBe(201);
      await small.arrayBuffer();
      const large = await fetch(`${server.url}/notes`, {
        method: 'POST',
        body: JSON.stringify({ a: 'x'.repeat(64) }),
        headers: { 'content-type': 'application/json' },
      });
      expect(large.status).toBe(413);
      await large.arrayBuffer();
    });

    it('reports a throwing onResponse or onError to onHookError and still answers', async () => {
      const onHookError = vi.fn();
      const broken = definePart({
        name: 'broken',
        onError() {
          throw new Error('onError broke');
        },
        onResponse() {
          throw new Error('onResponse broke');
        },
      });
      const app = express();
      mountExpress(app, { parts: [broken, notes], onHookError });
      server = await listen(app);
      const response = await fetch(`${server.url}/missing`);
      expect(response.status).toBe(404);
      await response.arrayBuffer();
      await vi.waitFor(() => expect(onHookError).toHaveBeenCalledTimes(2));
      expect(
        onHookError.mock.calls.map(([error, part]) => [(error as Error).message, part.name]),
      ).toEqual([
        ['onError broke', 'broken'],
        ['onResponse broke', 'broken'],
      ]);
    });
  });
}
