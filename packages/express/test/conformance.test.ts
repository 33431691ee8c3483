import { mountExpress } from '@prod/express';
import { runAdapterConformance } from '@prod/testing';
import express from 'express';
import { listen } from './support/listen.js';

runAdapterConformance('express 5', async (parts) => {
  const app = express();
  mountExpress(app, { parts });
  return listen(app);
});
