import type { Part } from '@prod/core';
import { mountExpress, type ProdExpressOptions, prodExpress } from '@prod/express';
import express, { type ErrorRequestHandler, type RequestHandler, type Router } from 'express';
import { expectTypeOf, it } from 'vitest';

it('types the options and what prodExpress returns', () => {
  expectTypeOf<ProdExpressOptions['parts']>().toEqualTypeOf<readonly Part[]>();
  expectTypeOf<ProdExpressOptions['bodyLimit']>().toEqualTypeOf<number | string | undefined>();
  const prod = prodExpress({ parts: [] });
  expectTypeOf(prod.handler).toEqualTypeOf<Router>();
  expectTypeOf(prod.finalHandler).toEqualTypeOf<[RequestHandler, ErrorRequestHandler]>();
  const app = express();
  app.use(prod.handler);
  app.use(prod.finalHandler);
  mountExpress(app, {
    parts: [],
    bodyLimit: '200kb',
    onHookError: (error, part) => void [error, part.name],
  });
  // @ts-expect-error parts are required
  prodExpress({});
});
