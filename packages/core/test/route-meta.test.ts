import { defineRouteMeta, type Route } from '@prod/core';
import { describe, expect, expectTypeOf, it } from 'vitest';

describe('defineRouteMeta', () => {
  it('builds a meta fragment and reads it back from a route or a request', () => {
    const limit = defineRouteMeta<{ points: number }>('@prod/test/limit');
    const scopes = defineRouteMeta<readonly string[]>('my-app/scopes');
    const route: Route = {
      method: 'GET',
      path: '/x',
      handler: () => ({ status: 204 }),
      meta: { ...limit({ points: 3 }), ...scopes(['read']) },
    };
    expect(limit.read(route)).toEqual({ points: 3 });
    expect(scopes.read({ meta: route.meta })).toEqual(['read']);
    expect(limit.read({ meta: {} })).toBeUndefined();
    expect(limit.read({})).toBeUndefined();
    expectTypeOf(limit.read(route)).toEqualTypeOf<{ points: number } | undefined>();
    expect(limit.name).toBe('@prod/test/limit');
  });

  it('gives the same key for the same name (both builds of one package agree)', () => {
    const a = defineRouteMeta<number>('@prod/test/shared');
    const b = defineRouteMeta<number>('@prod/test/shared');
    expect(a.symbol).toBe(b.symbol);
    expect(b.read({ meta: a(5) })).toBe(5);
  });

  it.each(['plain', '', '/leading', '@scope/only', 'a b/c'])(
    'refuses a name that is not namespaced: %j',
    (name) => {
      expect(() => defineRouteMeta(name)).toThrow(TypeError);
    },
  );
});
