import { writeFileSync } from 'node:fs';
import {
  type ConfigChange,
  defineConfig,
  fileSource,
  pollingSource,
  reloadable,
  secret,
} from '@prod/config';
import type { ProdError } from '@prod/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { tempDir, until } from './helpers.js';

const tmp = tempDir();

const schema = z.object({
  port: z.number().default(3000),
  log: z.object({
    level: reloadable(z.enum(['debug', 'info', 'warn']).default('info')),
    sampling: reloadable(z.number().min(0).max(1).default(1)),
  }),
  limits: reloadable(
    z.object({
      rps: z.number().int().min(1).default(100),
      burst: z.number().int().min(1).default(10),
    }),
  ),
  token: secret(z.string().default('dev-token')),
});

function make(env: Record<string, string> = {}) {
  const errors: ProdError[] = [];
  const config = defineConfig(schema, { env, onError: (error) => errors.push(error) });
  return { config, errors };
}

describe('update()', () => {
  it('validates and swaps the snapshot atomically; old references stay consistent', () => {
    const { config } = make();
    const before = config.value;
    const result = config.update({ log: { level: 'debug' }, limits: { rps: 5 } });
    expect(result.ok && result.value.map((c) => c.key)).toEqual(['log.level', 'limits.rps']);
    expect(config.value).not.toBe(before);
    expect(before.log.level).toBe('info');
    expect(config.value.log.level).toBe('debug');
    expect(config.value.limits).toEqual({ rps: 5, burst: 10 });
    expect(Object.isFrozen(config.value.limits)).toBe(true);
    expect(config.sourceOf('log.level')).toBe('update');
  });

  it('rejects an invalid update whole: nothing is half-applied, the error is reported', () => {
    const { config, errors } = make();
    const before = config.value;
    const result = config.update({ log: { level: 'debug', sampling: 5 }, limits: { rps: 0 } });
    expect(result.ok).toBe(false);
    expect(config.value).toBe(before);
    expect(config.value.log.level).toBe('info');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.code).toBe('CONFIG_INVALID');
    expect(errors[0]?.message).toMatch(
      /update from update rejected, configuration kept \(2 problems\)/,
    );
  });

  it('refuses a change to a key that is not reloadable, with CONFIG_RESTART_REQUIRED', () => {
    const { config, errors } = make();
    const result = config.update({ port: 8080, log: { level: 'warn' } });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('CONFIG_RESTART_REQUIRED');
      expect(result.error.details).toEqual({ keys: ['port'] });
    }
    expect(config.value.port).toBe(3000);
    expect(config.value.log.level).toBe('info');
    expect(errors.map((e) => e.code)).toEqual(['CONFIG_RESTART_REQUIRED']);
  });

  it('accepts an update that repeats a non-reloadable value unchanged', () => {
    const { config } = make();
    expect(config.update({ port: 3000, log: { level: 'warn' } }).ok).toBe(true);
  });

  it('replaces the previous update: keys it no longer sets fall back', () => {
    const { config } = make();
    config.update({ log: { level: 'debug' } });
    config.update({ log: { sampling: 0.5 } });
    expect(config.value.log).toEqual({ level: 'info', sampling: 0.5 });
  });
});

describe('onChange', () => {
  it('tells listeners of a path (and of keys under it) with new value, old value and changes', () => {
    const { config } = make();
    const seen: unknown[] = [];
    const off = config.onChange('limits', (value, previous, changes) =>
      seen.push({ value, previous, keys: changes.map((c) => c.key) }),
    );
    const leaf: string[] = [];
    config.onChange('log.level', (value) => leaf.push(value));
    const all: (readonly ConfigChange[])[] = [];
    config.onChange((changes) => all.push(changes));
    config.update({ limits: { burst: 20 } });
    config.update({ limits: { burst: 20 }, log: { level: 'warn' } });
    expect(seen).toEqual([
      { value: { rps: 100, burst: 20 }, previous: { rps: 100, burst: 10 }, keys: ['limits.burst'] },
    ]);
    expect(leaf).toEqual(['warn']);
    expect(all.map((c) => c.map((x) => x.key))).toEqual([['limits.burst'], ['log.level']]);
    off();
    config.update({ limits: { burst: 30 } });
    expect(seen).toHaveLength(1);
  });

  it('reports a throwing listener and still applies the change and calls the others', () => {
    const { config, errors } = make();
    const calls: string[] = [];
    config.onChange('log.level', () => {
      throw new Error('listener bug');
    });
    config.onChange('log.level', (value) => calls.push(value));
    expect(config.update({ log: { level: 'debug' } }).ok).toBe(true);
    expect(config.value.log.level).toBe('debug');
    expect(calls).toEqual(['debug']);
    expect(errors.map((e) => e.code)).toEqual(['CONFIG_LISTENER_FAILED']);
  });

  it('refuses a path outside the schema', () => {
    const { config } = make();
    expect(() => config.onChange('nope' as 'port', () => undefined)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID_OPTIONS' }),
    );
  });

  it('never shows a secret in a change', () => {
    const s = z.object({ token: reloadable(secret(z.string())) });
    const config = defineConfig(s, { env: { TOKEN: 'first-secret-value' } });
    const changes: ConfigChange[] = [];
    config.onChange((c) => changes.push(...c));
    config.update({ token: 'second-secret-value' });
    expect(changes).toHaveLength(1);
    expect(JSON.stringify(changes)).not.toMatch(/secret-value/);
    expect(config.value.token.reveal()).toBe('second-secret-value');
  });
});

describe('reload()', () => {
  it('re-reads files and the environment, applying reloadable changes', () => {
    const path = tmp.write('reload.json', JSON.stringify({ log: { level: 'warn' } }));
    const env: Record<string, string> = {};
    const config = defineConfig(schema, { files: [path], env });
    expect(config.value.log.level).toBe('warn');
    writeFileSync(path, JSON.stringify({ log: { level: 'debug' } }));
    env.LOG_SAMPLING = '0.1';
    const result = config.reload();
    expect(result.ok).toBe(true);
    expect(config.value.log).toEqual({ level: 'debug', sampling: 0.1 });
  });

  it('keeps the configuration when the file became malformed', () => {
    const path = tmp.write('reload-bad.json', JSON.stringify({ log: { level: 'warn' } }));
    const errors: ProdError[] = [];
    const config = defineConfig(schema, { files: [path], env: {}, onError: (e) => errors.push(e) });
    writeFileSync(path, '{"log": ');
    const result = config.reload();
    expect(result.ok).toBe(false);
    expect(config.value.log.level).toBe('warn');
    expect(errors[0]?.message).toMatch(/^reload rejected, configuration kept/);
  });
});

describe('fileSource', () => {
  it('applies valid changes to a watched file and rejects invalid ones, keeping the last good values', async () => {
    const path = tmp.write('runtime.yaml', 'log:\n  level: warn\n');
    const { config, errors } = make();
    expect((await config.watch(fileSource(path, { debounceMs: 10 }))).ok).toBe(true);
    expect(config.value.log.level).toBe('warn');
    expect(config.sourceOf('log.level')).toBe(`file:${path}`);

    writeFileSync(path, 'log:\n  level: debug\n');
    await until(() => config.value.log.level === 'debug');

    writeFileSync(path, 'log:\n  level: shouting\n');
    await until(() => errors.length === 1);
    expect(errors[0]?.code).toBe('CONFIG_INVALID');
    expect(config.value.log.level).toBe('debug');

    writeFileSync(path, 'log: [\n');
    await until(() => errors.length === 2);
    expect(errors[1]?.code).toBe('CONFIG_SOURCE_FAILED');
    expect(config.value.log.level).toBe('debug');

    // An atomic replacement (write elsewhere, rename over) is seen too.
    const next = tmp.write('runtime.yaml.tmp', 'log:\n  level: info\n');
    const { renameSync } = await import('node:fs');
    renameSync(next, path);
    await until(() => config.value.log.level === 'info');
    await config.close();
  });
});

describe('pollingSource', () => {
  it('applies what the function returns, reports throws, and stops on close', async () => {
    const { config, errors } = make();
    let calls = 0;
    const replies: Array<unknown> = [
      { log: { level: 'warn' } },
      new Error('remote down'),
      { log: { level: 'nope' } },
      { log: { level: 'debug' } },
    ];
    const source = pollingSource(
      async () => {
        const reply = replies[Math.min(calls++, replies.length - 1)];
        if (reply instanceof Error) throw reply;
        return reply;
      },
      { intervalMs: 5, name: 'remote' },
    );
    await config.watch(source);
    expect(config.value.log.level).toBe('warn');
    expect(config.sourceOf('log.level')).toBe('remote');
    await until(() => config.value.log.level === 'debug');
    expect(errors.map((e) => e.code)).toEqual(['CONFIG_SOURCE_FAILED', 'CONFIG_INVALID']);
    await config.close();
    const after = calls;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(calls).toBe(after);
  });

  it('fails watch() when the first call throws, and refuses a source watched twice', async () => {
    const { config } = make();
    const failing = pollingSource(() => {
      throw new Error('no');
    });
    const watched = await config.watch(failing);
    expect(watched.ok).toBe(false);
    const ok = pollingSource(() => ({}), { intervalMs: 1000 });
    await config.watch(ok);
    await expect(config.watch(ok)).rejects.toMatchObject({ code: 'CONFIG_INVALID_OPTIONS' });
    await config.close();
  });

  it('refuses bad options', () => {
    expect(() => pollingSource('x' as never)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID_OPTIONS' }),
    );
    expect(() => pollingSource(() => ({}), { intervalMs: -1 })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID_OPTIONS' }),
    );
    expect(() => fileSource('')).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID_OPTIONS' }),
    );
  });
});

it('reports through process.emitWarning when nobody listens', async () => {
  const config = defineConfig(schema, { env: {} });
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  process.on('warning', onWarning);
  config.update({ port: 1 });
  await new Promise((resolve) => setImmediate(resolve));
  process.off('warning', onWarning);
  expect(warnings.map((w) => (w as Error & { code?: string }).code)).toContain(
    'CONFIG_RESTART_REQUIRED',
  );
});
