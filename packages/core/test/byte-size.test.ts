import { parseByteSize } from '@prod/core';
import { describe, expect, it } from 'vitest';

describe('parseByteSize', () => {
  it('reads numbers and sizes with units, 1024-based', () => {
    expect(parseByteSize(512)).toBe(512);
    expect(parseByteSize('512')).toBe(512);
    expect(parseByteSize('200kb')).toBe(200 * 1024);
    expect(parseByteSize('1mb')).toBe(1024 * 1024);
    expect(parseByteSize('1.5MB')).toBe(1.5 * 1024 * 1024);
    expect(parseByteSize(' 2 gb ')).toBe(2 * 1024 ** 3);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 'lots', '', '1tb', '-1kb', null, {}])(
    'refuses %j',
    (size) => {
      expect(parseByteSize(size)).toBeUndefined();
    },
  );
});
