import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEntry, MemorySink } from '@prod/audit';
import {
  API_KEY_FORMAT,
  composeService,
  loadConfig,
  type Service,
  type ServiceConfig,
} from 'example-notes-app';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

function configOf(env: Record<string, string>): ServiceConfig {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', ...env });
  if (!config.ok) throw config.error;
  return config.value;
}

async function compose(
  env: Record<string, string>,
): Promise<{ service: Service; lines: Record<string, unknown>[] }> {
  const lines: Record<string, unknown>[] = [];
  const composed = await composeService(configOf(env), {
    logDestination: {
      write(chunk: string) {
        for (const line of chunk.split('\n')) if (line !== '') lines.push(JSON.parse(line));
      },
    },
  });
  if (!composed.ok) throw composed.error;
  return { service: composed.value, lines };
}

describe('composeService: the configuration it logs', () => {
  it('logs every setting with its source at debug, secrets redacted', async () => {
    const { service, lines } = await compose({
      LOG_LEVEL: 'debug',
      NOTES_STORE: 'memory',
      DATABASE_URL: 'postgres://app:hunter2@db/notes',
      HEALTH_TOKEN: 'hunter2-hunter2-hunter2',
    });
    try {
      const line = lines.find((entry) => entry.msg === 'configuration');
      expect(line).toMatchObject({ module: 'config', level: 'debug', store: 'memory' });
      const table = String(line?.configuration);
      expect(table).toMatch(/^logLevel\s+"debug"\s+env:LOG_LEVEL\s+reloadable$/m);
      expect(table).toMatch(/^databaseUrl\s+\[REDACTED\]\s+env:DATABASE_URL\s+secret$/m);
      expect(table).toMatch(/^healthToken\s+\[REDACTED\]\s+env:HEALTH_TOKEN\s+secret$/m);
      expect(JSON.stringify(lines)).not.toContain('hunter2');
    } finally {
      await service.close();
    }
  });

  it('keeps it out of the log at info', async () => {
    const { service, lines } = await compose({});
    await service.close();
    expect(lines.find((entry) => entry.msg === 'configuration')).toBeUndefined();
  });
});

describe('composeService: NOTES_RUNTIME_CONFIG, reloadable settings from a watched file', () => {
  let folder: string;
  let path: string;
  // As editors and Kubernetes do: a new file renamed over the old one.
  const write = (values: unknown): void => {
    const next = join(folder, 'next.json');
    writeFileSync(next, typeof values === 'string' ? values : JSON.stringify(values));
    renameSync(next, path);
  };

  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'notes-runtime-'));
    path = join(folder, 'runtime.json');
  });
  afterEach(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  it('applies log levels and flags without a restart, and refuses what needs one, whole', async () => {
    write({ logLevel: 'info' });
    const { service, lines } = await compose({ NOTES_RUNTIME_CONFIG: path });
    const { settings } = service.config;
    const refusals = () => lines.filter((entry) => entry.msg === 'configuration update refused');
    try {
      expect(service.flags.isEnabled('notes.search')).toBe(false);
      expect(service.logger.levelSpec()).toBe('info');

      write({ logLevel: 'warn,db=debug', flags: { 'notes.search': { defaultVariant: 'on' } } });
      await vi.waitFor(() => expect(service.flags.isEnabled('notes.search')).toBe(true));
      expect(service.logger.levelSpec()).toBe('warn,db=debug');
      expect(settings.sourceOf('logLevel')).toBe(`file:${path}`);
      expect(settings.sourceOf('flags')).toBe(`file:${path}`);

      // `port` is not reloadable: nothing of this change applies, the refusal is logged.
      write({ logLevel: 'error', port: 8080, flags: {} });
      await vi.waitFor(() => expect(refusals()).toHaveLength(1));
      expect(refusals()[0]).toMatchObject({
        module: 'config',
        err: { code: 'CONFIG_RESTART_REQUIRED' },
      });
      expect(service.flags.isEnabled('notes.search')).toBe(true);
      expect(service.logger.levelSpec()).toBe('warn,db=debug');
      expect(settings.value.port).toBe(0);

      // Malformed, or invalid for the schema: reported, the configuration kept.
      write('{"logLevel": ');
      write({ logLevel: 'loud' });
      await vi.waitFor(() => expect(refusals().length).toBeGreaterThanOrEqual(2));
      expect(service.logger.levelSpec()).toBe('warn,db=debug');

      // Back to plain info: the module level of the old spec goes too.
      write({ logLevel: 'info' });
      await vi.waitFor(() => expect(service.logger.levelSpec()).toBe('info'));
      expect(service.flags.isEnabled('notes.search')).toBe(false);
    } finally {
      await service.close();
    }
    // Closed: the file is no longer watched.
    write({ logLevel: 'debug' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(service.logger.levelSpec()).toBe('info');
  });

  it('does not start when the file cannot be read: CONFIG_SOURCE_FAILED', async () => {
    const composed = await composeService(configOf({ NOTES_RUNTIME_CONFIG: path }), {
      logDestination: { write: () => true },
    });
    expect(!composed.ok && composed.error.code).toBe('CONFIG_SOURCE_FAILED');
  });
});

describe('composeService: keys, the audit log, the cache and the limiter', () => {
  const KEYS = {
    NOTES_KEYS: JSON.stringify([{ id: 9, key: 'q'.repeat(43), status: 'primary' }]),
    AUDIT_SIGNING_KEY: 'an-audit-signing-key-of-32-characters',
    API_KEY_SECRET: 'an-api-key-secret-of-32-characters!',
  };
  const warnings = (lines: Record<string, unknown>[]) =>
    lines.filter((line) => line.level === 'warn' && line.module === 'config');

  it('warns once, naming the three, when it runs on ephemeral keys; not when they are configured', async () => {
    const ephemeral = await compose({});
    await ephemeral.service.close();
    expect(warnings(ephemeral.lines)).toHaveLength(1);
    expect(warnings(ephemeral.lines)[0]).toMatchObject({
      ephemeral: ['NOTES_KEYS', 'AUDIT_SIGNING_KEY', 'API_KEY_SECRET'],
      msg: expect.stringMatching(
        /^NOTES_KEYS, AUDIT_SIGNING_KEY and API_KEY_SECRET unset: using ephemeral keys/,
      ),
    });
    const configured = await compose(KEYS);
    await configured.service.close();
    expect(warnings(configured.lines)).toEqual([]);
    expect(JSON.stringify(configured.lines)).not.toContain('qqqqqqqq');
  });

  it('keeps a signed audit chain on the memory store that verify() checks, tampering named', async () => {
    const { service } = await compose(KEYS);
    try {
      for (const id of ['n1', 'n2', 'n3']) {
        const recorded = await service.audit.record({
          action: 'note.update',
          resource: { type: 'note', id },
        });
        expect(recorded.ok).toBe(true);
      }
      expect((await service.audit.checkpoint()).ok).toBe(true);
      const clean = await service.audit.verify();
      expect(clean.ok && clean.value).toMatchObject({ ok: true, records: 4, issues: [] });

      const records = (service.auditSink as MemorySink).records;
      const second = records[1] as AuditEntry;
      records[1] = { ...second, resource: { type: 'note', id: 'someone-else' } };
      const tampered = await service.audit.verify();
      expect(tampered.ok && tampered.value.ok).toBe(false);
      expect(tampered.ok && tampered.value.issues.map((issue) => [issue.kind, issue.seq])).toEqual([
        ['modified', 2],
      ]);
    } finally {
      await service.close();
    }
  });

  it('closes the rate limiter, the cache and the audit log before Redis and the store', async () => {
    const { service } = await compose({});
    await service.close();
    // Hooks run newest first.
    expect(service.hooks.map((hook) => hook.name)).toEqual([
      'logger',
      'tracing',
      'errors',
      'config',
      'api-keys',
      'audit',
      'cache',
      'ratelimit',
      'queue',
      'flags',
    ]);
  });
});

describe('composeService: the API keys for writes', () => {
  const KEYS = {
    NOTES_KEYS: JSON.stringify([{ id: 9, key: 'q'.repeat(43), status: 'primary' }]),
    AUDIT_SIGNING_KEY: 'an-audit-signing-key-of-32-characters',
    API_KEY_SECRET: 'an-api-key-secret-of-32-characters!',
  };

  it('issues a demo key at start without NOTES_API_KEY: notes:write and queues:read, tier free, the demo owner', async () => {
    const { service, lines } = await compose({});
    try {
      const key = service.demoApiKey ?? '';
      expect(API_KEY_FORMAT.parse(key).ok).toBe(true);
      const actor = await service.apiKeys.verify(key);
      expect(actor.ok && actor.value).toMatchObject({
        id: 'demo',
        type: 'api-key',
        scopes: ['notes:write', 'queues:read'],
        tier: 'free',
      });
      // Shown once, in the start banner: never in a log line.
      expect(JSON.stringify(lines)).not.toContain(key);
    } finally {
      await service.close();
    }
    // Each start has its own: the keys of a memory store die with the process.
    const again = await compose({});
    try {
      expect(again.service.demoApiKey).not.toBe(service.demoApiKey);
    } finally {
      await again.service.close();
    }
  });

  it('registers NOTES_API_KEY instead, and issues none', async () => {
    const token = API_KEY_FORMAT.generate().token;
    const { service, lines } = await compose({ NOTES_API_KEY: token });
    try {
      expect(service.demoApiKey).toBeUndefined();
      const actor = await service.apiKeys.verify(token);
      expect(actor.ok && actor.value).toMatchObject({
        id: 'operator',
        scopes: ['notes:write', 'queues:read'],
      });
      expect(JSON.stringify(lines)).not.toContain(token);
    } finally {
      await service.close();
    }
  });

  it('issues no demo key in production: a key printed into collected logs would be leaked', async () => {
    const { service } = await compose({ NODE_ENV: 'production', ...KEYS });
    try {
      expect(service.demoApiKey).toBeUndefined();
    } finally {
      await service.close();
    }
  });

  it('mounts the security parts first and the auth part before audit and limits', async () => {
    const { service } = await compose({});
    try {
      expect(service.parts.map((part) => part.name)).toEqual([
        'security-headers',
        'cors',
        'tracing',
        'request-logging',
        'metrics',
        'health',
        'auth',
        'audit',
        'ratelimit',
        'http-cache',
        'notes',
        '@prod/queue',
        'errors',
      ]);
    } finally {
      await service.close();
    }
  });
});

describe('composeService: the notes.created job', () => {
  const announced = (lines: Record<string, unknown>[], id: string) =>
    lines.find((line) => line.module === 'jobs' && line.noteId === id);

  it('enqueues it right after a note is created on the memory store, and the job reads the note', async () => {
    const { service, lines } = await compose({});
    try {
      expect(service.outbox).toBeUndefined();
      const created = await service.store.create({ title: 'in memory', body: 'b' });
      if (!created.ok) throw created.error;
      await vi.waitFor(() =>
        expect(announced(lines, created.value.id)).toMatchObject({ msg: 'note announced' }),
      );
      const counts = await service.queue.counts();
      expect(counts.ok && counts.value['notes.created']).toMatchObject({ completed: 1 });
    } finally {
      await service.close();
    }
  });

  it('writes it in the note transaction on PGlite: relayed once committed, neither written when the job cannot be', async () => {
    const { service, lines } = await compose({ NOTES_STORE: 'pglite' });
    try {
      const { database, outbox } = service;
      if (database === undefined || outbox === undefined) throw new Error('no outbox on pglite');
      const created = await service.store.create({ title: 'in a transaction', body: 'b' });
      if (!created.ok) throw created.error;
      await vi.waitFor(() =>
        expect(announced(lines, created.value.id)).toMatchObject({ msg: 'note announced' }),
      );
      const pending = await outbox.pending();
      expect(pending.ok && pending.value).toBe(0);

      // Without the outbox table the job cannot be written: the note rolls back with it.
      await database.query('ALTER TABLE prod_queue_outbox RENAME TO prod_queue_outbox_away');
      const before = await database.query('SELECT count(*)::int AS n FROM notes');
      const refused = await service.store.create({ title: 'rolled back', body: 'b' });
      expect(refused.ok).toBe(false);
      expect(!refused.ok && refused.error.code).toBe('QUEUE_OUTBOX_FAILED');
      const after = await database.query('SELECT count(*)::int AS n FROM notes');
      expect(after.rows).toEqual(before.rows);
      await database.query('ALTER TABLE prod_queue_outbox_away RENAME TO prod_queue_outbox');
      expect(service.hooks.map((hook) => hook.name).slice(-3)).toEqual([
        'queue',
        'outbox',
        'flags',
      ]);
    } finally {
      await service.close();
    }
  }, 60_000);

  it('refuses a payload its schema does not take, so nothing is enqueued', async () => {
    const { service } = await compose({});
    try {
      const refused = await service.queue.enqueue('notes.created', { id: 'not-a-uuid' });
      expect(!refused.ok && refused.error.code).toBe('JOB_PAYLOAD_INVALID');
      const counts = await service.queue.counts();
      expect(counts.ok && counts.value['notes.created']).toMatchObject({
        waiting: 0,
        active: 0,
        completed: 0,
      });
    } finally {
      await service.close();
    }
  });
});
