import { definePart, type HttpRequest, json, type Part } from '@prod/core';
import { describe, expect, it } from 'vitest';

const request: HttpRequest = {
  method: 'GET',
  path: '/notes/1',
  route: '/notes/:id',
  headers: { 'x-request-id': 'r1' },
  ip: '127.0.0.1',
  query: {},
  params: { id: '1' },
  body: undefined,
  signal: undefined,
  meta: {},
};

describe('json', () => {
  it('builds a JSON response spec', () => {
    expect(json(200, { a: 1 })).toStrictEqual({
      status: 200,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: { a: 1 },
    });
  });

  it('merges extra headers and lets them override the content type', () => {
    const response = json(201, [], { location: '/notes/2', 'content-type': 'application/x+json' });
    expect(response.headers).toStrictEqual({
      'content-type': 'application/x+json',
      location: '/notes/2',
    });
  });
});

describe('definePart', () => {
  it('returns the part unchanged, with routes and hooks callable', async () => {
    const part: Part = definePart({
      name: 'notes',
      routes: [
        { method: 'GET', path: '/notes/:id', handler: (req) => json(200, { id: req.params.id }) },
      ],
      onRequest: (req) => (req.headers['x-block'] ? json(429, {}) : undefined),
      onError: () => undefined,
    });
    expect(part.name).toBe('notes');
    expect(await part.routes?.[0]?.handler(request)).toStrictEqual(json(200, { id: '1' }));
    expect(await part.onRequest?.(request)).toBeUndefined();
    expect(await part.onRequest?.({ ...request, headers: { 'x-block': '1' } })).toMatchObject({
      status: 429,
    });
  });
});
