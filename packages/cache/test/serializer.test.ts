import { jsonSerializer } from '@prod/cache';
import { describe, expect, it } from 'vitest';

describe('jsonSerializer', () => {
  it('round-trips JSON values, and bytes as Buffers', () => {
    const value = {
      s: 'é✓',
      n: 1.5,
      b: true,
      z: null,
      list: [1, 'two'],
      bytes: Buffer.from([0, 255]),
      u8: new Uint8Array([7]),
    };
    const back = jsonSerializer.deserialize(jsonSerializer.serialize(value)) as typeof value;
    expect(back).toEqual({ ...value, u8: Buffer.from([7]) });
    expect(Buffer.isBuffer(back.bytes)).toBe(true);
    expect(
      jsonSerializer.deserialize(Buffer.from(jsonSerializer.serialize([1]) as string)),
    ).toEqual([1]);
  });

  it('leaves an object that merely looks like the bytes tag with more keys alone', () => {
    const value = { '$prod:bytes': 'AA==', other: 1 };
    expect(jsonSerializer.deserialize(jsonSerializer.serialize(value))).toEqual(value);
  });

  it.each([
    ['a function', { f: () => 1 }],
    ['a symbol', [Symbol('x')]],
    ['a BigInt', { n: 1n }],
    ['a Map', new Map()],
    ['a Set', { s: new Set() }],
    ['undefined', undefined],
  ])('refuses %s', (_, value) => {
    expect(() => jsonSerializer.serialize(value)).toThrow(TypeError);
  });
});
