import { request } from 'node:http';
import { currentContext, definePart, json, type Part } from '@prod/core';
import { prodFastify } from '@prod/fastify';
import { recordingPart } from '@prod/testing';
import Fastify, { type FastifyInstance } from 'fastify';
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

describe('prodFastify', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start(
    parts: Part[],
    native: (instance: FastifyInstance) => void,
    options: { bodyLimit?: number | string } = {},
  ): Promise<string> {
    app = Fastify({ bodyLimit: 64 });
    await app.register(prodFastify, { parts, ...options });
    native(app);
    return app.listen({ port: 0, host: '127.0.0.1' });
  }

  it('runs hooks for native routes in sibling plugins, with their route template', async () => {
    const { part, settled } = recordingPart();
    const url = await start([part, notes], (instance) => {
      instance.register(async (child) => {
        child.get('/native/:name', async (request) => ({
          requestId: currentContext()?.requestId,
          name: (request.params as { name: string }).name,
        }));
      });
    });
    const response = await fetch(`${url}/native/ada`, { headers: { 'x-request-id': 'fy-1' } });
    expect(response.headers.get('x-request-id')).toBe('fy-1');
    expect(await response.json()).toEqual({ requestId: 'fy-1', name: 'ada' });
    const [seen] = await settled(1);
    expect(seen).toMatchObject({ route: '/native/:name', info: { status: 200 } });
  });

  it('keeps the request context in native handlers after Fastify parsed the body', async () => {
    const url = await start([notes], (instance) => {
      instance.post('/native', async (request) => ({
        requestId: currentContext()?.requestId,
        body: request.body,
      }));
    });
    const response = await fetch(`${url}/native`, {
      method: 'POST',
      body: '{"a":1}',
      headers: { 'content-type': 'application/json', 'x-request-id': 'fy-body' },
    });
    expect(await response.json()).toEqual({ requestId: 'fy-body', body: { a: 1 } });
  });

  it('keeps the request context when the body arrives in chunks over time', async () => {
    const url = await start([notes], (instance) => {
      instance.post('/native', async () => ({ requestId: currentContext()?.requestId }));
    });
    const result = await new Promise<string>((resolve, reject) => {
      const req = request(`${url}/native`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'fy-chunks' },
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.write('{"a":');
      setTimeout(() => req.end('1}'), 30);
    });
    expect(JSON.parse(result)).toEqual({ requestId: 'fy-chunks' });
  });

  it("maps Fastify's own errors on native routes to CoreErrors", async () => {
    const url = await start([notes], (instance) => {
      instance.post('/native', async (request) => request.body);
      instance.post(
        '/validated',
        { schema: { body: { type: 'object', required: ['title'] } } },
        async (request) => request.body,
      );
      instance.get('/crash', async () => {
        throw new Error('secret connection string');
      });
    });
    const post = (path: string, body: string, type = 'application/json'): Promise<Response> =>
      fetch(`${url}${path}`, { method: 'POST', body, headers: { 'content-type': type } });
    const malformed = await post('/native', '{"a":');
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ code: 'MALFORMED_JSON' });
    const large = await post('/native', JSON.stringify({ a: 'x'.repeat(100) }));
    expect(large.status).toBe(413);
    expect(await large.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    const media = await post('/native', '<a/>', 'application/xml');
    expect(media.status).toBe(415);
    expect(await media.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    const invalid = await post('/validated', '{}');
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({
      code: 'BAD_REQUEST',
      detail: expect.stringContaining('title'),
    });
    const crash = await fetch(`${url}/crash`);
    expect(crash.status).toBe(500);
    const text = await crash.text();
    expect(text).not.toContain('secret');
    expect(JSON.parse(text)).toMatchObject({ code: 'INTERNAL' });
  });

  it('keeps the JSON-only parser inside the neutral routes: native routes still take text', async () => {
    const url = await start([notes], (instance) => {
      instance.post('/echo', async (request) => ({ got: request.body }));
    });
    const text = await fetch(`${url}/echo`, {
      method: 'POST',
      body: 'hello',
      headers: { 'content-type': 'text/plain' },
    });
    expect(await text.json()).toEqual({ got: 'hello' });
    const neutral = await fetch(`${url}/notes`, {
      method: 'POST',
      body: 'hello',
      headers: { 'content-type': 'text/plain' },
    });
    expect(neutral.status).toBe(415);
    await neutral.arrayBuffer();
  });

  it('takes bodyLimit for neutral routes, independent of the server limit', async () => {
    const url = await start([notes], () => {}, { bodyLimit: '1kb' });
    const body = JSON.stringify({ a: 'x'.repeat(200) });
    const ok = await fetch(`${url}/notes`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
    });
    expect(ok.status).toBe(201);
    await ok.arrayBuffer();
    const tooLarge = await fetch(`${url}/notes`, {
      method: 'POST',
      body: JSON.stringify({ a: 'x'.repeat(2_000) }),
      headers: { 'content-type': 'application/json' },
    });
    expect(tooLarge.status).toBe(413);
    await tooLarge.arrayBuffer();
  });

  it('refuses a bodyLimit that is not a size, and parts that cannot be mounted', async () => {
    const bad = Fastify();
    await expect(bad.register(prodFastify, { parts: [], bodyLimit: 'lots' })).rejects.toMatchObject(
      {
        code: 'FASTIFY_INVALID_OPTIONS',
        message: expect.stringMatching(/bodyLimit/),
      },
    );
    const twice = Fastify();
    const handler = () => json(200, {});
    await expect(
      twice.register(prodFastify, {
        parts: [
          {
            name: 'a',
            routes: [
              { method: 'GET', path: '/x', handler },
              { method: 'GET', path: '/x', handler },
            ],
          },
        ],
      }),
    ).rejects.toMatchObject({
      code: 'FASTIFY_INVALID_OPTIONS',
      message: expect.stringMatching(/declared twice/),
    });
  });
});
