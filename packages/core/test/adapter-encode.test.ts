import { json } from '@prod/core';
import { describe, expect, it } from 'vitest';
// The encoder is internal to the kit: reached by path, not through the exports map.
import { encodeResponse } from '../src/adapter/encode.js';

describe('encodeResponse header validation', () => {
  it('still refuses a bad value for a header name whose last value was valid', () => {
    const ok = encodeResponse(json(200, { a: 1 }, { 'X-Tag': 'one' }));
    expect(ok.headers['x-tag']).toBe('one');
    expect(encodeResponse(json(200, {}, { 'x-tag': 'one' })).headers['x-tag']).toBe('one');
    expect(() => encodeResponse(json(200, {}, { 'x-tag': 'two\r\nset-cookie: a=b' }))).toThrow();
    expect(() => encodeResponse(json(200, {}, { 'bad name': 'one' }))).toThrow();
    expect(encodeResponse(json(200, {}, { 'x-tag': 'two' })).headers['x-tag']).toBe('two');
  });

  it('keeps validating once many header names were seen', () => {
    for (let i = 0; i < 300; i += 1) encodeResponse(json(200, {}, { [`x-h${i}`]: 'v' }));
    expect(() => encodeResponse(json(200, {}, { 'x-h299': 'v\n' }))).toThrow();
    expect(() => encodeResponse(json(200, {}, { 'x-h1': 'v\n' }))).toThrow();
  });
});
