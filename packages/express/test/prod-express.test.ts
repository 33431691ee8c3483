import { json, type Part } from '@prod/core';
import { prodExpress } from '@prod/express';
import { describe, expect, it } from 'vitest';
import { describeNativeRoutes } from './support/native-cases.js';

describeNativeRoutes('express 5');

describe('prodExpress options', () => {
  it('refuses parts that cannot be mounted', () => {
    const handler = () => json(200, {});
    expect(() => prodExpress({ parts: [{ name: '' }] })).toThrow(TypeError);
    expect(() =>
      prodExpress({
        parts: [{ name: 'a', routes: [{ method: 'TRACE' as 'GET', path: '/x', handler }] }],
      }),
    ).toThrow(/method TRACE/);
    expect(() =>
      prodExpress({ parts: [{ name: 'a', routes: [{ method: 'GET', path: 'x', handler }] }] }),
    ).toThrow(/not starting with \//);
    expect(() =>
      prodExpress({
        parts: [
          { name: 'a', routes: [{ method: 'GET', path: '/x', handler }] },
          { name: 'b', routes: [{ method: 'GET', path: '/x', handler }] },
        ],
      }),
    ).toThrow(/GET \/x is declared twice/);
    expect(() => prodExpress({ parts: 'nope' as unknown as Part[] })).toThrow(/must be an array/);
  });
});
