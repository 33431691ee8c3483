import { prodKoa } from '@prod/koa';
import { runAdapterConformance } from '@prod/testing';
import Koa from 'koa';
import { listen } from './support/listen.js';

runAdapterConformance('koa 3', async (parts) => {
  const app = new Koa();
  app.use(prodKoa({ parts }));
  return listen(app);
});
