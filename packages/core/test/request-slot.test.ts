import { RequestSlot } from '@prod/core';
import { describe, expect, it } from 'vitest';

describe('RequestSlot', () => {
  it('keeps one value per object, and two slots never share one', () => {
    const a = new RequestSlot<number>('test/a');
    const b = new RequestSlot<number>('test/a');
    const request = {};
    a.set(request, 1);
    expect(a.get(request)).toBe(1);
    expect(b.get(request)).toBeUndefined();
    expect(a.get({})).toBeUndefined();
  });

  it('take forgets the value', () => {
    const slot = new RequestSlot<string>('test/take');
    const request = {};
    slot.set(request, 'x');
    expect(slot.take(request)).toBe('x');
    expect(slot.take(request)).toBeUndefined();
    expect(slot.get(request)).toBeUndefined();
  });

  it('stores on the object itself, under a symbol no string key can reach', () => {
    const slot = new RequestSlot<string>('test/own');
    const request: Record<string, unknown> = {};
    slot.set(request, 'x');
    expect(Object.keys(request)).toEqual([]);
    expect(Object.getOwnPropertySymbols(request)).toHaveLength(1);
  });

  it('falls back to a WeakMap for a frozen object', () => {
    const slot = new RequestSlot<string>('test/frozen');
    const request = Object.freeze({});
    slot.set(request, 'kept');
    expect(slot.get(request)).toBe('kept');
    expect(slot.take(request)).toBe('kept');
    expect(slot.get(request)).toBeUndefined();
  });
});
