import { type ConfigProblem, defineConfig, fileSource, loadConfig } from '@prod/config';
import type { ProdError } from '@prod/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { tempDir } from './helpers.js';

const tmp = tempDir();
const schema = z.object({
  port: z.number().default(3000),
  limits: z.record(z.string(), z.number()).default({}),
  nested: z.object({ value: z.string().default('x') }),
});

function problems(
  result: { readonly ok: true } | { readonly ok: false; readonly error: ProdError },
): readonly ConfigProblem[] {
  if (result.ok) throw new Error('expected CONFIG_INVALID');
  return (result.error.details as { problems: ConfigProblem[] }).problems;
}

describe('malformed files', () => {
  it.each([
    ['truncated JSON', 'bad.json', '{"port": 1,'],
    ['JSON with a trailing comma', 'comma.json', '{"port": 1,}'],
    ['a JSON array at the top', 'array.json', '[1, 2]'],
    ['a JSON string at the top', 'string.json', '"port"'],
    ['YAML with bad indentation', 'bad.yaml', 'port: 1\n  nested: : x\n'],
    ['YAML with a duplicate key', 'dup.yaml', 'port: 1\nport: 2\n'],
    ['a YAML scalar at the top', 'scalar.yaml', 'just text'],
    ['binary garbage', 'garbage.json', Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x7b])],
  ])('refuses %s with one problem naming the file', (_name, file, content) => {
    const path = tmp.write(file, content);
    const found = problems(loadConfig(schema, { files: [path], env: {} }));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ key: '', source: `file:${path}` });
  });

  it('refuses a YAML alias bomb without expanding it', () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++)
      levels.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    const path = tmp.write('bomb.yaml', `${levels.join('\n')}\n`);
    const started = Date.now();
    const found = problems(loadConfig(schema, { files: [path], env: {} }));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(found[0]?.found).toMatch(/alias/i);
  });

  it('accepts an empty file and a UTF-8 BOM', () => {
    const empty = tmp.write('empty.yaml', '');
    const bom = tmp.write('bom.json', '\ufeff{"port": 81}');
    expect(defineConfig(schema, { files: [empty, bom], env: {} }).value.port).toBe(81);
  });

  it('refuses a missing required file, a folder and an over-large file without reading it whole', () => {
    const big = tmp.write('big.json', `{"port": 1, "pad": "${'x'.repeat(2 * 1024 * 1024)}"}`);
    const found = problems(
      loadConfig(schema, { files: [`${tmp.dir}/nope.json`, tmp.dir, big], env: {} }),
    );
    expect(found.map((p) => p.found)).toEqual([
      'the file does not exist',
      'not a regular file',
      expect.stringMatching(/over the limit of 1048576/),
    ]);
  });

  it('honours maxFileBytes for files, .env and _FILE alike', () => {
    const file = tmp.write('mid.json', JSON.stringify({ port: 1, pad: 'x'.repeat(200) }));
    const dotenv = tmp.write('.env.big', `PORT=2\nPAD=${'x'.repeat(200)}\n`);
    const secretFile = tmp.write('secret-big', 'y'.repeat(200));
    const s = z.object({ port: z.number(), token: z.string().optional() });
    const found = problems(
      loadConfig(s, { files: [file], dotenv, env: { TOKEN_FILE: secretFile }, maxFileBytes: 100 }),
    );
    expect(found.filter((p) => /over the limit of 100/.test(p.found))).toHaveLength(3);
  });
});

describe('prototype pollution', () => {
  it('refuses __proto__ and constructor.prototype in JSON and YAML files', () => {
    const json = tmp.write('proto.json', '{"nested": {"__proto__": {"polluted": true}}}');
    const yaml = tmp.write('proto.yaml', 'constructor:\n  prototype:\n    polluted: true\n');
    const found = problems(loadConfig(schema, { files: [json, yaml], env: {} }));
    expect(found).toHaveLength(2);
    expect(found.every((p) => /forbidden key/.test(p.found))).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses __proto__ in an env variable holding JSON', () => {
    const found = problems(
      loadConfig(schema, { env: { LIMITS: '{"__proto__": {"polluted": 1}}' } }),
    );
    expect(found[0]).toMatchObject({
      key: 'limits.__proto__',
      source: 'env:LIMITS',
      found: 'a forbidden key',
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses __proto__ in overrides and updates, leaving the configuration as it was', () => {
    const overrides = JSON.parse('{"__proto__": {"polluted": 1}}') as object;
    expect(problems(loadConfig(schema, { env: {}, overrides }))[0]?.found).toBe('a forbidden key');
    const config = defineConfig(schema, { env: {}, onError: () => undefined });
    const updated = config.update(
      JSON.parse('{"nested": {"constructor": {"prototype": {"x": 1}}}}') as object,
    );
    expect(updated.ok).toBe(false);
    expect(config.value.nested.value).toBe('x');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('reads no environment variable through the prototype chain', () => {
    const env = Object.create({ PORT: '9999' }) as Record<string, string>;
    expect(defineConfig(schema, { env }).value.port).toBe(3000);
  });

  it('refuses nesting deeper than 64 levels', () => {
    let deep = '1';
    for (let i = 0; i < 100; i++) deep = `{"a": ${deep}}`;
    const path = tmp.write('deep.json', `{"nested": ${deep}}`);
    expect(problems(loadConfig(schema, { files: [path], env: {} }))[0]?.found).toMatch(
      /deeper than 64/,
    );
  });
});

describe('wrong types in the environment', () => {
  it.each([
    ['PORT', 'NaN', 'number'],
    ['PORT', 'Infinity', 'number'],
    ['PORT', '12abc', 'number'],
    ['PORT', '1e999', 'number'],
    ['LIMITS', '{not json', 'record'],
    ['LIMITS', '[1,2]', 'record'],
    ['LIMITS', '{"a": "one"}', 'number'],
  ])('%s=%j is a problem expecting %s', (name, raw, expected) => {
    const found = problems(loadConfig(schema, { env: { [name]: raw } }));
    expect(found[0]?.expected).toBe(expected);
    expect(found[0]?.source).toBe(`env:${name}`);
  });
});

describe('a watched file turning bad', () => {
  it('fails watch() when the file is malformed at start', async () => {
    const path = tmp.write('runtime-bad.yaml', 'a: [');
    const config = defineConfig(schema, { env: {}, onError: () => undefined });
    const watched = await config.watch(fileSource(path));
    expect(watched.ok).toBe(false);
    if (!watched.ok) expect(watched.error.code).toBe('CONFIG_SOURCE_FAILED');
    await config.close();
  });
});
