import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  type AuditCheckpoint,
  applyAuditMigration,
  createAuditLog,
  postgresSink,
  verifyRecords,
} from '@prod/audit';
import { postgresTestDatabase, spawnFixture, stopFixtures } from '@prod/testing';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectSameRecords, writeAndReadBack } from './fixtures/read-back.js';

const KEY = 'audit-signing-key-of-at-least-32-bytes!';
const database = await postgresTestDatabase();
const role = `audit_writer_${randomBytes(4).toString('hex')}`;
let pool: pg.Pool;

beforeAll(async () => {
  if (!database.available) return;
  pool = new pg.Pool({ connectionString: database.url, max: 6 });
  await pool.query(`CREATE ROLE ${role} NOLOGIN`);
  await pool.query(`GRANT USAGE ON SCHEMA "${database.schema}" TO ${role}`);
});

afterEach(stopFixtures);

afterAll(async () => {
  if (!database.available) return;
  await pool.query(`DROP OWNED BY ${role}`).catch(() => undefined);
  await pool.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
  await pool.end();
  await database.drop();
});

const WRITER = join(import.meta.dirname, 'fixtures', 'writer.ts');

describe.skipIf(!database.available)('PostgreSQL sink (skipped: PostgreSQL not reachable)', () => {
  it('migrates idempotently, even from several callers at once', async () => {
    const results = await Promise.all([
      applyAuditMigration(pool),
      applyAuditMigration(pool),
      applyAuditMigration(pool, { writerRole: role }),
    ]);
    expect(results.every((result) => result.ok)).toBe(true);
    expect((await applyAuditMigration(pool, { writerRole: role })).ok).toBe(true);
    const columns = await pool.query(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'audit_log' ORDER BY ordinal_position`,
      [database.schema],
    );
    expect(columns.rows.map((row) => row.column_name)).toEqual([
      'chain',
      'seq',
      'kind',
      'recorded_at',
      'action',
      'actor_id',
      'outcome',
      'resource_type',
      'resource_id',
      'hash',
      'body',
    ]);
  });

  it('the writer role can insert and read but not UPDATE, DELETE or TRUNCATE; the trigger stops the owner too', async () => {
    const writer = new pg.Client({ connectionString: database.url });
    await writer.connect();
    try {
      await writer.query(`SET ROLE ${role}`);
      const log = createAuditLog({
        sink: postgresSink({ db: writer }),
        signingKey: KEY,
        chain: 'roles',
        checkpointInterval: 0,
      });
      const recorded = await log.record({ action: 'role.check' });
      expect(recorded.ok).toBe(true);
      for (const statement of [
        'UPDATE audit_log SET action = $1',
        'DELETE FROM audit_log WHERE action = $1',
        'TRUNCATE audit_log',
      ]) {
        const failed = await writer
          .query(statement, statement.includes('$1') ? ['x'] : undefined)
          .then(
            () => undefined,
            (error: { code?: string }) => error.code,
          );
        expect([statement, failed]).toEqual([statement, '42501']);
      }
    } finally {
      await writer.end();
    }
    const owner = await pool.query('UPDATE audit_log SET action = $1', ['x']).then(
      () => 'updated',
      (error: Error) => error.message,
    );
    expect(owner).toContain('append-only');
    const truncated = await pool.query('TRUNCATE audit_log').then(
      () => 'truncated',
      (error: Error) => error.message,
    );
    expect(truncated).toContain('append-only');
  });

  it('a record is committed before record() resolves: another connection sees it', async () => {
    const log = createAuditLog({
      sink: postgresSink({ db: pool }),
      signingKey: KEY,
      chain: 'durable',
      checkpointInterval: 0,
    });
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    try {
      for (let i = 0; i < 5; i++) {
        const recorded = await log.record({ action: 'durable.write', details: { i } });
        if (!recorded.ok) throw recorded.error;
        const seen = await other.query(
          'SELECT action, actor_id, hash FROM audit_log WHERE chain = $1 AND seq = $2',
          ['durable', recorded.value.seq],
        );
        expect(seen.rows).toEqual([
          { action: 'durable.write', actor_id: null, hash: recorded.value.hash },
        ]);
      }
    } finally {
      await other.end();
    }
  });

  it('several processes writing one chain keep one valid chain', async () => {
    const chain = 'concurrent';
    const writers = 4;
    const perWriter = 60;
    const started = Array.from({ length: writers }, (_, id) =>
      spawnFixture(WRITER, {
        args: [database.url, chain, String(perWriter), KEY, String(id)],
        conditions: ['@prod/source'],
        cwd: join(import.meta.dirname, '..'),
        stdin: true,
      }),
    );
    // All connected before any writes: a slow start would otherwise serialise them.
    await Promise.all(started.map((writer) => writer.waitForLine('ready')));
    for (const writer of started) writer.end('go\n');
    const results = await Promise.all(started.map((writer) => writer.exited));
    expect(results.map((result) => [result.code, result.stdout])).toEqual(
      Array.from({ length: writers }, () => [0, 'ready\n{"failed":0}']),
    );
    const rows = await pool.query(
      'SELECT seq, kind, actor_id FROM audit_log WHERE chain = $1 ORDER BY seq',
      [chain],
    );
    const events = rows.rows.filter((row) => row.kind === 'event');
    expect(events.length).toBe(writers * perWriter);
    expect(rows.rows.map((row) => Number(row.seq))).toEqual(rows.rows.map((_, i) => i + 1));
    expect(new Set(events.map((row) => row.actor_id)).size).toBe(writers);
    // The writers really overlapped: writers that ran one after another switch exactly
    // writers - 1 times; interleaved records switch more often.
    const switches = events.filter(
      (row, i) => i > 0 && row.actor_id !== events[i - 1]?.actor_id,
    ).length;
    expect(switches).toBeGreaterThan(writers);
    const log = createAuditLog({
      sink: postgresSink({ db: pool }),
      signingKey: KEY,
      chain,
      checkpointInterval: 0,
    });
    const report = await log.verify();
    expect(report).toMatchObject({ ok: true, value: { ok: true, issues: [] } });
    if (report.ok)
      expect(report.value.chains[0]?.checkpoints).toBeGreaterThanOrEqual(
        Math.floor((writers * perWriter) / 25),
      );
  }, 60_000);

  it('reports rows changed or removed behind its back (the trigger disabled by the owner)', async () => {
    const chain = 'tampered';
    const log = createAuditLog({
      sink: postgresSink({ db: pool }),
      signingKey: KEY,
      chain,
      checkpointEvery: 10,
      checkpointInterval: 0,
    });
    for (let i = 0; i < 15; i++) await log.record({ action: 'doc.update', details: { i } });
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('ALTER TABLE audit_log DISABLE TRIGGER USER');
      await client.query(
        `UPDATE audit_log SET body = replace(body, '"doc.update"', '"doc.read"') WHERE chain = $1 AND seq = 5`,
        [chain],
      );
      await client.query('DELETE FROM audit_log WHERE chain = $1 AND seq IN (8, 14)', [chain]);
      await client.query('ALTER TABLE audit_log ENABLE TRIGGER USER');
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    const report = await log.verify();
    expect(report.ok && report.value.issues.map((issue) => [issue.kind, issue.seq])).toEqual([
      ['modified', 5],
      ['deleted', 8],
      ['deleted', 14],
    ]);
    const checkpoints = await pool.query(
      `SELECT body FROM audit_log WHERE chain = $1 AND kind = 'checkpoint'`,
      [chain],
    );
    expect((JSON.parse(checkpoints.rows[0].body) as AuditCheckpoint).digests).toHaveLength(10);
    const exported = await pool.query('SELECT body FROM audit_log WHERE chain = $1 ORDER BY seq', [
      chain,
    ]);
    expect(
      (
        await verifyRecords(
          exported.rows.map((row) => row.body as string),
          { keys: [KEY] },
        )
      ).ok,
    ).toBe(false);
  });

  it('read(chain) gives the record objects, not the stored JSON text; a body that is no record is skipped there and reported by verify()', async () => {
    const sink = postgresSink({ db: pool, pageSize: 10 });
    const result = await writeAndReadBack(sink, 'read-back');
    expectSameRecords(result, 'read-back');
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('ALTER TABLE audit_log DISABLE TRIGGER USER');
      await client.query(`UPDATE audit_log SET body = '{"v":1,"cha' WHERE chain = $1 AND seq = 3`, [
        'read-back',
      ]);
      await client.query('ALTER TABLE audit_log ENABLE TRIGGER USER');
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    const read = [];
    for await (const record of sink.read?.('read-back') ?? []) read.push(record.seq);
    expect(read).toEqual(result.read.map((_, i) => i + 1).filter((seq) => seq !== 3));
    const log = createAuditLog({
      sink,
      signingKey: KEY,
      chain: 'read-back',
      checkpointInterval: 0,
    });
    const report = await log.verify();
    expect(
      report.ok && report.value.issues.map((issue) => [issue.kind, issue.seq, issue.position]),
    ).toEqual([
      ['malformed', undefined, 2],
      ['deleted', 3, undefined],
    ]);
  });

  it('a database that is down gives AUDIT_SINK_FAILED, retryable', async () => {
    const down = new pg.Pool({
      connectionString: 'postgres://postgres@127.0.0.1:1/test',
      connectionTimeoutMillis: 500,
    });
    const log = createAuditLog({
      sink: postgresSink({ db: down }),
      signingKey: KEY,
      checkpointInterval: 0,
      onError: () => {},
    });
    const result = await log.record({ action: 'unreachable' });
    expect(!result.ok && [result.error.code, result.error.retryable]).toEqual([
      'AUDIT_SINK_FAILED',
      true,
    ]);
    await down.end();
  });
});
