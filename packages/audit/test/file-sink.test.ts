import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuditLog, fileSink, verifyRecords } from '@prod/audit';
import { afterAll, describe, expect, it } from 'vitest';

const KEY = 'audit-signing-key-of-at-least-32-bytes!';
const dir = mkdtempSync(join(tmpdir(), 'prod-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CLI = join(import.meta.dirname, '..', 'src', 'bin', 'prod-audit.ts');
function cli(
  args: string[],
  env: Record<string, string> = {},
): { status: number | null; stdout: string; stderr: string } {
  const done = spawnSync(
    process.execPath,
    ['--conditions=@prod/source', '--import', 'tsx', CLI, ...args],
    {
      encoding: 'utf8',
      env: { ...process.env, ...env, PROD_AUDIT_KEY: env.PROD_AUDIT_KEY ?? '' },
      cwd: join(import.meta.dirname, '..'),
    },
  );
  return { status: done.status, stdout: done.stdout, stderr: done.stderr };
}

describe('fileSink', () => {
  it('appends JSON lines, flushed before record() resolves, and continues the chain after a restart', async () => {
    const path = join(dir, 'nested', 'audit.jsonl');
    const first = createAuditLog({
      sink: fileSink({ path }),
      signingKey: KEY,
      checkpointEvery: 10,
      checkpointInterval: 0,
    });
    for (let i = 0; i < 15; i++) {
      const recorded = await first.record({
        action: 'file.write',
        details: { i, text: 'é'.repeat(i * 5000) },
      });
      expect(recorded.ok).toBe(true);
      // On disk already: another reader sees the line.
      expect(readFileSync(path, 'utf8').trimEnd().split('\n').length).toBeGreaterThanOrEqual(i + 1);
    }
    const sink = fileSink({ path });
    const second = createAuditLog({
      sink,
      signingKey: KEY,
      checkpointEvery: 10,
      checkpointInterval: 0,
    });
    const next = await second.record({ action: 'file.write', details: { after: 'restart' } });
    expect(next.ok && next.value.seq).toBe(17); // 15 events + 1 checkpoint before it
    await second.close();
    const report = await second.verify();
    expect(report).toMatchObject({ ok: true, value: { ok: true, records: 18 } });
    await sink.close?.();
  });

  it('starts a fresh line after a line cut by a crash, and the verifier reports the cut line', async () => {
    const path = join(dir, 'crashed.jsonl');
    const log = createAuditLog({
      sink: fileSink({ path }),
      signingKey: KEY,
      checkpointInterval: 0,
    });
    await log.record({ action: 'before.crash' });
    writeFileSync(path, `${readFileSync(path, 'utf8')}{"v":1,"chain":"def`);
    const resumed = createAuditLog({
      sink: fileSink({ path }),
      signingKey: KEY,
      checkpointInterval: 0,
    });
    expect((await resumed.record({ action: 'after.crash' })).ok).toBe(true);
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    const report = await verifyRecords(lines, { keys: [KEY] });
    expect(report.issues.map((issue) => [issue.kind, issue.position])).toEqual([['malformed', 1]]);
  });
});

describe('prod-audit verify', () => {
  it('exits 0 for a valid file, 1 with the exact issues for a tampered one, 2 for usage errors', async () => {
    const path = join(dir, 'cli.jsonl');
    const sink = fileSink({ path });
    const log = createAuditLog({
      sink,
      signingKey: KEY,
      checkpointEvery: 10,
      checkpointInterval: 0,
    });
    for (let i = 0; i < 12; i++) await log.record({ action: 'cli.test' });
    await log.close();
    await sink.close?.();

    const valid = cli(['verify', path], { PROD_AUDIT_KEY: KEY });
    expect([valid.status, valid.stdout]).toEqual([
      0,
      expect.stringContaining('OK: 14 records verified'),
    ]);

    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    const edited = JSON.parse(lines[4] as string) as Record<string, unknown>;
    edited.action = 'cli.forged';
    lines[4] = JSON.stringify(edited);
    const tampered = join(dir, 'tampered.jsonl');
    writeFileSync(tampered, `${lines.join('\n')}\n`);
    const caught = cli(['verify', tampered], { PROD_AUDIT_KEY: KEY });
    expect(caught.status).toBe(1);
    expect(caught.stdout).toContain('MODIFIED default seq 5 (line 5)');
    expect(caught.stdout).toContain('TAMPERED: 1 issues');

    const json = cli(['verify', tampered, '--json'], { PROD_AUDIT_KEY: KEY });
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: false,
      issues: [{ kind: 'modified', seq: 5 }],
    });

    const noKey = cli(['verify', path]);
    expect([noKey.status, noKey.stdout]).toEqual([
      0,
      expect.stringContaining('signatures were not checked'),
    ]);
    const wrongKey = cli(['verify', path], { PROD_AUDIT_KEY: 'x'.repeat(40) });
    expect(wrongKey.status).toBe(1);

    expect(cli(['verify']).status).toBe(2);
    expect(cli(['frobnicate']).status).toBe(2);
    expect(cli(['verify', join(dir, 'missing.jsonl')]).status).toBe(2);
    expect(cli(['--help'])).toMatchObject({
      status: 0,
      stdout: expect.stringContaining('usage: prod-audit verify'),
    });
  }, 30_000);
});
