import {
  ConfigErrors,
  type ConfigProblem,
  defineConfig,
  fromEnv,
  loadConfig,
  reloadable,
  secret,
} from '@prod/config';
import { isProdError } from '@prod/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { tempDir } from './helpers.js';

const tmp = tempDir();

const schema = z.object({
  port: z.number().int().min(0).max(65_535).default(3000),
  debug: z.boolean().default(false),
  db: z.object({
    url: secret(z.string().default('postgres://localhost/dev')),
    poolSize: z.number().int().min(1).default(10),
  }),
  log: z.object({ level: reloadable(z.enum(['debug', 'info', 'warn']).default('info')) }),
  tags: z.array(z.string()).default([]),
});

function problemsOf(run: () => unknown): readonly ConfigProblem[] {
  try {
    run();
  } catch (error) {
    if (isProdError(error, 'CONFIG_INVALID'))
      return (error.details as { problems: ConfigProblem[] }).problems;
    throw error;
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('layering', () => {
  it('schema defaults < profile defaults < files < .env < environment < overrides, per key', () => {
    const base = tmp.write(
      'base.json',
      JSON.stringify({ port: 1, db: { poolSize: 2 }, log: { level: 'warn' }, tags: ['file'] }),
    );
    const second = tmp.write('second.yaml', 'port: 4\n');
    const dotenv = tmp.write('.env.test', 'APP_PORT=5\nAPP_DEBUG=true\n');
    const config = defineConfig(schema, {
      envPrefix: 'APP',
      profile: 'test',
      profiles: { test: { db: { poolSize: 7 }, tags: ['profile'] } },
      files: [base, second],
      dotenv,
      env: { APP_PORT: '6' },
      overrides: { log: { level: 'debug' } },
    });
    expect(config.value).toMatchObject({
      port: 6,
      debug: true,
      db: { poolSize: 2 },
      log: { level: 'debug' },
      tags: ['file'],
    });
    expect(config.sourceOf('port')).toBe('env:APP_PORT');
    expect(config.sourceOf('debug')).toBe(`dotenv:${dotenv} (APP_DEBUG)`);
    expect(config.sourceOf('db.poolSize')).toBe(`file:${base}`);
    expect(config.sourceOf('log.level')).toBe('override');
    expect(config.sourceOf('db.url')).toBe('default');
  });

  it('a later file wins over an earlier one, and profile defaults sit below files', () => {
    const a = tmp.write('a.json', JSON.stringify({ port: 10 }));
    const b = tmp.write('b.json', JSON.stringify({ port: 11 }));
    const config = defineConfig(schema, {
      files: [a, b],
      env: {},
      profile: 'test',
      profiles: { test: { port: 9, db: { poolSize: 3 } } },
    });
    expect(config.get('port')).toBe(11);
    expect(config.get('db.poolSize')).toBe(3);
    expect(config.sourceOf('db.poolSize')).toBe('profile:test');
  });

  it('replaces {profile} in file paths and skips a missing optional file', () => {
    tmp.write('app.production.yaml', 'db:\n  poolSize: 40\n');
    const config = defineConfig(schema, {
      cwd: tmp.dir,
      files: [{ path: 'app.{profile}.yaml' }, { path: 'missing.{profile}.json', optional: true }],
      env: { NODE_ENV: 'production', DB_URL: 'postgres://prod/db' },
    });
    expect(config.profile).toBe('production');
    expect(config.production).toBe(true);
    expect(config.value.db.poolSize).toBe(40);
  });

  it('reads the profile from NODE_ENV (or profileEnv), development by default', () => {
    expect(defineConfig(schema, { env: {} }).profile).toBe('development');
    expect(defineConfig(schema, { env: { NODE_ENV: 'test' } }).profile).toBe('test');
    expect(defineConfig(schema, { env: { APP_ENV: 'test' }, profileEnv: 'APP_ENV' }).profile).toBe(
      'test',
    );
  });

  it('refuses an unknown profile instead of silently treating it as not production', () => {
    const problems = problemsOf(() => defineConfig(schema, { env: { NODE_ENV: 'prodution' } }));
    expect(problems[0]).toMatchObject({ key: '', source: 'env:NODE_ENV', found: '"prodution"' });
  });
});

describe('environment variables', () => {
  it('derives names from paths with the prefix: db.poolSize -> APP_DB_POOL_SIZE', () => {
    const config = defineConfig(schema, {
      envPrefix: 'APP_',
      env: { APP_DB_POOL_SIZE: '25', DB_POOL_SIZE: '99' },
    });
    expect(config.value.db.poolSize).toBe(25);
    expect(config.entries().find((e) => e.key === 'db.poolSize')?.env).toBe('APP_DB_POOL_SIZE');
  });

  it('splits camelCase and acronyms', () => {
    const config = defineConfig(
      z.object({ httpServer: z.object({ maxHTTPHeaders: z.number().default(1) }) }),
      { env: { HTTP_SERVER_MAX_HTTP_HEADERS: '8' } },
    );
    expect(config.value.httpServer.maxHTTPHeaders).toBe(8);
  });

  it.each([
    ['false', false],
    ['FALSE', false],
    ['0', false],
    ['no', false],
    ['off', false],
    ['true', true],
    ['1', true],
    ['Yes', true],
    ['on', true],
  ])('parses the boolean %j as %j ("false" is false)', (raw, expected) => {
    expect(defineConfig(schema, { env: { DEBUG: raw } }).value.debug).toBe(expected);
  });

  it('parses numbers, lists (comma or JSON), JSON objects, dates, bigints and literal unions', () => {
    const s = z.object({
      ratio: z.number(),
      hex: z.number(),
      list: z.array(z.number()),
      jsonList: z.array(z.string()),
      map: z.record(z.string(), z.number()),
      when: z.date(),
      big: z.bigint(),
      mode: z.union([z.literal('auto'), z.number()]),
      size: z.union([z.literal('auto'), z.number()]),
      flag: z.stringbool(),
    });
    const config = defineConfig(s, {
      env: {
        RATIO: ' 0.25 ',
        HEX: '0x10',
        LIST: '1, 2,3',
        JSON_LIST: '["a","b"]',
        MAP: '{"a":1}',
        WHEN: '2026-01-02T00:00:00Z',
        BIG: '9007199254740993',
        MODE: 'auto',
        SIZE: '42',
        FLAG: 'yes',
      },
    });
    expect(config.value).toEqual({
      ratio: 0.25,
      hex: 16,
      list: [1, 2, 3],
      jsonList: ['a', 'b'],
      map: { a: 1 },
      when: new Date('2026-01-02T00:00:00Z'),
      big: 9007199254740993n,
      mode: 'auto',
      size: 42,
      flag: true,
    });
  });

  it('treats an empty variable as unset, so the default applies', () => {
    expect(defineConfig(schema, { env: { PORT: '' } }).value.port).toBe(3000);
  });

  it('reads fromEnv names exactly, without the prefix', () => {
    const s = z.object({ db: z.object({ url: fromEnv(z.string(), 'DATABASE_URL') }) });
    const config = defineConfig(s, {
      envPrefix: 'APP',
      env: { DATABASE_URL: 'postgres://x', APP_DB_URL: 'postgres://y' },
    });
    expect(config.value.db.url).toBe('postgres://x');
    expect(config.sourceOf('db.url')).toBe('env:DATABASE_URL');
  });

  it('reads <NAME>_FILE (Docker/Kubernetes secrets), one trailing newline removed', () => {
    const file = tmp.write('db-url', 'postgres://from-file/db\n');
    const config = defineConfig(schema, { env: { DB_URL_FILE: file } });
    expect(config.value.db.url.reveal()).toBe('postgres://from-file/db');
    expect(config.sourceOf('db.url')).toBe(`env:DB_URL_FILE (${file})`);
  });

  it('refuses both NAME and NAME_FILE, and a _FILE that cannot be read', () => {
    const file = tmp.write('both', 'x');
    const problems = problemsOf(() =>
      defineConfig(schema, {
        env: { DB_URL: 'a', DB_URL_FILE: file, PORT_FILE: `${tmp.dir}/none` },
      }),
    );
    expect(problems.map((p) => [p.key, p.found])).toEqual([
      ['port', 'the file does not exist'],
      ['db.url', 'both set'],
    ]);
  });
});

describe('one error listing every problem', () => {
  it('names key, source, expected and found for each, and never a secret', () => {
    const result = loadConfig(schema, {
      envPrefix: 'APP',
      env: {
        APP_PORT: 'eighty',
        APP_DEBUG: 'maybe',
        APP_DB_POOL_SIZE: '0',
        APP_LOG_LEVEL: 'loud',
        APP_DB_URL: 'postgres://user:hunter2@db',
      },
      overrides: { tags: 'x' as unknown as string[] },
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(ConfigErrors.CONFIG_INVALID.is(result.error)).toBe(true);
    const problems = (result.error.details as { problems: ConfigProblem[] }).problems;
    expect(
      problems.map(({ key, source, expected, found }) => ({ key, source, expected, found })),
    ).toEqual([
      { key: 'port', source: 'env:APP_PORT', expected: 'number', found: '"eighty"' },
      {
        key: 'debug',
        source: 'env:APP_DEBUG',
        expected: 'boolean (true/false, 1/0, yes/no, on/off)',
        found: '"maybe"',
      },
      {
        key: 'db.poolSize',
        source: 'env:APP_DB_POOL_SIZE',
        expected: 'number to be >=1',
        found: '0',
      },
      {
        key: 'log.level',
        source: 'env:APP_LOG_LEVEL',
        expected: 'one of "debug", "info", "warn"',
        found: '"loud"',
      },
      { key: 'tags', source: 'override', expected: 'array', found: '"x"' },
    ]);
    expect(result.error.message).toContain('5 problems');
    expect(result.error.message).not.toContain('hunter2');
    expect(JSON.stringify(result.error.toJSON())).not.toContain('hunter2');
    expect(result.error.errors).toHaveLength(5);
  });

  it('redacts a secret that fails validation', () => {
    const s = z.object({ token: secret(z.string().min(32)) });
    const problems = problemsOf(() => defineConfig(s, { env: { TOKEN: 'short-but-secret' } }));
    expect(problems).toEqual([expect.objectContaining({ key: 'token', found: '[REDACTED]' })]);
    expect(JSON.stringify(problems)).not.toContain('short-but-secret');
  });

  it('says which variable to set for a missing required key', () => {
    const s = z.object({ api: z.object({ key: z.string() }) });
    expect(problemsOf(() => defineConfig(s, { env: {}, envPrefix: 'APP' }))).toEqual([
      expect.objectContaining({ key: 'api.key', source: 'unset (APP_API_KEY)', found: 'nothing' }),
    ]);
  });

  it('lists file problems and validation problems together', () => {
    const broken = tmp.write('broken.json', '{ "port": ');
    const problems = problemsOf(() =>
      defineConfig(schema, { files: [broken], env: { DEBUG: 'maybe' } }),
    );
    expect(problems.map((p) => p.key)).toEqual(['', 'debug']);
    expect(problems[0]?.source).toBe(`file:${broken}`);
  });
});

describe('profiles and production guards', () => {
  const guarded = {
    guards: [
      {
        key: 'log.level',
        check: (level: string) =>
          level === 'debug' ? 'a level other than debug in production' : undefined,
      },
    ],
  } as const;

  it('refuses debug logging in production through a guard, and allows it elsewhere', () => {
    const env = { LOG_LEVEL: 'debug', DB_URL: 'postgres://prod' };
    expect(defineConfig(schema, { ...guarded, env, profile: 'development' }).value.log.level).toBe(
      'debug',
    );
    const problems = problemsOf(() =>
      defineConfig(schema, { ...guarded, env, profile: 'production' }),
    );
    expect(problems).toEqual([
      expect.objectContaining({
        key: 'log.level',
        source: 'env:LOG_LEVEL',
        expected: 'a level other than debug in production',
        found: '"debug"',
      }),
    ]);
  });

  it('refuses a secret left at its default in production', () => {
    const problems = problemsOf(() => defineConfig(schema, { env: {}, profile: 'production' }));
    expect(problems).toEqual([
      expect.objectContaining({ key: 'db.url', source: 'default', found: '[REDACTED]' }),
    ]);
    const prod = defineConfig(schema, {
      env: {},
      profile: 'production',
      allowDefaultSecrets: true,
    });
    expect(prod.value.db.url.reveal()).toBe('postgres://localhost/dev');
  });

  it('counts a secret from profile defaults as a default too', () => {
    const problems = problemsOf(() =>
      defineConfig(schema, {
        env: {},
        profile: 'production',
        profiles: { production: { db: { url: 'postgres://baked-in' } } },
      }),
    );
    expect(problems[0]).toMatchObject({ key: 'db.url', source: 'profile:production' });
  });

  it('runs guards for the profiles they name', () => {
    const config = () =>
      defineConfig(schema, {
        profile: 'test',
        env: {},
        guards: [
          {
            key: 'port',
            profiles: ['test'],
            check: (port) => (port === 3000 ? 'a port chosen for tests' : undefined),
          },
        ],
      });
    expect(problemsOf(config)[0]).toMatchObject({
      key: 'port',
      source: 'default',
      expected: 'a port chosen for tests',
    });
  });
});

describe('the configuration object', () => {
  it('is deeply frozen and typed', () => {
    const config = defineConfig(schema, { env: { TAGS: 'a,b' } });
    expect(Object.isFrozen(config.value)).toBe(true);
    expect(Object.isFrozen(config.value.db)).toBe(true);
    expect(Object.isFrozen(config.value.tags)).toBe(true);
    expect(() => {
      (config.value as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('get() reads branches and leaves by dotted path', () => {
    const config = defineConfig(schema, { env: { DB_POOL_SIZE: '3' } });
    expect(config.get('db.poolSize')).toBe(3);
    expect(config.get('db')).toBe(config.value.db);
  });

  it('describe() prints every key with its source, secrets redacted, and lists secret and reloadable keys', () => {
    const config = defineConfig(schema, {
      envPrefix: 'APP',
      env: { APP_DB_URL: 'postgres://u:pw@h/db', APP_PORT: '80' },
    });
    const text = config.describe();
    expect(text).toMatch(/^configuration \(profile: development\)/);
    expect(text).toMatch(/port\s+80\s+env:APP_PORT/);
    expect(text).toMatch(/db\.url\s+\[REDACTED\]\s+env:APP_DB_URL\s+secret/);
    expect(text).toMatch(/log\.level\s+"info"\s+default\s+reloadable/);
    expect(text).not.toContain('pw@h');
    expect(String(config)).toBe(text);
    expect(config.secretKeys).toEqual(['db.url']);
    expect(config.reloadableKeys).toEqual(['log.level']);
  });

  it('creates nested objects so their defaults apply, but leaves optional ones out', () => {
    const s = z.object({
      cache: z.object({ ttl: z.number().default(60) }),
      tls: z.object({ cert: z.string(), key: z.string() }).optional(),
    });
    expect(defineConfig(s, { env: {} }).value).toEqual({ cache: { ttl: 60 } });
    expect(defineConfig(s, { env: { TLS_CERT: 'c', TLS_KEY: 'k' } }).value.tls).toEqual({
      cert: 'c',
      key: 'k',
    });
  });

  it('warns about unknown keys in files, and refuses them when strict (values never shown)', () => {
    const file = tmp.write('typo.json', JSON.stringify({ db: { pasword: 'hunter2' } }));
    const config = defineConfig(schema, { files: [file], env: {} });
    expect(config.warnings).toEqual([
      expect.objectContaining({ key: 'db.pasword', found: 'an unknown key holding a string' }),
    ]);
    const problems = problemsOf(() =>
      defineConfig(schema, { files: [file], env: {}, strict: true }),
    );
    expect(problems[0]?.key).toBe('db.pasword');
    expect(JSON.stringify(problems)).not.toContain('hunter2');
  });
});

describe('bad options and schemas (thrown at definition)', () => {
  it('refuses a schema that is not an object, env name collisions and forbidden keys', () => {
    expect(() => defineConfig(z.string() as never)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID_SCHEMA' }),
    );
    const clash = z.object({
      dbPool: z.object({ size: z.number() }),
      db: z.object({ poolSize: z.number() }),
    });
    expect(() => defineConfig(clash, { env: {} })).toThrow(/DB_POOL_SIZE/);
    expect(() => defineConfig(z.object({ constructor: z.string() }), { env: {} })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID_SCHEMA' }),
    );
    expect(() =>
      defineConfig(z.object({ a: fromEnv(z.string(), 'NOT-VALID') }), { env: {} }),
    ).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID_SCHEMA' }));
  });

  it('refuses bad options with CONFIG_INVALID_OPTIONS naming the option', () => {
    const bad = [
      { files: 'config.json' },
      { files: [''] },
      { envPrefix: 'APP-' },
      { maxFileBytes: 0 },
      { strict: 'yes' },
      { guards: [{ key: 'nope', check: () => undefined }] },
      { dotenv: 42 },
    ];
    for (const options of bad) {
      expect(() => defineConfig(schema, { env: {}, ...(options as object) })).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID_OPTIONS' }),
      );
    }
  });
});

describe('problem messages', () => {
  it("keeps a schema's own message for a format check (a regex with a custom error)", () => {
    const custom = z.object({ host: z.string().regex(/^a$/, { error: 'the letter a' }) });
    const [problem] = problemsOf(() => defineConfig(custom, { env: { HOST: 'b' } }));
    expect(problem).toMatchObject({ key: 'host', expected: 'the letter a', source: 'env:HOST' });
  });

  it('names the variable of an unset key that a guard refuses', () => {
    const urlSchema = z.object({ url: fromEnv(z.string().optional(), 'DATABASE_URL') });
    const [problem] = problemsOf(() =>
      defineConfig(urlSchema, {
        env: {},
        profile: 'production',
        guards: [{ key: 'url', check: (value) => (value === undefined ? 'a URL' : undefined) }],
      }),
    );
    expect(problem).toMatchObject({
      key: 'url',
      expected: 'a URL',
      source: 'unset (DATABASE_URL)',
    });
  });
});
