/**
 * The cost of instrument() on `SELECT 1` through a pg Pool on 127.0.0.1 (one query at a
 * time, wall clock): a bare pool against an instrumented one (histogram, fingerprint cache,
 * slow-query check), outside a request and inside a request context (budget and N+1
 * bookkeeping too). Needs PostgreSQL (POSTGRES_TEST_URL or postgres://postgres@127.0.0.1/test).
 * Run: `pnpm bench:micro db/bench/instrument`.
 */
import { runWithContext } from '@prod/core';
import { instrument } from '@prod/db';
import pg from 'pg';
import { keep, runMicro } from '../../../config/bench-micro.js';

const url = process.env.POSTGRES_TEST_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const bare = new pg.Pool({ connectionString: url, max: 1 });
const instrumented = new pg.Pool({ connectionString: url, max: 1 });
// The registry is read only at scrape time: a minimal one keeps prom-client out of the bundle
// (the histogram is still updated on every query).
const registered: Record<string, unknown> = {};
const registry = {
  registerMetric: (metric: never) => {
    registered[(metric as { name: string }).name] = metric;
  },
  getSingleMetric: (name: string) => registered[name],
};
const instrumentation = instrument(instrumented, {
  metrics: { registry },
  explain: false,
  budget: { maxQueries: Number.POSITIVE_INFINITY },
});
await bare.query('SELECT 1');
await instrumented.query('SELECT 1');

// The wrapper's own cost, without a database: a client whose query answers at once.
const answer = Promise.resolve({ rows: [{ one: 1 }], rowCount: 1 });
const stubBare = { query: (_text: string) => answer };
const stubInstrumented = { query: (_text: string) => answer };
const stubInstrumentation = instrument(stubInstrumented, {
  metrics: { registry: { registerMetric: () => {}, getSingleMetric: () => undefined } },
  explain: false,
});

const BARE = 'pg Pool SELECT 1';
const OURS = 'instrumented pg Pool SELECT 1';
const STUB_BARE = 'query() answering at once';
const STUB_OURS = 'instrumented query() answering at once';
const select = {
  [BARE]: async () => keep(await bare.query('SELECT 1')),
  [OURS]: async () => keep(await instrumented.query('SELECT 1')),
};

try {
  await runMicro({
    file: import.meta.url,
    title: '@prod/db: instrument() overhead on SELECT 1 vs a bare pg Pool',
    groups: [
      {
        name: 'SELECT 1, CPU time of the client process',
        contenders: select,
        ratios: [{ ours: OURS, peer: BARE }],
      },
      {
        name: 'SELECT 1 inside a request context (budget and N+1 counting), CPU time',
        around: (run) => runWithContext({ requestId: 'bench', extensions: new Map() }, run),
        contenders: select,
        ratios: [{ ours: OURS, peer: BARE }],
      },
      {
        name: 'SELECT 1, wall-clock round trip',
        clock: 'wall',
        contenders: select,
        ratios: [{ ours: OURS, peer: BARE }],
      },
      {
        name: 'the wrapper alone (no database), CPU time',
        contenders: {
          [STUB_BARE]: async () => keep(await stubBare.query('SELECT * FROM notes WHERE id = $1')),
          [STUB_OURS]: async () =>
            keep(await stubInstrumented.query('SELECT * FROM notes WHERE id = $1')),
        },
        ratios: [{ ours: STUB_OURS, peer: STUB_BARE }],
      },
    ],
  });
} finally {
  instrumentation.stop();
  stubInstrumentation.stop();
  await bare.end();
  await instrumented.end();
}
