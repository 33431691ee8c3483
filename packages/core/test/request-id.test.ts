import { isSafeRequestId, requestIdFrom } from '@prod/core';
import { describe, expect, it } from 'vitest';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('requestIdFrom', () => {
  it('keeps a safe incoming id', () => {
    for (const id of [
      'abc',
      'req-1',
      'a.b_c:d',
      '0f8fad5b-d9cb-469f-a165-70867728950e',
      'x'.repeat(128),
    ]) {
      expect(isSafeRequestId(id)).toBe(true);
      expect(requestIdFrom(id)).toBe(id);
    }
  });

  it('replaces an unsafe id with a fresh UUID', () => {
    for (const id of [
      'has space',
      'line\nbreak',
      'trailing\n',
      'tab\t',
      'x'.repeat(129),
      'x'.repeat(200),
      '',
      '<script>',
      'ünïcode',
      'a/b',
      'quote"',
      123,
      null,
      undefined,
      ['abc'],
      { toString: () => 'abc' },
    ]) {
      expect(isSafeRequestId(id)).toBe(false);
      expect(requestIdFrom(id)).toMatch(UUID);
    }
  });

  it('gives a different id each time', () => {
    expect(requestIdFrom(undefined)).not.toBe(requestIdFrom(undefined));
  });
});
