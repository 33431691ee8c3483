import { mountExpress } from '@prod/express';
import { runAdapterConformance } from '@prod/testing';
import express from 'express';
import express4 from 'express4';
import { expect, it, vi } from 'vitest';
import { listen } from './support/listen.js';
import { describeNativeRoutes } from './support/native-cases.js';

// The adapter imports 'express'; point it (and this file) at the Express 4 install.
vi.mock('express', async () => await import('express4'));

it('runs against Express 4 here', () => {
  expect(express).toBe(express4);
  expect(typeof (express4.application as { del?: unknown }).del).toBe('function');
});

runAdapterConformance('express 4', async (parts) => {
  const app = express();
  mountExpress(app, { parts });
  return listen(app);
});

describeNativeRoutes('express 4');
