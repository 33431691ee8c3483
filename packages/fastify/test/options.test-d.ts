import type { Part } from '@prod/core';
import { type ProdFastifyOptions, prodFastify } from '@prod/fastify';
import Fastify from 'fastify';
import { expectTypeOf, it } from 'vitest';

it('types the plugin options', async () => {
  expectTypeOf<ProdFastifyOptions['parts']>().toEqualTypeOf<readonly Part[]>();
  expectTypeOf<ProdFastifyOptions['bodyLimit']>().toEqualTypeOf<number | string | undefined>();
  const app = Fastify();
  await app.register(prodFastify, { parts: [], bodyLimit: 1024 });
  // @ts-expect-error parts are required
  await app.register(prodFastify, { bodyLimit: 1024 });
});
