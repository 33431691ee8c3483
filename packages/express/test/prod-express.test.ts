import { connect } from 'node:net';
import { bodyProfileOf, json, type Part } from '@prod/core';
import { ExpressErrors, mountExpress, prodExpress } from '@prod/express';
import { listen } from '@prod/testing';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { describeNativeRoutes } from './support/native-cases.js';

describeNativeRoutes('express 5');

describe('prodExpress answers', () => {
  it("never carry Express's X-Powered-By, which Express sets before any middleware", async () => {
    const app = express();
    mountExpress(app, {
      parts: [
        {
          name: 'hello',
          routes: [{ method: 'GET', path: '/hello', handler: () => json(200, {}) }],
        },
      ],
    });
    const server = await listen(app);
    try {
      for (const path of ['/hello', '/missing']) {
        const response = await fetch(`${server.url}${path}`);
        await response.arrayBuffer();
        expect(response.headers.get('x-powered-by'), path).toBeNull();
      }
    } finally {
      await server.close();
    }
  });
});

describe('prodExpress with express.json() mounted before it', () => {
  it('checks and profiles the body the application parsed, as its own reader would', async () => {
    const app = express();
    app.use(express.json());
    mountExpress(app, {
      parts: [
        {
          name: 'profile',
          routes: [
            {
              method: 'POST',
              path: '/profile',
              handler: (request) => {
                const profile = bodyProfileOf(request);
                return json(200, {
                  body: request.body,
                  plainText: profile?.plainText ?? null,
                  keys: profile?.keys ?? null,
                });
              },
            },
          ],
        },
      ],
    });
    const server = await listen(app);
    try {
      const post = async (body: string) => {
        const response = await fetch(`${server.url}/profile`, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json' },
        });
        return { status: response.status, body: (await response.json()) as unknown };
      };
      expect(await post('{"a":"plain","b":[1]}')).toEqual({
        status: 200,
        body: { body: { a: 'plain', b: [1] }, plainText: true, keys: 2 },
      });
      expect(await post('{"a":"caf\u00e9"}')).toMatchObject({ body: { plainText: false } });
      // The same refusals as the kit's own reader.
      expect(await post('{"__proto__":{"x":1}}')).toMatchObject({
        status: 400,
        body: { code: 'FORBIDDEN_KEY' },
      });
    } finally {
      await server.close();
    }
  });
});

/** One raw HTTP/1.1 request; the whole answer as text (the server closes after it). */
function rawGet(url: string, path: string, method = 'GET'): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.end(`${method} ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    });
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

describe('prodExpress writes the head in one go', () => {
  const parts: Part[] = [
    {
      name: 'shapes',
      routes: [
        { method: 'GET', path: '/json', handler: () => json(200, { héllo: 'wörld' }) },
        {
          method: 'GET',
          path: '/bytes',
          handler: () => ({ status: 200, body: new Uint8Array([1, 2, 3]) }),
        },
        { method: 'GET', path: '/empty', handler: () => ({ status: 204 }) },
        {
          method: 'GET',
          path: '/cookies',
          handler: () => ({
            status: 200,
            headers: { 'set-cookie': ['a=1', 'b=2'], 'x-mine': 'parts' },
            body: 'ok',
          }),
        },
      ],
    },
  ];

  it('with a Content-Length of the UTF-8 body, never chunked, none on a 204', async () => {
    const app = express();
    mountExpress(app, { parts });
    const server = await listen(app);
    try {
      const answer = await rawGet(server.url, '/json');
      const body = JSON.stringify({ héllo: 'wörld' });
      expect(answer).toMatch(new RegExp(`\r\ncontent-length: ${Buffer.byteLength(body)}\r\n`, 'i'));
      expect(answer).not.toMatch(/transfer-encoding/i);
      expect(Buffer.from(answer.split('\r\n\r\n')[1] ?? '', 'latin1').toString()).toBe(body);
      expect(await rawGet(server.url, '/bytes')).toMatch(/\r\ncontent-length: 3\r\n/i);
      // HEAD: the length of what GET would send, and no body.
      const head = await rawGet(server.url, '/json', 'HEAD');
      expect(head).toMatch(new RegExp(`\r\ncontent-length: ${Buffer.byteLength(body)}\r\n`, 'i'));
      expect(head.endsWith('\r\n\r\n')).toBe(true);
      const empty = await rawGet(server.url, '/empty');
      expect(empty).toMatch(/^HTTP\/1\.1 204 /);
      expect(empty).not.toMatch(/content-length|transfer-encoding/i);
    } finally {
      await server.close();
    }
  });

  it('keeping the headers native middleware set before, the parts winning a name both set', async () => {
    const app = express();
    app.use((_req, res, next) => {
      res.setHeader('x-native', 'kept');
      res.setHeader('x-mine', 'native');
      next();
    });
    mountExpress(app, { parts });
    const server = await listen(app);
    try {
      const response = await fetch(`${server.url}/cookies`);
      expect(await response.text()).toBe('ok');
      expect(response.headers.get('x-native')).toBe('kept');
      expect(response.headers.get('x-mine')).toBe('parts');
      expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
      expect(response.headers.get('content-length')).toBe('2');
    } finally {
      await server.close();
    }
  });
});

describe('prodExpress options', () => {
  it('refuses parts that cannot be mounted with EXPRESS_INVALID_OPTIONS naming the option', () => {
    const handler = () => json(200, {});
    const refusal = (parts: unknown, bodyLimit?: unknown): unknown => {
      try {
        prodExpress({
          parts: parts as Part[],
          ...(bodyLimit === undefined ? {} : { bodyLimit: bodyLimit as string }),
        });
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const cases: [unknown, RegExp, unknown?][] = [
      [[{ name: '' }], /parts\[0\]\.name must be a non-empty string/],
      [
        [{ name: 'a', routes: [{ method: 'TRACE', path: '/x', handler }] }],
        /method must be one of GET/,
      ],
      [
        [{ name: 'a', routes: [{ method: 'GET', path: 'x', handler }] }],
        /path must be a path starting with \//,
      ],
      [
        [
          { name: 'a', routes: [{ method: 'GET', path: '/x', handler }] },
          { name: 'b', routes: [{ method: 'GET', path: '/x', handler }] },
        ],
        /GET \/x is declared twice \(parts "a" and "b"\)/,
      ],
      ['nope', /parts must be an array/],
      [[], /bodyLimit must be a positive number of bytes/, 'lots'],
    ];
    for (const [parts, message, bodyLimit] of cases) {
      const error = refusal(parts, bodyLimit);
      expect(ExpressErrors.EXPRESS_INVALID_OPTIONS.is(error), String(message)).toBe(true);
      expect((error as Error).message).toMatch(message);
    }
  });
});
