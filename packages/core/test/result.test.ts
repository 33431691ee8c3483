import { err, isProdError, isResult, ok, ProdError } from '@prod/core';
import { describe, expect, it } from 'vitest';

describe('ok/err', () => {
  it('builds plain discriminated objects', () => {
    expect(ok(1)).toEqual({ ok: true, value: 1 });
    expect(err('x')).toEqual({ ok: false, error: 'x' });
    expect(isResult(JSON.parse(JSON.stringify(ok(1))))).toBe(true);
    expect(isProdError(new ProdError({ code: 'X' }))).toBe(true);
  });
});
