import Router from '@koa/router';
import { CoreErrors } from '@prod/core';
import { prodKoa } from '@prod/koa';
import { listen, runAdapterConformance } from '@prod/testing';
import Koa from 'koa';

runAdapterConformance('koa 3', async (parts, native) => {
  const app = new Koa();
  app.use(prodKoa({ parts }));
  const router = new Router();
  router.get(native.text, (ctx) => {
    ctx.set('x-native', 'yes');
    ctx.type = 'text/plain';
    ctx.body = 'native';
  });
  router.get(native.fail, () => {
    throw CoreErrors.CONFLICT();
  });
  app.use(router.routes());
  return listen(app.callback());
});
