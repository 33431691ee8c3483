// The HTTP caching part on the three frameworks, through the @prod adapters, over real HTTP.
import { type Cache, createCache, httpCacheMeta, httpCachePart } from '@prod/cache';
import { CoreErrors, definePart, json, type Part } from '@prod/core';
import { mountExpress } from '@prod/express';
import { fastifyServerOptions, prodFastify } from '@prod/fastify';
import { prodKoa } from '@prod/koa';
import { listen } from '@prod/testing';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface Booted {
  readonly url: string;
  close(): Promise<void>;
}

type Boot = (parts: readonly Part[]) => Promise<Booted>;

const frameworks: [string, Boot][] = [
  [
    'Express 5',
    async (parts) => {
      const app = express();
      mountExpress(app, { parts });
      return listen(app);
    },
  ],
  [
    'Fastify 5',
    async (parts) => {
      const app = Fastify({ ...fastifyServerOptions() });
      await app.register(prodFastify, { parts });
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      return { url, close: () => app.close() };
    },
  ],
  [
    'Koa 3',
    async (parts) => {
      const app = new Koa();
      app.use(prodKoa({ parts }));
      return listen(app.callback());
    },
  ],
];

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A small notes API whose GET is cached server-side, invalidated by PATCH. */
function notesApi(cache: Cache): { part: Part; reads: () => number } {
  const notes = new Map([['1', { id: '1', title: 'Hello' }]]);
  let reads = 0;
  const part = definePart({
    name: 'notes',
    routes: [
      {
        method: 'GET',
        path: '/v1/notes/:id',
        meta: httpCacheMeta({
          maxAge: 0,
          noCache: true,
          staleWhileRevalidate: 30,
          vary: ['accept-language'],
          serverCache: { ttl: 60_000, tags: (request) => [`note:${request.params.id}`] },
        }),
        handler: (request) => {
          reads += 1;
          const note = notes.get(request.params.id ?? '');
          if (note === undefined) throw CoreErrors.NOT_FOUND({ message: 'No such note' });
          return json(200, note);
        },
      },
      {
        method: 'PATCH',
        path: '/v1/notes/:id',
        handler: async (request) => {
          const id = request.params.id ?? '';
          const title = (request.body as { title?: string } | undefined)?.title ?? '';
          notes.set(id, { id, title });
          await cache.invalidateTags([`note:${id}`]);
          return json(200, notes.get(id));
        },
      },
      {
        method: 'GET',
        path: '/v1/session',
        meta: httpCacheMeta({ serverCache: { ttl: 60_000 } }),
        handler: () => {
          reads += 1;
          return {
            status: 200,
            headers: { 'set-cookie': 'session=s1; HttpOnly' },
            body: { ok: true },
          };
        },
      },
      { method: 'GET', path: '/v1/plain', handler: () => json(200, { plain: true }) },
    ],
  });
  return { part, reads: () => reads };
}

describe.each(frameworks)('httpCachePart on %s', (_name, boot) => {
  let server: Booted;
  let api: ReturnType<typeof notesApi>;
  let cache: Cache;

  beforeAll(async () => {
    cache = createCache({ namespace: 'http' });
    api = notesApi(cache);
    server = await boot([httpCachePart({ cache }), api.part]);
  });
  afterAll(async () => {
    await server?.close();
    await cache?.close();
  });

  it('sends a strong ETag and the route Cache-Control and Vary, then 304 with no body', async () => {
    const first = await fetch(`${server.url}/v1/notes/1`);
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(first.headers.get('cache-control')).toBe(
      'no-cache, max-age=0, stale-while-revalidate=30',
    );
    expect(first.headers.get('vary')?.toLowerCase()).toContain('accept-language');
    expect(await first.json()).toEqual({ id: '1', title: 'Hello' });

    const again = await fetch(`${server.url}/v1/notes/1`, {
      headers: { 'if-none-match': etag as string },
    });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect(again.headers.get('etag')).toBe(etag);
    expect(again.headers.get('cache-control')).toBe(
      'no-cache, max-age=0, stale-while-revalidate=30',
    );
  });

  it('answers repeated GETs from the server cache without running the handler', async () => {
    await fetch(`${server.url}/v1/notes/1`); // stored (or already stored)
    await sleep(10);
    const before = api.reads();
    const hit = await fetch(`${server.url}/v1/notes/1`);
    expect(hit.headers.get('cache-status')).toBe('prod-cache; hit');
    expect(Number(hit.headers.get('age'))).toBeGreaterThanOrEqual(0);
    expect(await hit.json()).toEqual({ id: '1', title: 'Hello' });
    expect(api.reads()).toBe(before);
    // Another Accept-Language is another entry.
    const french = await fetch(`${server.url}/v1/notes/1`, {
      headers: { 'accept-language': 'fr' },
    });
    expect(french.headers.get('cache-status')).toBe('prod-cache; fwd=miss; stored');
    expect(api.reads()).toBe(before + 1);
  });

  it('drops the cached response when the note is updated (invalidation by tag)', async () => {
    const old = (await fetch(`${server.url}/v1/notes/1`)).headers.get('etag') as string;
    const patched = await fetch(`${server.url}/v1/notes/1`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Changed' }),
    });
    expect(patched.status).toBe(200);
    const fresh = await fetch(`${server.url}/v1/notes/1`, { headers: { 'if-none-match': old } });
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get('etag')).not.toBe(old);
    expect(await fresh.json()).toEqual({ id: '1', title: 'Changed' });
  });

  it('bypasses the server cache for a request with Authorization', async () => {
    const before = api.reads();
    const response = await fetch(`${server.url}/v1/notes/1`, {
      headers: { authorization: 'Bearer x' },
    });
    expect(response.headers.get('cache-status')).toBe('prod-cache; fwd=bypass');
    expect(api.reads()).toBe(before + 1);
  });

  it('never stores a response that sets a cookie', async () => {
    const before = api.reads();
    const first = await fetch(`${server.url}/v1/session`);
    expect(first.headers.get('set-cookie')).toContain('session=s1');
    expect(first.headers.get('cache-status')).toBe('prod-cache; fwd=miss');
    await fetch(`${server.url}/v1/session`);
    expect(api.reads()).toBe(before + 2);
  });

  it('gives a 404 of a cached route no-store, and ETags routes without a policy', async () => {
    const missing = await fetch(`${server.url}/v1/notes/404`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('cache-control')).toBe('no-store');
    const plain = await fetch(`${server.url}/v1/plain`);
    const etag = plain.headers.get('etag') as string;
    expect(etag).toMatch(/^"/);
    const again = await fetch(`${server.url}/v1/plain`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });

  it('answers HEAD with the same ETag and no body', async () => {
    const get = await fetch(`${server.url}/v1/plain`);
    const head = await fetch(`${server.url}/v1/plain`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('etag')).toBe(get.headers.get('etag'));
    expect(await head.text()).toBe('');
  });
});
