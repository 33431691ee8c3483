import { CoreErrors } from '@prod/core';
import { prodExpress } from '@prod/express';
import { listen, runAdapterConformance } from '@prod/testing';
import express from 'express';
import express4 from 'express4';
import { expect, it, vi } from 'vitest';
import { describeNativeRoutes } from './support/native-cases.js';

// The adapter imports 'express'; point it (and this file) at the Express 4 install.
vi.mock('express', async () => await import('express4'));

it('runs against Express 4 here', () => {
  expect(express).toBe(express4);
  expect(typeof (express4.application as { del?: unknown }).del).toBe('function');
});

runAdapterConformance('express 4', async (parts, native) => {
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

describeNativeRoutes('express 4');
