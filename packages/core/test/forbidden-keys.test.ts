import { findForbiddenKey, prototypeIsPolluted } from '@prod/core';
import { describe, expect, it } from 'vitest';

describe('findForbiddenKey', () => {
  it('accepts clean values of every JSON shape', () => {
    for (const value of [
      null,
      1,
      'x',
      true,
      [],
      {},
      { a: [{ b: { c: 1 } }] },
      { constructor: 'ok' },
    ]) {
      expect(findForbiddenKey(value)).toBeUndefined();
    }
  });

  it('finds __proto__ at any depth, as JSON.parse leaves it', () => {
    expect(findForbiddenKey(JSON.parse('{"__proto__":{"admin":true}}'))).toBe('/__proto__');
    expect(findForbiddenKey(JSON.parse('{"a":[1,{"b":{"__proto__":{}}}]}'))).toBe(
      '/a/1/b/__proto__',
    );
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('finds constructor.prototype but not a lone prototype key', () => {
    expect(findForbiddenKey(JSON.parse('{"constructor":{"prototype":{"x":1}}}'))).toBe(
      '/constructor/prototype',
    );
    expect(findForbiddenKey({ prototype: 1 })).toBeUndefined();
  });

  it('reports nesting deeper than it scans instead of recursing without bound', () => {
    const deep = JSON.parse(`${'['.repeat(5_000)}${']'.repeat(5_000)}`);
    expect(findForbiddenKey(deep)).toMatch(/\/\.\.\.$/);
  });
});

describe('prototypeIsPolluted', () => {
  it('says whether Object.prototype has an enumerable key, and only while it has one', () => {
    expect(prototypeIsPolluted()).toBe(false);
    const proto = Object.prototype as Record<string, unknown>;
    proto.polluted = true;
    try {
      expect(prototypeIsPolluted()).toBe(true);
    } finally {
      delete proto.polluted;
    }
    expect(prototypeIsPolluted()).toBe(false);
    // A non-enumerable addition is not listed by for...in: not pollution for a walk.
    Object.defineProperty(Object.prototype, 'hidden', { value: 1, configurable: true });
    try {
      expect(prototypeIsPolluted()).toBe(false);
    } finally {
      delete (Object.prototype as Record<string, unknown>).hidden;
    }
  });
});
