import { err, isResult, ok, type Result } from '@prod/core';
import { describe, expect, it } from 'vitest';

describe('ok / err', () => {
  it('builds plain discriminated objects', () => {
    expect(ok(1)).toStrictEqual({ ok: true, value: 1 });
    expect(err('x')).toStrictEqual({ ok: false, error: 'x' });
    expect(Object.getPrototypeOf(ok(1))).toBe(Object.prototype);
  });

  it('ok() without a value is an Ok of undefined', () => {
    const r = ok();
    expect(r.ok).toBe(true);
    expect(r.value).toBeUndefined();
  });

  it('keeps the very value and error it was given (no copy)', () => {
    const value = { a: 1 };
    const error = new Error('e');
    expect(ok(value).value).toBe(value);
    expect(err(error).error).toBe(error);
  });

  it('narrows with if (r.ok)', () => {
    const r: Result<number, string> = Math.random() > 2 ? err('no') : ok(2);
    if (r.ok) expect(r.value * 2).toBe(4);
    else expect.unreachable('the Ok branch must be taken');
  });
});

describe('isResult', () => {
  it('recognizes Ok and Err', () => {
    expect(isResult(ok(1))).toBe(true);
    expect(isResult(err(new Error('x')))).toBe(true);
    expect(isResult(ok(undefined))).toBe(true);
    expect(isResult(ok(null))).toBe(true);
  });

  it('recognizes Results after a JSON round trip, including ok() whose value vanished', () => {
    expect(isResult(JSON.parse(JSON.stringify(ok({ a: [1, 2] }))))).toBe(true);
    expect(isResult(JSON.parse(JSON.stringify(err({ code: 'X' }))))).toBe(true);
    expect(isResult(JSON.parse(JSON.stringify(ok())))).toBe(true);
  });

  it('rejects everything else', () => {
    for (const value of [
      null,
      undefined,
      0,
      'ok',
      true,
      [],
      {},
      { ok: 'true', value: 1 },
      { ok: 1, value: 1 },
      { ok: false },
      { ok: true, latency: 3 },
      { value: 1 },
      { error: 1 },
      () => ok(1),
    ]) {
      expect(isResult(value), JSON.stringify(value)).toBe(false);
    }
  });

  it('takes { ok: true } without a value only when ok is its only key (the JSON of ok())', () => {
    expect(isResult({ ok: true })).toBe(true);
    expect(isResult({ ok: true, latency: 3 })).toBe(false);
    expect(isResult(Object.create({ ok: true }))).toBe(false);
  });

  it('is not fooled by a __proto__ key in parsed JSON', () => {
    const hostile = JSON.parse('{"__proto__": {"ok": true, "value": 1}}');
    expect(isResult(hostile)).toBe(false);
  });
});
