// Validation over real HTTP on Express 5, Fastify 5 and Koa 3, mounted with the three @prod
// adapters: the same cases on each (the conformance suite's validation cases).
import type { Part } from '@prod/core';
import { prodExpress } from '@prod/express';
import { fastifyServerOptions, prodFastify } from '@prod/fastify';
import { prodKoa } from '@prod/koa';
import { listen } from '@prod/testing';
import { apiPart, apiVersions, defineRoute } from '@prod/validation';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { leakInternalFields, routes, versions } from './fixtures/notes-api.js';

interface Booted {
  readonly url: string;
  close(): Promise<void>;
}
type Boot = (parts: Part[]) => Promise<Booted>;

const boots: Record<string, Boot> = {
  'Express 5': async (parts) => {
    const app = express();
    const prod = prodExpress({ parts });
    app.use(prod.handler);
    app.use(prod.finalHandler);
    return listen(app);
  },
  'Fastify 5': async (parts) => {
    const app = Fastify({ ...fastifyServerOptions() });
    await app.register(prodFastify, { parts });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    return { url, close: () => app.close() };
  },
  'Koa 3': async (parts) => {
    const app = new Koa();
    app.use(prodKoa({ parts }));
    return listen(app.callback());
  },
};

const openapi = {
  info: { title: 'Notes', version: '1.0.0' },
  securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } as const,
};

const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

// The default sanitization and tight limits, with no field steps: the route where the
// adapter's body profile lets a plain body skip the walk.
const echo = defineRoute({
  method: 'POST',
  path: '/echo',
  sanitize: { limits: { maxDepth: 4, maxItems: 3 } },
  request: { body: z.looseObject({}) },
  responses: { 200: z.looseObject({}) },
  handler: ({ body }) => ({ status: 200, body }),
});

for (const [framework, boot] of Object.entries(boots)) {
  describe(`validation on ${framework}`, () => {
    const reports = vi.fn();
    let strict: Booted;
    let strip: Booted;
    let dated: Booted;
    let byPath: Booted;
    let echoed: Booted;
    beforeAll(async () => {
      echoed = await boot([apiPart({ routes: [echo] })]);
      strict = await boot([
        apiPart({ routes, responseValidation: 'strict', onInvalidResponse: reports, openapi }),
      ]);
      strip = await boot([apiPart({ routes, responseValidation: 'strip', openapi })]);
      dated = await boot([apiPart({ routes, versions, openapi })]);
      byPath = await boot([
        apiPart({
          routes,
          versions: apiVersions({
            versions: ['v1', 'v2'],
            from: 'path',
            changes: versions.changes.map((c) => ({ ...c, version: 'v2' })),
          }),
          openapi,
        }),
      ]);
    });
    afterAll(async () => {
      for (const server of [strict, strip, dated, byPath, echoed]) await server?.close();
    });

    it('a valid body is sanitized, parsed and answered with its declared status and headers', async () => {
      const response = await fetch(
        `${strict.url}/notes`,
        json({ title: '  <b>Hello</b>\u200b ', tags: ['a'] }),
      );
      expect(response.status).toBe(201);
      const note = (await response.json()) as { id: string; title: string; body: string };
      expect(note).toMatchObject({ title: 'Hello', body: '', tags: ['a'] });
      expect(response.headers.get('location')).toBe(`/notes/${note.id}`);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    });

    it('400 problem+json lists every failing field of every part, { path, code, message }', async () => {
      const response = await fetch(`${strict.url}/notes?limit=0&offset=x`, { method: 'GET' });
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const problem = (await response.json()) as {
        code: string;
        errors: { path: string; code: string; message: string }[];
      };
      expect(problem.code).toBe('VALIDATION_INVALID_INPUT');
      expect(problem.errors.map((e) => e.path)).toEqual(['/query/limit', '/query/offset']);
      const body = await fetch(`${strict.url}/notes`, json({ title: '', tags: 'x', body: 5 }));
      const bodyProblem = (await body.json()) as { errors: { path: string }[] };
      expect(bodyProblem.errors.map((e) => e.path).sort()).toEqual([
        '/body/body',
        '/body/tags',
        '/body/title',
      ]);
    });

    it('a huge invalid body is answered briefly, without echoing it', async () => {
      const title = 'A'.repeat(1200);
      const response = await fetch(
        `${strict.url}/notes`,
        json({ title, tags: Array.from({ length: 12 }, () => 'x'.repeat(30)) }),
      );
      expect(response.status).toBe(400);
      const text = await response.text();
      expect(text).not.toContain('AAAAAAAAAA');
      expect(text.length).toBeLessThan(2000);
      expect(
        (JSON.parse(text) as { errors: { path: string }[] }).errors.map((e) => e.path),
      ).toContain('/body/title');
    });

    it('coerces query strings: numbers, booleans, repeated keys as arrays', async () => {
      await fetch(`${strict.url}/notes`, json({ title: 'tagged', tags: ['x', 'y'] }));
      const response = await fetch(`${strict.url}/notes?limit=5&tag=x&tag=y&archived=false`);
      expect(response.status).toBe(200);
      const page = (await response.json()) as { items: { tags: string[] }[]; limit: number };
      expect(page.limit).toBe(5);
      expect(page.items.length).toBeGreaterThan(0);
      for (const item of page.items) expect(item.tags).toEqual(expect.arrayContaining(['x', 'y']));
      const single = await fetch(`${strict.url}/notes?tag=x`);
      expect(single.status).toBe(200);
    });

    it('the per-route body limit is stricter than the adapter\u2019s: 413 before the handler', async () => {
      const response = await fetch(
        `${strict.url}/notes`,
        json({ title: 'x', body: 'y'.repeat(4000) }),
      );
      expect(response.status).toBe(413);
      expect(((await response.json()) as { code: string }).code).toBe('PAYLOAD_TOO_LARGE');
    });

    it('content types: a non-JSON body is 415', async () => {
      const response = await fetch(`${strict.url}/notes`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: 'title=x',
      });
      expect(response.status).toBe(415);
    });

    it('prototype keys are refused with 400 and pollute nothing', async () => {
      for (const body of [
        '{"title":"x","__proto__":{"polluted":1}}',
        '{"title":"x","constructor":{"prototype":{"polluted":1}}}',
        '{"title":"x","tags":[],"prototype":1}',
      ]) {
        const response = await fetch(`${strict.url}/notes`, json(body));
        expect(response.status, body).toBe(400);
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('a body the adapter found plain is answered as sent; any other is still sanitized and held to the limits', async () => {
      const post = async (text: string) => {
        const response = await fetch(`${echoed.url}/echo`, json(text));
        return {
          status: response.status,
          body: (await response.json()) as Record<string, unknown>,
        };
      };
      const plain = { name: 'Ada', note: 'tab\there "quoted" \\ slash', list: [1, 'two'] };
      expect(await post(JSON.stringify(plain))).toEqual({ status: 200, body: plain });
      // Escapes that make a control or invisible character, raw UTF-8 ones, decomposed text.
      expect(await post('{"a":"be\\u0007ll","b":"zero\\u200bwidth","c":"del\u007fete"}')).toEqual({
        status: 200,
        body: { a: 'bell', b: 'zerowidth', c: 'delete' },
      });
      expect(await post(JSON.stringify({ a: 'in\u200bvisible', b: 'Zoe\u0308' }))).toEqual({
        status: 200,
        body: { a: 'invisible', b: 'Zo\u00eb' },
      });
      for (const refused of [
        '{"a":{"b":{"c":{"d":{}}}}}',
        '{"list":[1,2,3,4]}',
        '{"constructor":{"name":"x"}}',
        '{"a":{"prototype":1}}',
      ]) {
        const answer = await post(refused);
        expect(answer.status, refused).toBe(400);
        expect(answer.body.code, refused).toBe('VALIDATION_UNSAFE_INPUT');
      }
    });

    it('strict: a response with an internal field is a bare 500, logged, never sent', async () => {
      reports.mockClear();
      leakInternalFields(true);
      try {
        const response = await fetch(`${strict.url}/notes`, json({ title: 'leaky' }));
        expect(response.status).toBe(500);
        const text = await response.text();
        expect(text).not.toContain('ownerPasswordHash');
        expect(text).not.toContain('leaky');
        expect(JSON.parse(text)).toMatchObject({
          code: 'VALIDATION_RESPONSE_INVALID',
          status: 500,
        });
        expect(reports).toHaveBeenCalledOnce();
        expect(reports.mock.calls[0]?.[0].errors[0].path).toBe('/body/ownerPasswordHash');
        const stripped = await fetch(`${strip.url}/notes`, json({ title: 'leaky' }));
        expect(stripped.status).toBe(201);
        expect(await stripped.json()).not.toHaveProperty('ownerPasswordHash');
      } finally {
        leakInternalFields(false);
      }
    });

    it('date versions: an old client\u2019s request and response are walked through the changes', async () => {
      const response = await fetch(
        `${dated.url}/notes`,
        json({ name: 'From 2024' }, { 'api-version': '2024-01-01' }),
      );
      expect(response.status).toBe(201);
      const note = (await response.json()) as Record<string, unknown>;
      expect(note.name).toBe('From 2024');
      expect(note).not.toHaveProperty('title');
      expect(response.headers.get('api-version')).toBe('2024-01-01');
      expect(response.headers.get('deprecation')).toBe(
        `@${Date.parse('2025-06-01T00:00:00Z') / 1000}`,
      );
      expect(response.headers.get('sunset')).toBe('Tue, 01 Jan 2030 00:00:00 GMT');
      expect(response.headers.get('link')).toBe(
        '<https://docs.example.com/versions>; rel="deprecation"; type="text/html"',
      );
      expect(response.headers.get('vary')).toMatch(/api-version/i);
      // Any later date picks the latest version on or before it.
      const later = await fetch(`${dated.url}/notes/${note.id}`, {
        headers: { 'api-version': '2024-12-31' },
      });
      expect(later.headers.get('api-version')).toBe('2024-01-01');
      expect(await later.json()).toMatchObject({ name: 'From 2024' });
      const latest = await fetch(`${dated.url}/notes/${note.id}`);
      expect(latest.headers.get('api-version')).toBe('2025-06-01');
      expect(latest.headers.get('deprecation')).toBeNull();
      expect(await latest.json()).toMatchObject({ title: 'From 2024' });
    });

    it('an old client\u2019s bad request is refused in its own version\u2019s terms', async () => {
      const response = await fetch(
        `${dated.url}/notes`,
        json({ name: '', extra: 1 }, { 'api-version': '2024-01-01' }),
      );
      expect(response.status).toBe(400);
      const problem = (await response.json()) as { errors: { path: string }[] };
      expect(problem.errors.map((e) => e.path)).toEqual(['/body/name']);
      const latest = await fetch(`${dated.url}/notes`, json({ name: 'x' }));
      expect(
        ((await latest.json()) as { errors: { path: string }[] }).errors.map((e) => e.path),
      ).toEqual(['/body/title']);
    });

    it('an unknown version is 400 VALIDATION_UNSUPPORTED_VERSION before the body is read', async () => {
      const response = await fetch(
        `${dated.url}/notes`,
        json({ title: 'x' }, { 'api-version': '1999-01-01' }),
      );
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({
        code: 'VALIDATION_UNSUPPORTED_VERSION',
        details: { supported: ['2024-01-01', '2025-06-01'] },
      });
    });

    it('URL versions serve every route under /<version>, each with its document', async () => {
      const old = await fetch(`${byPath.url}/v1/notes`, json({ name: 'v1 note' }));
      expect(old.status).toBe(201);
      expect(await old.json()).toMatchObject({ name: 'v1 note' });
      expect(old.headers.get('api-version')).toBe('v1');
      const current = await fetch(`${byPath.url}/v2/notes?limit=1`);
      expect(current.status).toBe(200);
      const doc = (await (await fetch(`${byPath.url}/v1/openapi.json`)).json()) as {
        paths: object;
        info: { version: string };
      };
      expect(doc.info.version).toBe('v1');
      expect(Object.keys(doc.paths)).toContain('/v1/notes/{id}');
    });

    it('a deprecated route sends Deprecation, Sunset and Link on every answer', async () => {
      const response = await fetch(`${strict.url}/export`);
      expect(response.status).toBe(200);
      expect(response.headers.get('deprecation')).toBe(
        `@${Date.parse('2025-01-01T00:00:00Z') / 1000}`,
      );
      expect(response.headers.get('sunset')).toBe('Thu, 01 Jan 2026 00:00:00 GMT');
      expect(response.headers.get('link')).toContain('rel="deprecation"');
    });

    it('serves /openapi.json and an offline /docs page, per version', async () => {
      const doc = await fetch(`${dated.url}/openapi.json`);
      expect(doc.status).toBe(200);
      expect(
        ((await doc.json()) as { openapi: string; info: { version: string } }).info.version,
      ).toBe('2025-06-01');
      const old = (await (await fetch(`${dated.url}/openapi.json?version=2024-01-01`)).json()) as {
        info: { version: string };
      };
      expect(old.info.version).toBe('2024-01-01');
      expect((await fetch(`${dated.url}/openapi.json?version=nope`)).status).toBe(400);
      const page = await fetch(`${dated.url}/docs`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
      const html = await page.text();
      expect(html).toContain('Create a note');
      expect(html).not.toMatch(/<script|<link /);
    });
  });
}
