import { CoreErrors, err, ok } from '@prod/core';
import { installMatchers } from '@prod/testing';
import { describe, expect, it } from 'vitest';

installMatchers();

describe('toBeOk', () => {
  it('passes for Ok and checks the value deeply when given', () => {
    expect(ok({ a: [1] })).toBeOk();
    expect(ok({ a: [1] })).toBeOk({ a: [1] });
    expect(ok(1)).not.toBeOk(2);
  });

  it('fails for Err and for values that are not Results', () => {
    expect(() => expect(err(CoreErrors.NOT_FOUND())).toBeOk()).toThrow(
      /expected Ok, got Err\(NOT_FOUND/,
    );
    expect(() => expect({ value: 1 }).toBeOk()).toThrow(/expected a Result/);
    expect(() => expect(ok(1)).toBeOk(2)).toThrow(/expected Ok\(\S*2\S*\), got Ok\(\S*1\S*\)/);
  });
});

describe('toBeErr', () => {
  it('passes for Err and checks the ProdError code when given', () => {
    expect(err(CoreErrors.TIMEOUT())).toBeErr();
    expect(err(CoreErrors.TIMEOUT())).toBeErr('TIMEOUT');
    expect(err(CoreErrors.TIMEOUT())).not.toBeErr('NOT_FOUND');
  });

  it('fails for Ok, for another code and for non-ProdError errors with a code asked', () => {
    expect(() => expect(ok(1)).toBeErr()).toThrow(/expected Err, got Ok/);
    expect(() => expect(err(CoreErrors.TIMEOUT())).toBeErr('NOT_FOUND')).toThrow(
      /expected Err with code NOT_FOUND, got Err\(TIMEOUT/,
    );
    expect(() => expect(err('plain')).toBeErr('X')).toThrow(/got Err\(plain\)/);
  });

  it('works as an asymmetric matcher', () => {
    expect({ r: err(CoreErrors.CONFLICT()) }).toEqual({ r: expect.toBeErr('CONFLICT') });
  });
});
