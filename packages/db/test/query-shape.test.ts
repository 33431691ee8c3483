// instrument() keeps a query's fingerprint, labels and histogram series by text. These tests
// run one corpus (literals, IN lists, quoted identifiers, schemas, errors) through the cached
// path, instrument() itself, and through the uncached one, a fresh fingerprint and a labelled
// histogram lookup per query, and require the same fingerprints, operations, tables and series.
import { type DbEvent, instrument, type SqlSource } from '@prod/db';
import { describe, expect, it } from 'vitest';
import { durationHistogram } from '../src/internal/histogram.js';
import { queryShape, queryShapeCache } from '../src/internal/query-shape.js';

// A fixed seed: a failure names a corpus that can be run again.
const random = (() => {
  let seed = 0x5eed;
  return (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
})();
const int = (max: number): number => Math.floor(random() * max);
const pick = <TValue>(items: readonly TValue[]): TValue => items[int(items.length)] as TValue;
const word = (): string => pick(['alpha', "o'brien", 'naïve', 'a;b', 'x--y', '', 'Z"q', '$1']);
const quote = (s: string): string => `'${s.replace(/'/g, "''")}'`;
const list = (): string => Array.from({ length: 1 + int(6) }, () => String(int(1000))).join(', ');

const templates: ReadonlyArray<() => string> = [
  () => 'SELECT 1',
  () => `SELECT ${int(100)}`,
  () => `SELECT * FROM notes WHERE id = ${int(10_000)}`,
  () => 'SELECT * FROM notes WHERE id = $1',
  () => `select id, title from Notes where title = ${quote(word())} and score > ${random() * 10}`,
  () => `SELECT * FROM "Notes" WHERE id IN (${list()}) AND owner = ${quote(word())}`,
  () => `SELECT * FROM app.notes WHERE id IN (${list()})`,
  () => `SELECT n.* FROM "App"."My ""Notes""" n WHERE n.tag = E'${word().replace(/'/g, "\\'")}'`,
  () =>
    `SELECT * FROM "public".accounts WHERE email ILIKE ${quote(`%${word()}%`)} LIMIT ${int(50)}`,
  () => `INSERT INTO audit.events (kind, payload) VALUES (${quote(word())}, $$${word()}$$)`,
  () => `INSERT INTO "Events" (id) VALUES (${int(99)}), (${int(99)}) RETURNING id`,
  () => `UPDATE "Users" SET name = ${quote(word())} WHERE id = $1`,
  () => `DELETE FROM public.sessions WHERE expires < now() - interval '${int(60)} minutes'`,
  () =>
    `WITH recent AS (SELECT * FROM notes WHERE created_at > '2026-0${1 + int(9)}-01') SELECT count(*) FROM recent`,
  () => `/* ${word()} */ SELECT * FROM notes -- trailing ${word()}\n WHERE id = ${int(9)}`,
  () => `  SELECT\n\t*\nFROM   notes\n WHERE id = ${-int(9)}  `,
  () => `SELECT * FROM notes WHERE id = ANY($1::int[]) AND flag = ${pick(['true', 'false'])}`,
  () => `SELECT 1; SELECT ${int(9)}`,
  () => pick(['BEGIN', 'COMMIT', 'ROLLBACK', 'SET statement_timeout = 100']),
  () => `CREATE TABLE IF NOT EXISTS "t${int(5)}" (id int)`,
  () =>
    `MERGE INTO stock s USING deliveries d ON s.id = d.id WHEN MATCHED THEN UPDATE SET n = s.n + ${int(9)}`,
  () => 'COPY notes FROM STDIN',
  () => `SELEC * FROM notes WHERE id = ${int(9)}`,
  // Longer than the cache takes: always the uncached path.
  () =>
    `SELECT * FROM big WHERE id IN (${Array.from({ length: 4000 }, () => int(1e6)).join(', ')})`,
];

type Outcome =
  | { readonly kind: 'ok' }
  | { readonly kind: 'reject'; readonly error: unknown; readonly label: string }
  | { readonly kind: 'throw'; readonly error: unknown; readonly label: string };

const outcomes: readonly Outcome[] = [
  { kind: 'ok' },
  { kind: 'ok' },
  { kind: 'ok' },
  {
    kind: 'reject',
    error: Object.assign(new Error('duplicate key'), { code: '23505' }),
    label: '23505',
  },
  {
    kind: 'reject',
    error: Object.assign(new Error('no such table'), { code: '42P01' }),
    label: '42P01',
  },
  {
    kind: 'reject',
    error: Object.assign(new Error('reset'), { code: 'ECONNRESET' }),
    label: 'ECONNRESET',
  },
  { kind: 'reject', error: new Error('no code'), label: 'error' },
  { kind: 'reject', error: undefined, label: 'error' },
  { kind: 'throw', error: new TypeError('bad arguments'), label: 'error' },
];

interface Run {
  readonly text: string;
  readonly asObject: boolean;
  readonly outcome: Outcome;
}

/** Every text at least three times, in a shuffled order, each time with its own outcome. */
function corpus(texts: number): Run[] {
  const distinct = Array.from({ length: texts }, (_, i) =>
    (templates[i % templates.length] as () => string)(),
  );
  const runs: Run[] = [];
  for (const text of distinct) {
    for (let i = 0; i < 3 + int(3); i++)
      runs.push({ text, asObject: random() < 0.3, outcome: pick(outcomes) });
  }
  for (let i = runs.length - 1; i > 0; i--) {
    const j = int(i + 1);
    [runs[i], runs[j]] = [runs[j] as Run, runs[i] as Run];
  }
  return runs;
}

const answer = { rows: [], rowCount: 0 };
const settle = (outcome: Outcome): Promise<unknown> => {
  if (outcome.kind === 'throw') throw outcome.error;
  return outcome.kind === 'ok' ? Promise.resolve(answer) : Promise.reject(outcome.error);
};

function minimalRegistry() {
  const metrics = new Map<string, { get(): Promise<{ values: SeriesValue[] }> }>();
  return {
    registerMetric: (metric: never) => {
      const m = metric as { name: string; get(): Promise<{ values: SeriesValue[] }> };
      metrics.set(m.name, m);
    },
    getSingleMetric: (name: string) => metrics.get(name),
    /** `labels -> count` of every series of the duration histogram. */
    async counts(): Promise<Record<string, number>> {
      const metric = metrics.get('db_client_operation_duration_seconds');
      const out: Record<string, number> = {};
      for (const value of (await metric?.get())?.values ?? []) {
        if (value.metricName.endsWith('_count')) out[JSON.stringify(value.labels)] = value.value;
      }
      return out;
    },
  };
}
interface SeriesValue {
  readonly value: number;
  readonly labels: Record<string, string | number>;
  readonly metricName: string;
}

interface Observed {
  readonly fingerprint: string;
  readonly fingerprintId: string;
  readonly operation: string;
  readonly table: string | undefined;
  readonly error: string | undefined;
}

/** The uncached path: a fresh fingerprint and a labelled lookup per query. */
async function uncached(runs: readonly Run[], maxSeries: number) {
  const registry = minimalRegistry();
  const histogram = durationHistogram(registry, '', maxSeries);
  const observed: Observed[] = [];
  for (const run of runs) {
    const shape = queryShape(run.text);
    const label = run.outcome.kind === 'ok' ? '' : run.outcome.label;
    histogram.observe('postgresql', shape.operation, shape.table, label, 0.0001);
    observed.push({
      fingerprint: shape.fingerprint.text,
      fingerprintId: shape.fingerprint.id,
      operation: shape.fingerprint.operation,
      table: shape.fingerprint.table,
      error: label === '' ? undefined : label,
    });
  }
  return { observed, counts: await registry.counts() };
}

/** The cached path: instrument() on a client (or a pool-shaped one) answering at once. */
async function cached(runs: readonly Run[], maxSeries: number, shape: 'client' | 'pool') {
  const registry = minimalRegistry();
  const events: DbEvent[] = [];
  let outcome: Outcome = { kind: 'ok' };
  const client = { query: (_text: unknown, _values?: unknown) => settle(outcome) };
  const pool = {
    totalCount: 0,
    on: () => pool,
    connect: () => Promise.resolve(client),
    query(_text: unknown, values?: unknown, cb?: unknown): unknown {
      const callback = typeof values === 'function' ? values : cb;
      if (typeof callback !== 'function') return settle(outcome);
      // Like pg: with a callback, every failure reaches the callback.
      let answered: Promise<unknown>;
      try {
        answered = settle(outcome);
      } catch (error) {
        answered = Promise.reject(error);
      }
      answered.then(
        (result) => callback(undefined, result),
        (error: unknown) => callback(error ?? new Error('query failed')),
      );
      return undefined;
    },
  };
  const target = shape === 'pool' ? pool : client;
  const instrumentation = instrument(target as unknown as SqlSource, {
    metrics: { registry },
    maxSeries,
    slowMs: 0,
    explain: false,
    budget: false,
    nPlusOne: false,
    onEvent: (event) => events.push(event),
  });
  try {
    for (const [i, run] of runs.entries()) {
      outcome = run.outcome;
      const first = run.asObject ? { text: run.text, values: [i] } : run.text;
      try {
        if (shape === 'pool' && i % 2 === 1) {
          await new Promise<void>((resolve) => pool.query(first, [i], () => resolve()));
        } else {
          await target.query(first, [i]);
        }
      } catch {}
    }
  } finally {
    instrumentation.stop();
  }
  const observed: Observed[] = events.map((event) => {
    if (event.kind !== 'slow-query') throw new Error(`unexpected ${event.kind} event`);
    const { fingerprint, fingerprintId, operation, table, error } = event;
    return { fingerprint, fingerprintId, operation, table, error };
  });
  return { observed, counts: await registry.counts() };
}

describe('the query shape cache', () => {
  const runs = corpus(240);

  it('runs a corpus with repeats, errors and uncacheable texts', () => {
    const texts = new Set(runs.map((run) => run.text));
    expect(texts.size).toBeGreaterThan(150);
    expect(runs.length).toBeGreaterThan(3 * texts.size - 1);
    expect(runs.some((run) => run.text.length > 16 * 1024)).toBe(true);
    expect(new Set(runs.map((run) => run.outcome.kind))).toEqual(
      new Set(['ok', 'reject', 'throw']),
    );
  });

  it('gives the shape a fresh fingerprint gives, also while it evicts', () => {
    const cache = queryShapeCache(16);
    for (const run of runs) {
      const fresh = queryShape(run.text);
      const hit = cache.get(run.text);
      expect(hit.fingerprint).toEqual(fresh.fingerprint);
      expect([hit.operation, hit.table]).toEqual([fresh.operation, fresh.table]);
    }
    expect(cache.size).toBe(16);
  });

  it('keeps the most recently used texts when it evicts', () => {
    const cache = queryShapeCache(2);
    const a = cache.get('SELECT 1');
    const b = cache.get('SELECT 2');
    expect(cache.get('SELECT 1')).toBe(a);
    cache.get('SELECT 3');
    expect(cache.get('SELECT 1')).toBe(a);
    expect(cache.get('SELECT 2')).not.toBe(b);
  });

  for (const shape of ['client', 'pool'] as const) {
    for (const maxSeries of [500, 6]) {
      it(`instrument() on a ${shape} records what the uncached path records (maxSeries ${maxSeries})`, async () => {
        const reference = await uncached(runs, maxSeries);
        const measured = await cached(runs, maxSeries, shape);
        expect(measured.observed).toHaveLength(runs.length);
        expect(measured.observed).toEqual(reference.observed);
        expect(measured.counts).toEqual(reference.counts);
        // Quoted identifiers reach the labels unquoted, and the cap folds new tables.
        const labels = Object.keys(measured.counts).join('\n');
        if (maxSeries === 500) expect(labels).toContain('"db_collection_name":"App.My Notes"');
        else expect(labels).toContain('"db_collection_name":"_other"');
      });
    }
  }

  it('never creates a success series for a text that only failed', async () => {
    const failing: Run[] = [
      {
        text: 'INSERT INTO small (id) VALUES ($1)',
        asObject: false,
        outcome: outcomes[3] as Outcome,
      },
      {
        text: 'INSERT INTO small (id) VALUES ($1)',
        asObject: false,
        outcome: outcomes[3] as Outcome,
      },
      { text: 'SELECT * FROM other', asObject: false, outcome: { kind: 'ok' } },
    ];
    const measured = await cached(failing, 500, 'client');
    expect(measured.counts).toEqual({
      '{"db_system_name":"postgresql","db_operation_name":"INSERT","db_collection_name":"small","error_type":"23505"}': 2,
      '{"db_system_name":"postgresql","db_operation_name":"SELECT","db_collection_name":"other"}': 1,
    });
  });
});
