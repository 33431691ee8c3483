import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import { bodyProfileOf, currentContext, definePart, json } from '@prod/core';
import { prodKoa } from '@prod/koa';
import { type BootedServer, listen, recordingPart } from '@prod/testing';
import Koa from 'koa';
import { afterEach, describe, expect, it } from 'vitest';

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

describe('prodKoa', () => {
  let server: BootedServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function start(build: (app: Koa) => void): Promise<string> {
    const app = new Koa();
    build(app);
    server = await listen(app.callback());
    return server.url;
  }

  it('takes the body a bodyParser() mounted before it parsed, checked and profiled', async () => {
    const profiled = definePart({
      name: 'profiled',
      routes: [
        {
          method: 'POST',
          path: '/profile',
          handler: (request) =>
            json(200, { body: request.body, plainText: bodyProfileOf(request)?.plainText ?? null }),
        },
      ],
    });
    const url = await start((app) => {
      app.use(bodyParser());
      app.use(prodKoa({ parts: [profiled] }));
    });
    const post = async (body: string) => {
      const response = await fetch(`${url}/profile`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
      });
      return { status: response.status, body: (await response.json()) as unknown };
    };
    expect(await post('{"a":"plain"}')).toEqual({
      status: 200,
      body: { body: { a: 'plain' }, plainText: true },
    });
    expect(await post('{"a":"na\u00efve"}')).toMatchObject({ body: { plainText: false } });
    expect(await post('{"a":{"constructor":{"prototype":{}}}}')).toMatchObject({
      status: 400,
      body: { code: 'FORBIDDEN_KEY' },
    });
  });

  it('runs hooks for native router routes, with their template and the request context', async () => {
    const { part, settled } = recordingPart();
    const url = await start((app) => {
      app.use(prodKoa({ parts: [part, notes] }));
      const router = new Router();
      router.get('/native/:name', (ctx) => {
        ctx.body = { requestId: currentContext()?.requestId, name: ctx.params.name };
      });
      app.use(router.routes());
    });
    const response = await fetch(`${url}/native/ada`, { headers: { 'x-request-id': 'koa-1' } });
    expect(response.headers.get('x-request-id')).toBe('koa-1');
    expect(await response.json()).toEqual({ requestId: 'koa-1', name: 'ada' });
    const [seen] = await settled(1);
    expect(seen).toMatchObject({ route: '/native/:name', info: { status: 200 } });
  });

  it('is the error boundary for native middleware: thrown errors become problem+json', async () => {
    const url = await start((app) => {
      app.use(prodKoa({ parts: [notes] }));
      const router = new Router();
      router.get('/gone', (ctx) => ctx.throw(410, 'This note was deleted'));
      router.get('/crash', () => {
        throw new Error('secret connection string');
      });
      router.post('/native', bodyParser(), (ctx) => {
        ctx.body = ctx.request.body;
      });
      app.use(router.routes());
    });
    const gone = await fetch(`${url}/gone`);
    expect(gone.status).toBe(410);
    expect(await gone.json()).toMatchObject({
      code: 'BAD_REQUEST',
      detail: 'This note was deleted',
    });
    const crash = await fetch(`${url}/crash`);
    expect(crash.status).toBe(500);
    const text = await crash.text();
    expect(text).not.toContain('secret');
    expect(JSON.parse(text)).toMatchObject({ code: 'INTERNAL' });
    const post = (body: string): Promise<Response> =>
      fetch(`${url}/native`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
      });
    const malformed = await post('{"a":');
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ code: 'MALFORMED_JSON' });
    const polluted = await post('{"a":{"__proto__":{"x":1}}}');
    expect(polluted.status).toBe(400);
    expect(await polluted.json()).toMatchObject({
      code: 'FORBIDDEN_KEY',
      details: { path: '/a/__proto__' },
    });
  });

  it('leaves answers of native middleware alone, and lets upstream middleware see its own', async () => {
    const url = await start((app) => {
      app.use(async (ctx, next) => {
        await next();
        ctx.set('x-upstream-saw', String(ctx.status));
      });
      app.use(prodKoa({ parts: [notes] }));
      app.use(async (ctx, next) => {
        if (ctx.path === '/custom-404') {
          ctx.status = 404;
          ctx.body = { mine: true };
          return;
        }
        if (ctx.path === '/raw') {
          ctx.respond = false;
          ctx.res.statusCode = 202;
          ctx.res.end('raw');
          return;
        }
        await next();
      });
    });
    const custom = await fetch(`${url}/custom-404`);
    expect(custom.status).toBe(404);
    expect(await custom.json()).toEqual({ mine: true });
    const raw = await fetch(`${url}/raw`);
    expect(raw.status).toBe(202);
    expect(await raw.text()).toBe('raw');
    const missing = await fetch(`${url}/missing`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-upstream-saw')).toBe('404');
    expect(await missing.json()).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('takes bodyLimit for neutral routes', async () => {
    const url = await start((app) => {
      app.use(prodKoa({ parts: [notes], bodyLimit: 32 }));
    });
    const post = (body: string): Promise<Response> =>
      fetch(`${url}/notes`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
      });
    const small = await post('{"a":1}');
    expect(small.status).toBe(201);
    await small.arrayBuffer();
    const large = await post(JSON.stringify({ a: 'x'.repeat(64) }));
    expect(large.status).toBe(413);
    expect(await large.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });

  it('refuses parts that cannot be mounted', () => {
    const handler = () => json(200, {});
    expect(() =>
      prodKoa({
        parts: [
          { name: 'a', routes: [{ method: 'POST', path: '/x', handler }] },
          { name: 'b', routes: [{ method: 'POST', path: '/x', handler }] },
        ],
      }),
    ).toThrow(/declared twice/);
  });
});
