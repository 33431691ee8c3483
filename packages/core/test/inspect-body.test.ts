import { describe, expect, it } from 'vitest';
import { inspectBody } from '../src/adapter/inspect-body.js';

const fault = (value: unknown) => {
  const error = inspectBody(value);
  return error === undefined ? undefined : { code: error.code, details: error.details };
};

const nested = (levels: number): unknown => {
  let value: unknown = { leaf: true };
  for (let i = 0; i < levels; i++) value = { down: value };
  return value;
};

describe('inspectBody', () => {
  it('passes clean bodies of every JSON shape, paired surrogates included', () => {
    for (const body of [
      undefined,
      null,
      42,
      'text',
      [],
      {},
      JSON.parse('{"a":[1,"two",{"b":null}],"c":{"d":"😀 naïve"},"constructor":{"name":"x"}}'),
      nested(60),
    ]) {
      expect(fault(body)).toBeUndefined();
    }
  });

  it('names the path of a prototype key, escaping ~ and / (RFC 6901)', () => {
    expect(fault(JSON.parse('{"__proto__":{"x":1}}'))).toEqual({
      code: 'FORBIDDEN_KEY',
      details: { path: '/__proto__' },
    });
    expect(fault(JSON.parse('{"a/b":[0,{"c~d":{"constructor":{"prototype":{}}}}]}'))).toEqual({
      code: 'FORBIDDEN_KEY',
      details: { path: '/a~1b/1/c~0d/constructor/prototype' },
    });
    // `prototype` is only a fault under `constructor`.
    expect(fault({ prototype: {} })).toBeUndefined();
  });

  it('reports nesting deeper than 64 levels with the path where the scan stopped', () => {
    const error = fault(nested(70));
    expect(error?.code).toBe('FORBIDDEN_KEY');
    expect(error?.details).toEqual({ path: `${'/down'.repeat(65)}/...` });
  });

  it('names the first unstorable text, key or value, in the order of the input', () => {
    expect(fault({ ok: 'fine', list: ['a', 'b\u0000'], later: '\uD800' })).toEqual({
      code: 'INVALID_TEXT',
      details: { path: '/list/1', reason: 'NUL character' },
    });
    expect(fault({ 'k\uDC00': 1 })).toEqual({
      code: 'INVALID_TEXT',
      details: { path: '/k\uDC00', reason: 'unpaired surrogate' },
    });
    expect(fault('\uD800x')).toEqual({
      code: 'INVALID_TEXT',
      details: { path: '', reason: 'unpaired surrogate' },
    });
  });

  it('ignores keys a polluted Object.prototype would add to for...in, and still finds real faults', () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.injected = '\u0000';
    try {
      expect(fault({ a: { b: 'clean' } })).toBeUndefined();
      expect(fault(JSON.parse('{"a":{"__proto__":1}}'))).toEqual({
        code: 'FORBIDDEN_KEY',
        details: { path: '/a/__proto__' },
      });
    } finally {
      delete proto.injected;
    }
  });
});
