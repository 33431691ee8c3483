// The same cases as http.test.ts on Express 4 (installed as `express4`).
import { CoreErrors } from '@prod/core';
import { prodExpress } from '@prod/express';
import { listen } from '@prod/testing';
import express from 'express';
import express4 from 'express4';
import { expect, it, vi } from 'vitest';
import { describeSecurityOverHttp, NATIVE } from './support/http-cases.js';

// The adapter imports 'express'; point it (and this file) at the Express 4 install.
vi.mock('express', async () => await import('express4'));

it('runs against Express 4 here', () => {
  expect(express).toBe(express4);
  expect(typeof (express4.application as { del?: unknown }).del).toBe('function');
});

describeSecurityOverHttp('Express 4', async (parts) => {
  const app = express();
  app.disable('x-powered-by');
  const prod = prodExpress({ parts });
  app.use(prod.handler);
  app.get(NATIVE.read, (_req, res) => {
    res.json({ native: true });
  });
  app.post(NATIVE.read, (_req, res) => {
    res.status(201).json({ native: true });
  });
  app.get(NATIVE.fail, () => {
    throw CoreErrors.CONFLICT();
  });
  app.use(prod.finalHandler);
  return listen(app);
});
