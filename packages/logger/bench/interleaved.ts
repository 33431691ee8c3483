// The same contenders as logger.bench.ts, interleaved in small slices and read as the best
// slice of each: on a shared, loaded machine this gives steadier ratios than sequential runs.
// Run: pnpm exec tsx --conditions=@prod/source bench/interleaved.ts
import { currentContext, runWithContext } from '@prod/core';
import { createLogger } from '@prod/logger';
import { pino } from 'pino';

const nowhere = { write(_line: string): void {} };
const ids = {
  requestId: 'b7c1f0e2-5b1d-4f55-9d2a-6f7f3c1a9e01',
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
};
const shape = {
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label: string) => ({ level: label }) },
};
const raw = pino(shape, nowhere);
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
const rawRedact = pino(
  { ...shape, redact: ['user.password', 'req.headers.authorization'] },
  nowhere,
);
const ours = createLogger({ destination: nowhere, dedupe: { max: 1e9 } });
const oursContextOnly = createLogger({ destination: nowhere, redact: false, dedupe: false });

const secret = () => ({
  user: { id: 7, password: 'pw' },
  req: { headers: { authorization: 'Bearer x', accept: '*/*' } },
});
const contenders: Record<string, () => void> = {
  'pino, ids by hand': () =>
    raw.info(
      { requestId: ids.requestId, traceId: ids.traceId, spanId: ids.spanId, a: 1, b: 'x' },
      'hello',
    ),
  'pino + ALS mixin': () => rawMixin.info({ a: 1, b: 'x' }, 'hello'),
  '@prod/logger defaults': () => ours.info({ a: 1, b: 'x' }, 'hello'),
  '@prod/logger context only': () => oursContextOnly.info({ a: 1, b: 'x' }, 'hello'),
  'pino redact paths, secret line': () =>
    rawRedact.info(
      { requestId: ids.requestId, traceId: ids.traceId, spanId: ids.spanId, ...secret() },
      'login',
    ),
  '@prod/logger, secret line': () => ours.info(secret(), 'login'),
  'pino, no context': () => raw.info({ a: 1, b: 'x' }, 'hello'),
  '@prod/logger, no context': () => ours.info({ a: 1, b: 'x' }, 'hello'),
  'pino, disabled level': () => raw.debug({ a: 1 }, 'hidden'),
  '@prod/logger, disabled level': () => ours.debug({ a: 1 }, 'hidden'),
};
const OUTSIDE = new Set([
  'pino, no context',
  '@prod/logger, no context',
  'pino, disabled level',
  '@prod/logger, disabled level',
]);

const SLICE = 5000;
const ROUNDS = 200;
const best: Record<string, number> = {};
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, fn] of Object.entries(contenders)) {
    const slice = (): void => {
      const start = process.hrtime.bigint();
      for (let i = 0; i < SLICE; i++) fn();
      const ns = Number(process.hrtime.bigint() - start) / SLICE;
      best[name] = Math.min(best[name] ?? Number.POSITIVE_INFINITY, ns);
    };
    if (OUTSIDE.has(name)) slice();
    else runWithContext({ ...ids }, slice);
  }
}
function baseline(name: string): number {
  if (name.includes('secret')) return best['pino redact paths, secret line'] ?? 1;
  if (name.includes('no context')) return best['pino, no context'] ?? 1;
  if (name.includes('disabled')) return best['pino, disabled level'] ?? 1;
  return best['pino, ids by hand'] ?? 1;
}
for (const [name, ns] of Object.entries(best)) {
  const against = baseline(name);
  console.log(
    `${name.padEnd(34)} ${ns.toFixed(0).padStart(6)} ns/line  x${(ns / against).toFixed(2)}`,
  );
}
