/**
 * Audit `record()` throughput to the real PostgreSQL, against a plain INSERT of the same row
 * (no chain, no lock, no checkpoint: what an unprotected audit table costs). Two loads: one
 * caller awaiting each write (latency-bound), and 64 callers in flight (where `record()` groups
 * the waiting events into one transaction). Rounds are interleaved, each contender runs for
 * DURATION ms per round, the order rotates; medians and ranges over ROUNDS.
 *
 * Run: `pnpm --filter @prod/audit bench:pg` (POSTGRES_TEST_URL, ROUNDS=5, DURATION=3000).
 * Uses a throw-away schema, dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { applyAuditMigration, createAuditLog, postgresSink } from '@prod/audit';
import pg from 'pg';

const base = process.env.POSTGRES_TEST_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const rounds = Number(process.env.ROUNDS ?? 5);
const duration = Number(process.env.DURATION ?? 3000);
const schema = `bench_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: base });
await admin.connect();
await admin.query(`CREATE SCHEMA ${schema}`);
const pool = new pg.Pool({
  connectionString: `${base}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
  max: 10,
});
const migrated = await applyAuditMigration(pool);
if (!migrated.ok) throw migrated.error;
await pool.query(
  'CREATE TABLE plain_audit (id bigserial PRIMARY KEY, recorded_at timestamptz NOT NULL, action text, actor_id text, body text NOT NULL)',
);

const KEY = randomBytes(32);
const log = createAuditLog({
  sink: postgresSink({ db: pool }),
  signingKey: KEY,
  checkpointInterval: 0,
});
const event = {
  action: 'note.update',
  actor: { id: 'user-42', type: 'user' },
  resource: { type: 'note', id: 'n1' },
  where: { ip: '203.0.113.7', requestId: 'req-1' },
  details: { fields: ['title'] },
};
let n = 0;

const viaLog = async (): Promise<void> => {
  const recorded = await log.record(event);
  if (!recorded.ok) throw recorded.error;
};
const viaInsert = async (): Promise<void> => {
  n += 1;
  await pool.query(
    'INSERT INTO plain_audit (recorded_at, action, actor_id, body) VALUES ($1, $2, $3, $4)',
    [new Date().toISOString(), event.action, event.actor.id, JSON.stringify({ ...event, n })],
  );
};

async function measure(op: () => Promise<void>, inFlight: number): Promise<number> {
  let count = 0;
  const until = performance.now() + duration;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < until) {
        await op();
        count += 1;
      }
    }),
  );
  return (count * 1000) / duration;
}

const contenders: [string, () => Promise<void>, number][] = [
  ['record(), 1 caller', viaLog, 1],
  ['plain INSERT, 1 caller', viaInsert, 1],
  ['record(), 64 in flight', viaLog, 64],
  ['plain INSERT, 64 in flight', viaInsert, 64],
];
const results = new Map<string, number[]>(contenders.map(([name]) => [name, []]));
for (const [, op, inFlight] of contenders) await measure(op, inFlight); // warm-up
for (let round = 0; round < rounds; round++) {
  const order = contenders.map(
    (_, i) => contenders[(i + round) % contenders.length] as (typeof contenders)[number],
  );
  for (const [name, op, inFlight] of round % 2 === 0 ? order : order.reverse()) {
    results.get(name)?.push(await measure(op, inFlight));
  }
}
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};
const verified = await log.verify();
console.log(
  `@prod/audit record() to PostgreSQL: ${rounds} rounds x ${duration} ms, ${os.cpus().length} cores, load ${os.loadavg()[0]?.toFixed(1)}; chain verified: ${verified.ok && verified.value.ok}`,
);
console.log('| contender | records/s (median) | min - max |\n| --- | ---: | ---: |');
for (const [name, values] of results) {
  console.log(
    `| ${name} | ${Math.round(median(values))} | ${Math.round(Math.min(...values))} - ${Math.round(Math.max(...values))} |`,
  );
}
for (const load of ['1 caller', '64 in flight']) {
  const ours = results.get(`record(), ${load}`) as number[];
  const plain = results.get(`plain INSERT, ${load}`) as number[];
  const perRound = ours.map((value, i) => value / (plain[i] as number));
  console.log(
    `record() / plain INSERT, ${load}: ${(median(ours) / median(plain)).toFixed(2)}x (per round ${Math.min(...perRound).toFixed(2)} - ${Math.max(...perRound).toFixed(2)})`,
  );
}
await log.close();
await pool.end();
await admin.query(`DROP SCHEMA ${schema} CASCADE`);
await admin.end();
