import type { Part } from '@prod/core';
import { type ProdKoaOptions, prodKoa } from '@prod/koa';
import Koa, { type Middleware } from 'koa';
import { expectTypeOf, it } from 'vitest';

it('types the options and returns a Koa middleware', () => {
  expectTypeOf<ProdKoaOptions['parts']>().toEqualTypeOf<readonly Part[]>();
  expectTypeOf<ProdKoaOptions['bodyLimit']>().toEqualTypeOf<number | string | undefined>();
  expectTypeOf(prodKoa({ parts: [] })).toEqualTypeOf<Middleware>();
  new Koa().use(prodKoa({ parts: [] }));
  // @ts-expect-error parts are required
  prodKoa({});
});
