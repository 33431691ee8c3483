import { format, inspect } from 'node:util';
import { defineConfig, isSecret, Secret, secret } from '@prod/config';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

const PASSWORD = 'correct-horse-battery-staple';

describe('Secret', () => {
  const value = new Secret(PASSWORD);

  it('reveals the value only through reveal()', () => {
    expect(value.reveal()).toBe(PASSWORD);
  });

  it.each([
    ['String()', () => String(value)],
    ['a template literal', () => `${value}`],
    ['concatenation', () => `x${value}`],
    ['JSON.stringify', () => JSON.stringify({ password: value })],
    ['util.inspect', () => inspect({ nested: { value } }, { depth: 10, showHidden: true })],
    ['console.log formatting', () => format('%s %o %O %j', value, value, { value }, { value })],
    [
      'Object.keys / entries',
      () => JSON.stringify(Object.entries(value)) + Object.keys(value).join(),
    ],
    ['a spread copy', () => inspect({ ...value })],
    ['structuredClone', () => inspect(structuredClone({ value }), { showHidden: true })],
  ])('does not leak through %s', (_name, render) => {
    const text = render();
    expect(text).not.toContain(PASSWORD);
  });

  it('shows [REDACTED] where it is rendered', () => {
    expect(String(value)).toBe('[REDACTED]');
    expect(JSON.stringify({ value })).toBe('{"value":"[REDACTED]"}');
    expect(inspect(value)).toBe('Secret([REDACTED])');
  });

  it('is frozen and recognized by isSecret', () => {
    expect(Object.isFrozen(value)).toBe(true);
    expect(isSecret(value)).toBe(true);
    expect(isSecret({ reveal: () => 'x' })).toBe(false);
    expect(isSecret(null)).toBe(false);
  });
});

describe('secrets in a configuration', () => {
  const schema = z.object({
    db: z.object({ password: secret(z.string().min(8)), host: z.string().default('localhost') }),
    apiKeys: secret(z.array(z.string())),
  });
  const config = defineConfig(schema, {
    env: { DB_PASSWORD: PASSWORD, API_KEYS: 'k-one-secret,k-two-secret' },
  });

  it('types the value as a Secret and keeps it usable', () => {
    const password: Secret<string> = config.value.db.password;
    expect(password.reveal()).toBe(PASSWORD);
    expect(config.value.apiKeys.reveal()).toEqual(['k-one-secret', 'k-two-secret']);
  });

  it('never shows it in JSON, toString, inspect, entries or describe', () => {
    const renders = [
      JSON.stringify(config),
      JSON.stringify(config.value),
      String(config),
      inspect(config, { depth: 20 }),
      inspect(config.value, { depth: 20 }),
      JSON.stringify(config.entries().map(({ value: _value, ...rest }) => rest)),
      config.describe(),
    ];
    for (const text of renders) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain('k-one-secret');
    }
    expect(JSON.parse(JSON.stringify(config))).toEqual({
      db: { password: '[REDACTED]', host: 'localhost' },
      apiKeys: '[REDACTED]',
    });
  });

  it('gives a logger the secret paths to redact', () => {
    expect(config.secretKeys).toEqual(['db.password', 'apiKeys']);
  });
});
