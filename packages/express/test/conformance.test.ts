import { CoreErrors } from '@prod/core';
import { prodExpress } from '@prod/express';
import { listen, runAdapterConformance } from '@prod/testing';
import express from 'express';

runAdapterConformance('express 5', async (parts, native) => {
  const app = express();
  const prod = prodExpress({ parts });
  app.use(prod.handler);
  app.get(native.text, (_req, res) => {
    res.set('x-native', 'yes').type('text/plain').send('native');
  });
  app.get(native.fail, () => {
    throw CoreErrors.CONFLICT();
  });
  app.use(prod.finalHandler);
  return listen(app);
});
