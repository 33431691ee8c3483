import { loadConfig } from 'example-notes-app';
import { describe, expect, it } from 'vitest';

const fail = (env: Record<string, string>) => {
  const config = loadConfig(env);
  if (config.ok) throw new Error('expected an invalid configuration');
  return config.error;
};

describe('loadConfig', () => {
  it('runs on embedded defaults with an empty environment', () => {
    expect(loadConfig({})).toEqual({
      ok: true,
      value: {
        serviceName: 'notes',
        port: 3000,
        host: '0.0.0.0',
        logLevel: 'info',
        store: 'memory',
        databaseUrl: undefined,
        redisUrl: undefined,
        otlpEndpoint: undefined,
        healthToken: undefined,
      },
    });
  });

  it('reads every variable, and treats blank ones as unset', () => {
    const config = loadConfig({
      SERVICE_NAME: 'notes-eu',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info,cache=debug',
      DATABASE_URL: 'postgresql://app@db:5432/notes',
      REDIS_URL: 'rediss://cache:6380',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      HEALTH_TOKEN: 'a-long-enough-token',
      UNRELATED: 'ignored',
    });
    expect(config.ok && config.value).toEqual({
      serviceName: 'notes-eu',
      port: 0,
      host: '127.0.0.1',
      logLevel: 'info,cache=debug',
      store: 'postgres',
      databaseUrl: 'postgresql://app@db:5432/notes',
      redisUrl: 'rediss://cache:6380',
      otlpEndpoint: 'http://collector:4318',
      healthToken: 'a-long-enough-token',
    });
    const blank = loadConfig({ PORT: ' ', DATABASE_URL: '', LOG_LEVEL: '' });
    expect(blank.ok && [blank.value.port, blank.value.store, blank.value.logLevel]).toEqual([
      3000,
      'memory',
      'info',
    ]);
  });

  it('lets NOTES_STORE choose memory even with a database configured', () => {
    const config = loadConfig({ NOTES_STORE: 'memory', DATABASE_URL: 'postgres://db/notes' });
    expect(config.ok && config.value.store).toBe('memory');
  });

  it.each([
    ['PORT', 'http'],
    ['PORT', '65536'],
    ['PORT', '-1'],
    ['PORT', '3000.5'],
    ['PORT', '0x50'],
    ['HOST', 'bad host'],
    ['LOG_LEVEL', 'loud'],
    ['LOG_LEVEL', 'info,info'],
    ['SERVICE_NAME', 'notes service'],
    ['NOTES_STORE', 'sqlite'],
    ['DATABASE_URL', 'not a url'],
    ['DATABASE_URL', 'mysql://db/notes'],
    ['REDIS_URL', 'http://cache:6379'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'grpc://collector:4317'],
    ['HEALTH_TOKEN', 'short'],
  ])('refuses %s=%s with CONFIG_INVALID naming the variable', (name, value) => {
    const error = fail({ [name]: value });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.errors?.map((entry) => entry.path)).toEqual([name]);
    expect(error.message).toContain(name);
  });

  it('lists every bad variable at once, on one line, without echoing values', () => {
    const error = fail({
      PORT: 'x',
      DATABASE_URL: 'mysql://root:hunter2@db/notes',
      REDIS_URL: 'tcp://:hunter2@cache',
    });
    expect(error.errors?.map((entry) => entry.path).sort()).toEqual([
      'DATABASE_URL',
      'PORT',
      'REDIS_URL',
    ]);
    expect(error.message).not.toContain('\n');
    expect(error.message).not.toContain('hunter2');
  });

  it('needs DATABASE_URL for NOTES_STORE=postgres', () => {
    expect(fail({ NOTES_STORE: 'postgres' }).errors).toEqual([
      { path: 'DATABASE_URL', message: 'is required when NOTES_STORE=postgres' },
    ]);
  });

  it('does not read inherited keys of a polluted environment object', () => {
    const env = Object.create({ PORT: 'x' }) as Record<string, string>;
    expect(loadConfig(env).ok).toBe(true);
  });
});
