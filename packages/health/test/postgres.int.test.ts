import { PGlite } from '@electric-sql/pglite';
import {
  type CheckResult,
  createHealth,
  type Health,
  postgresCheck,
  postgresPoolCheck,
} from '@prod/health';
import { postgresTestDatabase } from '@prod/testing';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { blackHole } from './fixtures/tcp.js';

const database = await postgresTestDatabase();
afterAll(() => database.drop());

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function pool(config: pg.PoolConfig): pg.Pool {
  const p = new pg.Pool(config);
  p.on('error', () => {});
  cleanups.push(() => p.end().catch(() => {}));
  return p;
}

async function once(health: Health): Promise<CheckResult[]> {
  cleanups.push(() => health.stop());
  return [...(await health.report('readiness')).checks];
}

describe.skipIf(!database.available)(
  'postgresCheck against real PostgreSQL (skipped: not reachable)',
  () => {
    it('passes with the SELECT 1 latency and the pool counters', async () => {
      const p = pool({ connectionString: database.url, max: 4 });
      const [result] = await once(createHealth({ checks: [postgresCheck(p, { timeout: 5000 })] }));
      expect(result).toMatchObject({
        key: 'postgres:responseTime',
        status: 'pass',
        componentType: 'datastore',
        observedUnit: 'ms',
      });
      expect(result?.output).toMatch(/^pool \d\/4 busy, 0 waiting$/);
    });

    it('reports a saturated pool as warn without queueing behind it', async () => {
      const p = pool({ connectionString: database.url, max: 1 });
      const held = await p.connect();
      const waiting = p.query('SELECT 1');
      try {
        const [latency, utilization] = await once(
          createHealth({ checks: [postgresCheck(p, { timeout: 5000 }), postgresPoolCheck(p)] }),
        );
        expect(latency).toMatchObject({
          status: 'warn',
          observedValue: 100,
          observedUnit: 'percent',
        });
        expect(latency?.output).toBe('pool saturated: pool 1/1 busy, 1 waiting');
        expect(utilization).toMatchObject({
          key: 'postgres:utilization',
          status: 'warn',
          observedValue: 100,
        });
      } finally {
        held.release();
        await waiting;
      }
    });

    it('can fail on saturation instead', async () => {
      const p = pool({ connectionString: database.url, max: 1 });
      const held = await p.connect();
      const waiting = p.query('SELECT 1');
      try {
        const [result] = await once(
          createHealth({ checks: [postgresCheck(p, { saturation: 'fail', timeout: 5000 })] }),
        );
        expect(result?.status).toBe('fail');
      } finally {
        held.release();
        await waiting;
      }
    });

    it('fails once the pool has ended', async () => {
      const p = new pg.Pool({ connectionString: database.url });
      await p.end();
      const [result] = await once(createHealth({ checks: [postgresCheck(p)] }));
      expect(result).toMatchObject({ status: 'fail', output: 'database pool is closed' });
    });

    it('reports a server-side error (unknown database) as HEALTH_CHECK_FAILED', async () => {
      const p = pool({ connectionString: database.url.replace('/test', '/no_such_db_hunter2') });
      const [result] = await once(createHealth({ checks: [postgresCheck(p, { timeout: 3000 })] }));
      expect(result?.error?.code).toBe('HEALTH_CHECK_FAILED');
      expect(result?.output).toBeDefined();
    });
  },
);

describe('postgresCheck against unreachable servers', () => {
  it('fails on a port nothing listens on, without showing the connection string', async () => {
    const p = pool({ connectionString: 'postgres://app:hunter2@127.0.0.1:1/notes' });
    const health = createHealth({ checks: [postgresCheck(p, { timeout: 2000 })] });
    const [result] = await once(health);
    expect(result?.error?.code).toBe('HEALTH_CHECK_FAILED');
    const body = JSON.stringify((await health.response('readiness', { detail: true })).body);
    expect(body).not.toContain('hunter2');
    expect(body).not.toContain('postgres://');
  });

  it('fails with HEALTH_CHECK_TIMEOUT against a server that accepts and never answers', async () => {
    const hole = await blackHole();
    const p = new pg.Pool({ connectionString: `postgres://app@127.0.0.1:${hole.port}/notes` });
    p.on('error', () => {});
    const [result] = await once(createHealth({ checks: [postgresCheck(p, { timeout: 200 })] }));
    expect(result?.error?.code).toBe('HEALTH_CHECK_TIMEOUT');
    await hole.close();
    await p.end().catch(() => {});
  });

  it('postgresPoolCheck fails on something that is not a pool', async () => {
    const [result] = await once(
      createHealth({ checks: [postgresPoolCheck({ query: async () => ({}) })] }),
    );
    expect(result?.output).toBe('not a pg.Pool: no pool counters');
  });
});

describe('postgresCheck on PGlite', () => {
  it('passes on a live PGlite and fails once it is closed', async () => {
    const db = await PGlite.create();
    const health = createHealth({
      checks: [postgresCheck(db, { name: 'pglite', cacheTtl: 0, timeout: 5000 })],
    });
    const [result] = await once(health);
    expect(result).toMatchObject({ key: 'pglite:responseTime', status: 'pass' });
    expect(result?.output).toBeUndefined();
    await db.close();
    const [after] = (await health.report('readiness')).checks;
    expect(after?.status).toBe('fail');
  }, 90_000); // PGlite boots in seconds, more on a loaded machine
});
