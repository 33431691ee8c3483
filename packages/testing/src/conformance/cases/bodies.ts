import { describe, expect, it } from 'vitest';
import type { ConformanceContext } from '../types.js';
import { rawRequest } from './raw-request.js';
import { problemOf, useSharedServer } from './shared-server.js';

/** Request bodies of part routes: JSON, media types, malformed, prototype keys, size. */
export function describeBodyCases(context: ConformanceContext): void {
  describe('request bodies', () => {
    const shared = useSharedServer(context);
    const send = shared.send;
    it('parses a JSON body for a neutral route', async () => {
      const response = await send(
        'POST',
        '/items',
        '{"title":"x","tags":[1,2]}',
        'application/json',
      );
      expect(response.status).toBe(201);
      expect(await response.json()).toEqual({ received: { title: 'x', tags: [1, 2] } });
    });

    it('accepts application/*+json media types and charset parameters', async () => {
      const patch = await send('PUT', '/items/3', '{"a":1}', 'application/merge-patch+json');
      expect(await patch.json()).toEqual({ id: '3', received: { a: 1 } });
      const withCharset = await send('POST', '/items', '[1]', 'application/json; charset=utf-8');
      expect(await withCharset.json()).toEqual({ received: [1] });
    });

    it('reads a JSON body sent with a GET the same way (some frameworks skip their parser)', async () => {
      const response = await rawRequest(`${shared.url}/search`, {
        headers: { 'content-type': 'application/json', 'content-length': '9' },
        body: '{"q":"x"}',
      });
      expect(response.status).toBe(200);
      expect(JSON.parse(response.body)).toEqual({ received: { q: 'x' } });
    });

    it('records what its check learned of a JSON body, for later passes to skip work', async () => {
      const profileOf = async (body: string) => {
        const response = await send('POST', '/profile', body, 'application/json');
        return ((await response.json()) as { profile: Record<string, unknown> | null }).profile;
      };
      expect(await profileOf('{"a":[1,"two",{"b":"tab\\t \\"q\\""}],"constructor":{}}')).toEqual({
        plainText: true,
        depth: 3,
        keys: 3,
        longestArray: 3,
        longestString: 8,
        reservedKeys: true,
      });
      // Text that is not plain: raw UTF-8, an escaped letter, an escaped control, DEL.
      for (const body of ['{"a":"caf\u00e9"}', '{"a":"\\u0041"}', '{"a":"x\\b"}', '["\u007f"]']) {
        expect((await profileOf(body))?.plainText, body).toBe(false);
      }
    });

    it('gives undefined as the body of a request without one', async () => {
      const response = await fetch(`${shared.url}/items`, { method: 'POST' });
      expect(await response.json()).toEqual({ received: null });
    });

    it('answers malformed JSON with 400 MALFORMED_JSON', async () => {
      const response = await send('POST', '/items', '{"title": ', 'application/json');
      expect(response.status).toBe(400);
      expect(await problemOf(response)).toMatchObject({ code: 'MALFORMED_JSON' });
    });

    it.each([
      ['__proto__ at the top', '{"__proto__":{"polluted":true}}', '/__proto__'],
      ['__proto__ nested in an array', '{"list":[{"__proto__":{"x":1}}]}', '/list/0/__proto__'],
      [
        'constructor.prototype',
        '{"a":{"constructor":{"prototype":{"x":1}}}}',
        '/a/constructor/prototype',
      ],
    ])('rejects a body with %s as 400 FORBIDDEN_KEY with its path', async (_label, body, path) => {
      const response = await send('POST', '/items', body, 'application/json');
      expect(response.status).toBe(400);
      expect(await problemOf(response)).toMatchObject({
        code: 'FORBIDDEN_KEY',
        details: { path },
      });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('rejects a body nested too deep to scan as 400 FORBIDDEN_KEY', async () => {
      const deep = `${'['.repeat(200)}${']'.repeat(200)}`;
      const response = await send('POST', '/items', deep, 'application/json');
      expect(response.status).toBe(400);
      expect(await problemOf(response)).toMatchObject({ code: 'FORBIDDEN_KEY' });
    });

    it('answers a non-JSON body with 415 UNSUPPORTED_MEDIA_TYPE', async () => {
      for (const contentType of [
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/jsonp',
      ]) {
        const response = await send('POST', '/items', 'a=1', contentType);
        expect(response.status, contentType).toBe(415);
        expect(await problemOf(response)).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
      }
      const untyped = await send('POST', '/items', new TextEncoder().encode('{}'));
      expect(untyped.status).toBe(415);
      await untyped.arrayBuffer();
    });

    it('answers a body over the default 1mb limit with 413 PAYLOAD_TOO_LARGE', async () => {
      const big = JSON.stringify({ blob: 'x'.repeat(1024 * 1024 + 10) });
      const response = await send('POST', '/items', big, 'application/json');
      expect(response.status).toBe(413);
      expect(await problemOf(response)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    });
  });
}
