/**
 * One log call of @prod/logger against raw pino 10 with the same line shape (ISO time, level
 * as a label, default base), each line written to a stream that drops it: what is measured is
 * building the line, not I/O. Run: `pnpm bench:micro logger/bench/logger`.
 */
import { currentContext, runWithContext } from '@prod/core';
import { createLogger } from '@prod/logger';
import { pino } from 'pino';
import { keep, runMicro } from '../../../config/bench-micro.js';

const nowhere = {
  write(line: string): void {
    keep(line);
  },
};
const ids = {
  requestId: 'b7c1f0e2-5b1d-4f55-9d2a-6f7f3c1a9e01',
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
};
const shape = {
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label: string) => ({ level: label }) },
};
// Raw pino, the request ids passed by hand on every line.
const raw = pino(shape, nowhere);
// The usual way to add the context with pino: a mixin reading AsyncLocalStorage on every line.
const rawMixin = pino(
  {
    ...shape,
    mixin: () => {
      const current = currentContext();
      return current === undefined
        ? {}
        : { requestId: current.requestId, traceId: current.traceId, spanId: current.spanId };
    },
  },
  nowhere,
);
const rawEpoch = pino({ formatters: shape.formatters }, nowhere);
const rawRedact = pino(
  { ...shape, redact: ['user.password', 'req.headers.authorization'] },
  nowhere,
);
// Dedupe on with a ceiling no bench reaches: every line is written and the hook cost counted.
const ours = createLogger({ destination: nowhere, dedupe: { max: 1e9 } });
const oursNoDedupe = createLogger({ destination: nowhere, dedupe: false });
const oursContextOnly = createLogger({ destination: nowhere, redact: false, dedupe: false });

// Every measurement of these groups runs inside one request context, as in a request.
const inRequest = (run: () => Promise<void>): Promise<void> => runWithContext({ ...ids }, run);

const BY_HAND = 'pino, ids by hand';
const DEFAULTS = '@prod/logger defaults (context + redaction + dedupe)';

await runMicro({
  file: import.meta.url,
  title: '@prod/logger: one log line vs raw pino',
  groups: [
    {
      name: 'log call in a request context',
      around: inRequest,
      contenders: {
        [BY_HAND]: () =>
          raw.info(
            { requestId: ids.requestId, traceId: ids.traceId, spanId: ids.spanId, a: 1, b: 'x' },
            'hello',
          ),
        'pino + ALS mixin': () => rawMixin.info({ a: 1, b: 'x' }, 'hello'),
        [DEFAULTS]: () => ours.info({ a: 1, b: 'x' }, 'hello'),
        '@prod/logger context + redaction, no dedupe': () =>
          oursNoDedupe.info({ a: 1, b: 'x' }, 'hello'),
        '@prod/logger context only': () => oursContextOnly.info({ a: 1, b: 'x' }, 'hello'),
      },
      ratios: [
        { ours: DEFAULTS, peer: BY_HAND },
        { ours: DEFAULTS, peer: 'pino + ALS mixin' },
        { ours: '@prod/logger context only', peer: BY_HAND },
      ],
    },
    {
      name: 'log call with a nested secret, in a request context',
      around: inRequest,
      contenders: {
        'pino, redact paths user.password + req.headers.authorization': () =>
          rawRedact.info(
            {
              requestId: ids.requestId,
              traceId: ids.traceId,
              spanId: ids.spanId,
              user: { id: 7, password: 'pw' },
              req: { headers: { authorization: 'Bearer x', accept: '*/*' } },
            },
            'login',
          ),
        '@prod/logger defaults (any depth, any case)': () =>
          ours.info(
            {
              user: { id: 7, password: 'pw' },
              req: { headers: { authorization: 'Bearer x', accept: '*/*' } },
            },
            'login',
          ),
      },
      ratios: [
        {
          ours: '@prod/logger defaults (any depth, any case)',
          peer: 'pino, redact paths user.password + req.headers.authorization',
        },
      ],
    },
    {
      name: 'log call outside a request',
      contenders: {
        'pino (raw)': () => raw.info({ a: 1, b: 'x' }, 'hello'),
        // pino's own default line shape: epoch milliseconds instead of an ISO time.
        'pino (raw, its default epoch time)': () => rawEpoch.info({ a: 1, b: 'x' }, 'hello'),
        '@prod/logger defaults': () => ours.info({ a: 1, b: 'x' }, 'hello'),
      },
      ratios: [
        { ours: '@prod/logger defaults', peer: 'pino (raw)' },
        { ours: '@prod/logger defaults', peer: 'pino (raw, its default epoch time)' },
      ],
    },
    {
      name: 'disabled level (debug on an info logger)',
      contenders: {
        'pino (raw)': () => raw.debug({ a: 1 }, 'hidden'),
        '@prod/logger': () => ours.debug({ a: 1 }, 'hidden'),
      },
      ratios: [{ ours: '@prod/logger', peer: 'pino (raw)' }],
    },
  ],
});
