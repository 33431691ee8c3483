import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { isSecret } from '@prod/config';
import { API_KEY_FORMAT, loadConfig, type ServiceConfig } from 'example-notes-app';
import { describe, expect, it } from 'vitest';

const load = (env: Record<string, string>): ServiceConfig => {
  const config = loadConfig(env);
  if (!config.ok) throw config.error;
  return config.value;
};

const fail = (env: Record<string, string>) => {
  const config = loadConfig(env);
  if (config.ok) throw new Error('expected an invalid configuration');
  return config.error;
};

const values = ({ settings: _settings, ...rest }: ServiceConfig) => ({
  ...rest,
  databaseUrl: rest.databaseUrl?.reveal(),
  redisUrl: rest.redisUrl?.reveal(),
  healthToken: rest.healthToken?.reveal(),
  notesKeys: rest.notesKeys?.reveal(),
  auditSigningKey: rest.auditSigningKey?.reveal(),
  apiKeySecret: rest.apiKeySecret?.reveal(),
  apiKey: rest.apiKey?.reveal(),
});

const KEYRING = JSON.stringify([{ id: 7, key: 'k'.repeat(43), status: 'primary' }]);
const SIGNING_KEY = 'an-audit-signing-key-of-32-characters';
const API_SECRET = 'an-api-key-secret-of-32-characters!';
/** What a store that outlives the process needs, and production. */
const KEYS = { NOTES_KEYS: KEYRING, AUDIT_SIGNING_KEY: SIGNING_KEY, API_KEY_SECRET: API_SECRET };

describe('loadConfig', () => {
  it('runs on embedded defaults with an empty environment', () => {
    const config = load({});
    expect(values(config)).toEqual({
      serviceName: 'notes',
      port: 3000,
      host: '0.0.0.0',
      logLevel: 'info',
      store: 'memory',
      databaseUrl: undefined,
      redisUrl: undefined,
      redisKeyPrefix: '',
      otlpEndpoint: undefined,
      healthToken: undefined,
      notesKeys: undefined,
      auditSigningKey: undefined,
      apiKeySecret: undefined,
      apiKey: undefined,
      corsOrigins: '*',
      slowQueryMs: 200,
      writeLimit: 60,
      runtimeFile: undefined,
    });
    expect(config.settings.profile).toBe('development');
    expect(config.settings.value.flags).toEqual({});
    expect(config.settings.sourceOf('port')).toBe('default');
  });

  it('reads every variable, and treats empty ones as unset', () => {
    const apiKey = API_KEY_FORMAT.generate().token;
    const config = load({
      SERVICE_NAME: 'notes-eu',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info,cache=debug',
      DATABASE_URL: 'postgresql://app@db:5432/notes',
      REDIS_URL: 'rediss://cache:6380',
      REDIS_KEY_PREFIX: 'eu:',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      HEALTH_TOKEN: 'a-long-enough-token',
      ...KEYS,
      NOTES_API_KEY: apiKey,
      CORS_ORIGINS: ' https://app.example.com, https://*.example.org ',
      DB_SLOW_QUERY_MS: '50',
      NOTES_WRITE_LIMIT: '5',
      NOTES_RUNTIME_CONFIG: '/etc/notes/runtime.yaml',
      UNRELATED: 'ignored',
    });
    expect(values(config)).toEqual({
      serviceName: 'notes-eu',
      port: 0,
      host: '127.0.0.1',
      logLevel: 'info,cache=debug',
      store: 'postgres',
      databaseUrl: 'postgresql://app@db:5432/notes',
      redisUrl: 'rediss://cache:6380',
      redisKeyPrefix: 'eu:',
      otlpEndpoint: 'http://collector:4318',
      healthToken: 'a-long-enough-token',
      notesKeys: KEYRING,
      auditSigningKey: SIGNING_KEY,
      apiKeySecret: API_SECRET,
      apiKey,
      corsOrigins: ['https://app.example.com', 'https://*.example.org'],
      slowQueryMs: 50,
      writeLimit: 5,
      runtimeFile: '/etc/notes/runtime.yaml',
    });
    expect(config.settings.sourceOf('port')).toBe('env:PORT');
    const empty = load({ PORT: '', DATABASE_URL: '', LOG_LEVEL: '' });
    expect([empty.port, empty.store, empty.logLevel]).toEqual([3000, 'memory', 'info']);
  });

  it('keeps the URLs, the token and the keys as secrets: redacted in every rendering, revealed on demand', () => {
    const apiKey = API_KEY_FORMAT.generate().token;
    const keyring = JSON.stringify([{ id: 7, key: `hunter2${'k'.repeat(36)}`, status: 'primary' }]);
    const config = load({
      DATABASE_URL: 'postgres://app:hunter2@db/notes',
      REDIS_URL: 'redis://:hunter2@cache:6379',
      HEALTH_TOKEN: 'hunter2-hunter2-hunter2',
      NOTES_KEYS: keyring,
      AUDIT_SIGNING_KEY: 'hunter2-hunter2-hunter2-hunter2-hunter2',
      API_KEY_SECRET: 'hunter2-hunter2-hunter2-hunter2-hunter2',
      NOTES_API_KEY: apiKey,
    });
    for (const value of [
      config.databaseUrl,
      config.redisUrl,
      config.healthToken,
      config.notesKeys,
      config.auditSigningKey,
      config.apiKeySecret,
      config.apiKey,
    ]) {
      expect(isSecret(value)).toBe(true);
      expect(`${value}`).toBe('[REDACTED]');
    }
    const renderings = [
      config.settings.describe(),
      JSON.stringify(config),
      JSON.stringify(config.settings),
      inspect(config, { depth: 8 }),
    ];
    for (const text of renderings) {
      expect(text).not.toContain('hunter2');
      expect(text).not.toContain(apiKey);
    }
    expect(config.databaseUrl?.reveal()).toBe('postgres://app:hunter2@db/notes');
    expect(config.notesKeys?.reveal()).toBe(keyring);
    expect(config.settings.secretKeys).toEqual([
      'databaseUrl',
      'redisUrl',
      'healthToken',
      'notesKeys',
      'auditSigningKey',
      'apiKeySecret',
      'apiKey',
    ]);
    expect(config.apiKey?.reveal()).toBe(apiKey);
  });

  it('describes every setting with its variable, value, source and kind', () => {
    const { settings } = load({ PORT: '8080', HEALTH_TOKEN: 'a-long-enough-token' });
    const text = settings.describe();
    expect(text.split('\n')[0]).toBe('configuration (profile: development)');
    expect(text).toMatch(/^port\s+8080\s+env:PORT$/m);
    expect(text).toMatch(/^host\s+"0\.0\.0\.0"\s+default$/m);
    expect(text).toMatch(/^healthToken\s+\[REDACTED\]\s+env:HEALTH_TOKEN\s+secret$/m);
    expect(text).toMatch(/^logLevel\s+"info"\s+default\s+reloadable$/m);
    expect(settings.entries().map((entry) => entry.env)).toEqual([
      'SERVICE_NAME',
      'PORT',
      'HOST',
      'LOG_LEVEL',
      'NOTES_STORE',
      'DATABASE_URL',
      'REDIS_URL',
      'REDIS_KEY_PREFIX',
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'HEALTH_TOKEN',
      'NOTES_KEYS',
      'AUDIT_SIGNING_KEY',
      'API_KEY_SECRET',
      'NOTES_API_KEY',
      'CORS_ORIGINS',
      'DB_SLOW_QUERY_MS',
      'NOTES_WRITE_LIMIT',
      'NOTES_FLAGS',
      'NOTES_RUNTIME_CONFIG',
    ]);
    expect(settings.reloadableKeys).toEqual(['logLevel', 'flags']);
  });

  it('reads a secret from <NAME>_FILE, as Docker and Kubernetes mount them', () => {
    const folder = mkdtempSync(join(tmpdir(), 'notes-config-'));
    try {
      const path = join(folder, 'database-url');
      writeFileSync(path, 'postgres://app:from-a-file@db/notes\n');
      const config = load({ DATABASE_URL_FILE: path, ...KEYS });
      expect(config.databaseUrl?.reveal()).toBe('postgres://app:from-a-file@db/notes');
      expect(config.store).toBe('postgres');
      expect(config.settings.sourceOf('databaseUrl')).toBe(`env:DATABASE_URL_FILE (${path})`);
      // Both at once is a mistake, not a silent choice.
      expect(
        fail({ DATABASE_URL: 'postgres://db/x', DATABASE_URL_FILE: path, ...KEYS }).errors,
      ).toEqual([expect.objectContaining({ path: 'databaseUrl' })]);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('lets NOTES_STORE choose memory even with a database configured', () => {
    expect(load({ NOTES_STORE: 'memory', DATABASE_URL: 'postgres://db/notes' }).store).toBe(
      'memory',
    );
  });

  it('reads flag definitions from NOTES_FLAGS (JSON)', () => {
    const config = load({ NOTES_FLAGS: '{"notes.search":{"defaultVariant":"on"}}' });
    expect(config.settings.value.flags).toEqual({ 'notes.search': { defaultVariant: 'on' } });
    expect(config.settings.sourceOf('flags')).toBe('env:NOTES_FLAGS');
  });

  it.each([
    ['PORT', 'port', 'http'],
    ['PORT', 'port', '65536'],
    ['PORT', 'port', '-1'],
    ['PORT', 'port', '3000.5'],
    ['PORT', 'port', ' '],
    ['HOST', 'host', 'bad host'],
    ['LOG_LEVEL', 'logLevel', 'loud'],
    ['LOG_LEVEL', 'logLevel', 'info,info'],
    ['SERVICE_NAME', 'serviceName', 'notes service'],
    ['NOTES_STORE', 'store', 'sqlite'],
    ['DATABASE_URL', 'databaseUrl', 'not a url'],
    ['DATABASE_URL', 'databaseUrl', 'mysql://db/notes'],
    ['REDIS_URL', 'redisUrl', 'http://cache:6379'],
    ['REDIS_KEY_PREFIX', 'redisKeyPrefix', 'has space'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'otlpEndpoint', 'grpc://collector:4317'],
    ['HEALTH_TOKEN', 'healthToken', 'short'],
    ['NOTES_KEYS', 'notesKeys', 'not json'],
    ['NOTES_KEYS', 'notesKeys', '[]'],
    ['NOTES_KEYS', 'notesKeys', '[{"id":1,"key":"too-short","status":"primary"}]'],
    ['NOTES_KEYS', 'notesKeys', `[{"id":1,"key":"${'k'.repeat(43)}","status":"enabled"}]`],
    ['AUDIT_SIGNING_KEY', 'auditSigningKey', 'shorter-than-32-characters'],
    ['API_KEY_SECRET', 'apiKeySecret', 'shorter-than-32-characters'],
    ['NOTES_API_KEY', 'apiKey', 'not-a-key'],
    ['NOTES_API_KEY', 'apiKey', `prod_${'A'.repeat(38)}`],
    ['NOTES_API_KEY', 'apiKey', `notes_${'A'.repeat(38)}`],
    ['CORS_ORIGINS', 'corsOrigins', 'https://app.example.com/'],
    ['CORS_ORIGINS', 'corsOrigins', 'app.example.com'],
    ['CORS_ORIGINS', 'corsOrigins', 'https://APP.example.com'],
    ['CORS_ORIGINS', 'corsOrigins', ' , '],
    ['DB_SLOW_QUERY_MS', 'slowQueryMs', '-1'],
    ['DB_SLOW_QUERY_MS', 'slowQueryMs', 'slow'],
    ['NOTES_WRITE_LIMIT', 'writeLimit', '0'],
    ['NOTES_WRITE_LIMIT', 'writeLimit', '1.5'],
    ['NOTES_WRITE_LIMIT', 'writeLimit', 'many'],
    ['NOTES_FLAGS', 'flags', 'not json'],
    [
      'NOTES_FLAGS',
      'flags.notes.search.rules.0.rollout',
      '{"notes.search":{"rules":[{"rollout":150,"variant":"on"}]}}',
    ],
    ['NOTES_FLAGS', 'flags', '{"notes.serch":{"defaultVariant":"on"}}'],
  ])('refuses %s (key %s) set to %j with CONFIG_INVALID naming both', (name, key, value) => {
    const error = fail({ [name]: value });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.errors?.map((entry) => entry.path)).toEqual([key]);
    expect(error.message).toContain(`(from env:${name})`);
  });

  it('lists every problem at once, one line each, with its source and without secrets', () => {
    const error = fail({
      PORT: 'x',
      DATABASE_URL: 'mysql://root:hunter2@db/notes',
      REDIS_URL: 'tcp://:hunter2@cache',
    });
    expect(error.errors?.map((entry) => entry.path).sort()).toEqual([
      'databaseUrl',
      'port',
      'redisUrl',
    ]);
    expect(error.message.split('\n')).toEqual([
      'invalid configuration (3 problems):',
      '  - port: expected number, found "x" (from env:PORT)',
      '  - databaseUrl: expected a URL like postgres://user@host:5432/db, found [REDACTED] (from env:DATABASE_URL)',
      '  - redisUrl: expected a URL like redis://host:6379, found [REDACTED] (from env:REDIS_URL)',
    ]);
    expect(JSON.stringify(error.details)).not.toContain('hunter2');
  });

  it('needs DATABASE_URL for NOTES_STORE=postgres, in every profile', () => {
    for (const profile of ['development', 'test', 'production']) {
      const error = fail({ NOTES_STORE: 'postgres', NODE_ENV: profile, ...KEYS });
      expect(error.errors?.map((entry) => entry.path)).toEqual(['databaseUrl']);
      expect(error.message).toContain('a DATABASE_URL, required when NOTES_STORE=postgres');
    }
  });

  it('refuses NOTES_FLAGS beside REDIS_URL: the flags are in Redis then', () => {
    const error = fail({
      REDIS_URL: 'redis://cache:6379',
      NOTES_FLAGS: '{"notes.search":{"defaultVariant":"on"}}',
    });
    expect(error.errors?.map((entry) => entry.path)).toEqual(['flags']);
    expect(error.message).toContain('no NOTES_FLAGS while REDIS_URL is set');
  });

  it('takes the profile from NODE_ENV and refuses one it does not know', () => {
    expect(load({ NODE_ENV: 'production', ...KEYS }).settings.production).toBe(true);
    const error = fail({ NODE_ENV: 'prodution' });
    expect(error.message).toContain('profile: expected one of development, test, production');
  });

  it('needs NOTES_KEYS, AUDIT_SIGNING_KEY and API_KEY_SECRET in production, naming each, whatever the store', () => {
    for (const store of ['memory', 'pglite']) {
      const error = fail({ NODE_ENV: 'production', NOTES_STORE: store });
      expect(error.errors?.map((entry) => entry.path)).toEqual([
        'notesKeys',
        'auditSigningKey',
        'apiKeySecret',
      ]);
      expect(error.message).toContain('NOTES_KEYS, required in production');
      expect(error.message).toContain('AUDIT_SIGNING_KEY, required in production');
      expect(error.message).toContain('API_KEY_SECRET, required in production');
    }
    expect(
      fail({ NODE_ENV: 'production', NOTES_KEYS: KEYRING, API_KEY_SECRET: API_SECRET }).errors,
    ).toEqual([expect.objectContaining({ path: 'auditSigningKey' })]);
    // NOTES_API_KEY is not required: without it, production issues no demo key.
    expect(load({ NODE_ENV: 'production', ...KEYS }).apiKey).toBeUndefined();
  });

  it('needs them with NOTES_STORE=postgres in every profile, and nowhere else outside production', () => {
    for (const profile of ['development', 'test']) {
      const error = fail({ NODE_ENV: profile, DATABASE_URL: 'postgres://db/notes' });
      expect(error.errors?.map((entry) => entry.path)).toEqual([
        'notesKeys',
        'auditSigningKey',
        'apiKeySecret',
      ]);
      expect(error.message).toContain(
        'NOTES_KEYS, required with NOTES_STORE=postgres (an ephemeral key would not outlive a restart, the notes would)',
      );
      expect(error.message).toContain(
        'API_KEY_SECRET, required with NOTES_STORE=postgres (an ephemeral key would not outlive a restart, the API keys would)',
      );
      for (const store of ['memory', 'pglite']) {
        const config = load({ NODE_ENV: profile, NOTES_STORE: store });
        expect([config.notesKeys, config.auditSigningKey, config.apiKeySecret]).toEqual([
          undefined,
          undefined,
          undefined,
        ]);
      }
    }
  });

  it('says what is wrong with a keyring without showing any of it', () => {
    const material = 'm'.repeat(40);
    const error = fail({
      NOTES_KEYS: JSON.stringify([{ id: 1, key: material, status: 'primary' }]),
    });
    expect(error.errors?.map((entry) => entry.path)).toEqual(['notesKeys']);
    expect(error.message).toMatch(
      /notesKeys: expected a keyring like .*found \[REDACTED\] \(from env:NOTES_KEYS\)/,
    );
    expect(error.message + JSON.stringify(error.details)).not.toContain(material);
  });

  it('does not read inherited keys of a polluted environment object', () => {
    const env = Object.create({ PORT: 'x', NODE_ENV: 'nope' }) as Record<string, string>;
    expect(loadConfig(env).ok).toBe(true);
  });

  it('refuses prototype-polluting JSON in NOTES_FLAGS and changes nothing', () => {
    const error = fail({ NOTES_FLAGS: '{"__proto__":{"admin":true}}' });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });
});
