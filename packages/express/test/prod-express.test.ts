import { json, type Part } from '@prod/core';
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
