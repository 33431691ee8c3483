import { currentContext, runWithContext } from '@prod/core';
import { createLogger } from '@prod/logger';
import { pino } from 'pino';
import { bench, describe } from 'vitest';

// Lines go nowhere: the bench measures building the line, not the disk.
const nowhere = { write(_line: string): void {} };
const context = {
  requestId: 'b7c1f0e2-5b1d-4f55-9d2a-6f7f3c1a9e01',
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
};
const CALLS = 1000;
const time = 2000;

// Raw pino with the same line shape: ISO time and level label; the context fields passed by hand.
const raw = pino(
  {
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  },
  nowhere,
);
// The usual way to add the context with pino: a mixin reading AsyncLocalStorage on every line.
const rawMixin = pino(
  {
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: () => {
      const current = currentContext();
      return current === undefined
        ? {}
        : { requestId: current.requestId, traceId: current.traceId, spanId: current.spanId };
    },
  },
  nowhere,
);
const rawRedact = pino(
  {
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: ['user.password', 'req.headers.authorization'],
  },
  nowhere,
);
// Dedupe on with a ceiling no bench reaches: every line is written and the hook cost counted.
const ours = createLogger({ destination: nowhere, level: 'info', dedupe: { max: 1e9 } });
const oursBare = createLogger({
  destination: nowhere,
  level: 'info',
  redact: false,
  dedupe: false,
});
const oursNoDedupe = createLogger({ destination: nowhere, level: 'info', dedupe: false });

function inContext(fn: () => void): void {
  runWithContext({ ...context }, () => {
    for (let i = 0; i < CALLS; i++) fn();
  });
}

describe(`log call with request context (${CALLS} lines per op)`, () => {
  bench(
    'pino (raw, same fields by hand)',
    () => {
      inContext(() =>
        raw.info(
          {
            requestId: context.requestId,
            traceId: context.traceId,
            spanId: context.spanId,
            a: 1,
            b: 'x',
          },
          'hello',
        ),
      );
    },
    { time },
  );
  bench(
    'pino + ALS mixin (the usual way)',
    () => {
      inContext(() => rawMixin.info({ a: 1, b: 'x' }, 'hello'));
    },
    { time },
  );
  bench(
    '@prod/logger (defaults: context + redaction + dedupe)',
    () => {
      inContext(() => ours.info({ a: 1, b: 'x' }, 'hello'));
    },
    { time },
  );
  bench(
    '@prod/logger (context + redaction, no dedupe)',
    () => {
      inContext(() => oursNoDedupe.info({ a: 1, b: 'x' }, 'hello'));
    },
    { time },
  );
  bench(
    '@prod/logger (context only)',
    () => {
      inContext(() => oursBare.info({ a: 1, b: 'x' }, 'hello'));
    },
    { time },
  );
});

describe(`log call with a nested secret (${CALLS} lines per op)`, () => {
  bench(
    'pino (raw, redact paths user.password + req.headers.authorization)',
    () => {
      inContext(() =>
        rawRedact.info(
          {
            requestId: context.requestId,
            traceId: context.traceId,
            spanId: context.spanId,
            user: { id: 7, password: 'pw' },
            req: { headers: { authorization: 'Bearer x', accept: '*/*' } },
          },
          'login',
        ),
      );
    },
    { time },
  );
  bench(
    '@prod/logger (any depth, any case)',
    () => {
      inContext(() =>
        ours.info(
          {
            user: { id: 7, password: 'pw' },
            req: { headers: { authorization: 'Bearer x', accept: '*/*' } },
          },
          'login',
        ),
      );
    },
    { time },
  );
});

describe(`log call without a context (${CALLS} lines per op)`, () => {
  bench(
    'pino (raw)',
    () => {
      for (let i = 0; i < CALLS; i++) raw.info({ a: 1, b: 'x' }, 'hello');
    },
    { time },
  );
  bench(
    '@prod/logger (defaults)',
    () => {
      for (let i = 0; i < CALLS; i++) ours.info({ a: 1, b: 'x' }, 'hello');
    },
    { time },
  );
});

describe(`disabled level (${CALLS} calls per op)`, () => {
  bench(
    'pino (raw)',
    () => {
      for (let i = 0; i < CALLS; i++) raw.debug({ a: 1 }, 'hidden');
    },
    { time },
  );
  bench(
    '@prod/logger',
    () => {
      for (let i = 0; i < CALLS; i++) ours.debug({ a: 1 }, 'hidden');
    },
    { time },
  );
});
