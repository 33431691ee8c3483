import {
  configFlagSource,
  createFlags,
  defineConfig,
  type FlagEvaluation,
  flag,
  flagDefinitions,
  memoryFlagSource,
  reloadable,
} from '@prod/config';
import { type ProdError, runWithContext } from '@prod/core';
import { createMetrics } from '@prod/metrics';
import { Counter } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

const declarations = {
  'notes.search': flag.boolean(false, { description: 'search in the notes list' }),
  'notes.pageSize': flag.number(50),
  'checkout.button': flag.string('blue', { values: ['blue', 'green', 'red'] as const }),
  'notes.limits': flag.object(z.object({ max: z.number() }), { max: 10 }),
};

function flagsWith(definitions: Parameters<typeof memoryFlagSource>[0], errors: ProdError[] = []) {
  const source = memoryFlagSource(definitions);
  const flags = createFlags(declarations, {
    source,
    onError: (e) => errors.push(e),
    flushIntervalMs: 0,
  });
  return { flags, source, errors };
}

describe('evaluation', () => {
  it('serves the declared default without a definition (reason DEFAULT)', () => {
    const { flags } = flagsWith({});
    expect(flags.evaluate('notes.search')).toEqual({
      key: 'notes.search',
      value: false,
      reason: 'DEFAULT',
    });
    expect(flags.value('notes.pageSize')).toBe(50);
    expect(flags.value('notes.limits')).toEqual({ max: 10 });
  });

  it('serves the default variant of a definition without rules (STATIC)', () => {
    const { flags } = flagsWith({
      'notes.search': { defaultVariant: 'on' },
      'notes.pageSize': { variants: { small: 20, large: 100 }, defaultVariant: 'large' },
    });
    expect(flags.evaluate('notes.search')).toEqual({
      key: 'notes.search',
      value: true,
      variant: 'on',
      reason: 'STATIC',
    });
    expect(flags.value('notes.pageSize')).toBe(100);
  });

  it('matches targeting rules in order over the context', () => {
    const { flags } = flagsWith({
      'checkout.button': {
        variants: { blue: 'blue', green: 'green', red: 'red' },
        defaultVariant: 'blue',
        rules: [
          {
            name: 'staff',
            when: [{ attribute: 'email', op: 'endsWith', value: '@example.com' }],
            variant: 'red',
          },
          {
            name: 'big tenants',
            when: [
              { attribute: 'tenant', op: 'in', value: ['acme', 'globex'] },
              { attribute: 'seats', op: 'gte', value: 100 },
            ],
            variant: 'green',
          },
        ],
      },
    });
    expect(
      flags.evaluate('checkout.button', { email: 'ann@example.com', tenant: 'acme', seats: 500 }),
    ).toMatchObject({ value: 'red', reason: 'TARGETING_MATCH', rule: 'staff' });
    expect(flags.evaluate('checkout.button', { tenant: 'acme', seats: 500 })).toMatchObject({
      value: 'green',
      rule: 'big tenants',
    });
    expect(flags.evaluate('checkout.button', { tenant: 'acme', seats: 5 })).toMatchObject({
      value: 'blue',
      reason: 'DEFAULT',
    });
    expect(flags.evaluate('checkout.button')).toMatchObject({ value: 'blue', reason: 'DEFAULT' });
  });

  it.each([
    ['eq', 'pro', { plan: 'pro' }, { plan: 'free' }],
    ['neq', 'free', { plan: 'pro' }, {}],
    ['notIn', ['free'], { plan: 'pro' }, { plan: 'free' }],
    ['contains', 'beta', { groups: ['beta', 'x'] }, { groups: ['x'] }],
    ['startsWith', 'eu-', { region: 'eu-west' }, { region: 'us-east' }],
    ['gt', 3, { version: 4 }, { version: 3 }],
    ['lt', 3, { version: 2 }, { version: '2' }],
    [
      'lte',
      '2026-01-01T00:00:00Z',
      { signup: new Date('2025-06-01') },
      { signup: new Date('2026-06-01') },
    ],
    ['exists', undefined, { plan: 'x' }, {}],
    ['notExists', undefined, {}, { plan: 'x' }],
  ] as const)('operator %s', (op, value, matching, other) => {
    const attribute = Object.keys(matching)[0] ?? Object.keys(other)[0] ?? 'plan';
    const { flags } = flagsWith({
      'notes.search': {
        rules: [
          {
            when: [{ attribute, op, ...(value === undefined ? {} : { value: value as never }) }],
            variant: 'on',
          },
        ],
      },
    });
    expect(flags.isEnabled('notes.search', matching)).toBe(true);
    expect(flags.isEnabled('notes.search', other)).toBe(false);
  });

  it('targets nested attributes by dotted path, never through the prototype chain', () => {
    const { flags } = flagsWith({
      'notes.search': {
        rules: [
          { when: [{ attribute: 'user.country', op: 'eq', value: 'FR' }], variant: 'on' },
          { when: [{ attribute: 'constructor', op: 'exists' }], variant: 'on' },
          { when: [{ attribute: 'toString', op: 'exists' }], variant: 'on' },
        ],
      },
    });
    expect(flags.isEnabled('notes.search', { user: { country: 'FR' } })).toBe(true);
    expect(flags.isEnabled('notes.search', { user: { country: 'DE' } })).toBe(false);
    expect(flags.isEnabled('notes.search', {})).toBe(false);
  });

  it('rolls out by percentage of targeting keys, falling through for contexts without one', () => {
    const { flags } = flagsWith({ 'notes.search': { rules: [{ rollout: 30, variant: 'on' }] } });
    let on = 0;
    for (let i = 0; i < 4000; i++)
      if (flags.isEnabled('notes.search', { targetingKey: `user-${i}` })) on++;
    expect(on / 4000).toBeGreaterThan(0.27);
    expect(on / 4000).toBeLessThan(0.33);
    expect(flags.evaluate('notes.search', {})).toMatchObject({ value: false, reason: 'DEFAULT' });
    const inside = Array.from({ length: 100 }, (_, i) => `user-${i}`).find((k) =>
      flags.isEnabled('notes.search', { targetingKey: k }),
    );
    expect(flags.evaluate('notes.search', { targetingKey: inside as string })).toMatchObject({
      reason: 'SPLIT',
      variant: 'on',
    });
    expect(flags.isEnabled('notes.search', { userId: inside as string })).toBe(true);
  });

  it('buckets by another attribute with bucketBy (a whole tenant in or out)', () => {
    const { flags } = flagsWith({
      'notes.search': { rules: [{ rollout: 50, bucketBy: 'tenant', variant: 'on' }] },
    });
    for (const tenant of ['acme', 'globex', 'initech', 'umbrella']) {
      const answers = new Set(
        Array.from({ length: 20 }, (_, i) =>
          flags.isEnabled('notes.search', { tenant, targetingKey: `u${i}` }),
        ),
      );
      expect(answers.size).toBe(1);
    }
  });

  it('splits variants by weight, stably per key', () => {
    const { flags } = flagsWith({
      'checkout.button': {
        variants: { blue: 'blue', green: 'green', red: 'red' },
        rules: [{ split: { blue: 50, green: 30, red: 20 } }],
      },
    });
    const counts: Record<string, number> = { blue: 0, green: 0, red: 0 };
    for (let i = 0; i < 6000; i++) {
      const value = flags.value('checkout.button', { targetingKey: `k${i}` });
      counts[value] = (counts[value] ?? 0) + 1;
      expect(flags.value('checkout.button', { targetingKey: `k${i}` })).toBe(value);
    }
    expect((counts.blue ?? 0) / 6000).toBeCloseTo(0.5, 1);
    expect((counts.green ?? 0) / 6000).toBeCloseTo(0.3, 1);
    expect((counts.red ?? 0) / 6000).toBeCloseTo(0.2, 1);
  });

  it('kill switch: serves the code default with reason DISABLED, then revives', () => {
    const { flags, source } = flagsWith({ 'notes.search': { defaultVariant: 'on' } });
    expect(flags.isEnabled('notes.search')).toBe(true);
    source.kill('notes.search');
    expect(flags.evaluate('notes.search')).toEqual({
      key: 'notes.search',
      value: false,
      reason: 'DISABLED',
    });
    source.revive('notes.search');
    expect(flags.isEnabled('notes.search')).toBe(true);
    const { flags: disabled } = flagsWith({
      'notes.search': { enabled: false, defaultVariant: 'on' },
    });
    expect(disabled.evaluate('notes.search').reason).toBe('DISABLED');
  });

  it('uses the request context actor as targeting key when no context is given', () => {
    const { flags } = flagsWith({
      'notes.search': {
        rules: [
          { when: [{ attribute: 'targetingKey', op: 'eq', value: 'user-7' }], variant: 'on' },
        ],
      },
    });
    expect(flags.isEnabled('notes.search')).toBe(false);
    expect(
      runWithContext({ requestId: 'r', actor: { id: 'user-7' } }, () =>
        flags.isEnabled('notes.search'),
      ),
    ).toBe(true);
  });

  it('returns the same frozen result object for the same outcome (no allocation per evaluation)', () => {
    const { flags } = flagsWith({ 'notes.search': { defaultVariant: 'on' } });
    const a = flags.evaluate('notes.search');
    expect(flags.evaluate('notes.search')).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
  });
});

describe('never throws', () => {
  it('serves the default with reason ERROR for a context that throws when read', () => {
    const { flags } = flagsWith({
      'notes.search': {
        rules: [{ when: [{ attribute: 'plan', op: 'eq', value: 'x' }], variant: 'on' }],
      },
    });
    const hostile = new Proxy(
      {},
      {
        get: () => {
          throw new Error('boom');
        },
        getOwnPropertyDescriptor: () => {
          throw new Error('boom');
        },
      },
    );
    const result = flags.evaluate('notes.search', hostile as never);
    expect(result).toMatchObject({ value: false, reason: 'ERROR', errorCode: 'GENERAL' });
    expect(flags.evaluate('notes.search', null as never)).toMatchObject({ value: false });
    expect(flags.evaluate('nope' as 'notes.search')).toMatchObject({
      reason: 'ERROR',
      errorCode: 'FLAG_NOT_FOUND',
    });
  });

  it('refuses an invalid definition: default with an error reason, or the previous definition kept', () => {
    const errors: ProdError[] = [];
    const { flags, source } = flagsWith(
      {
        'notes.pageSize': { variants: { big: 'not a number' }, defaultVariant: 'big' } as never,
        'notes.limits': { variants: { a: { max: 'x' } }, defaultVariant: 'a' } as never,
        'notes.search': { defaultVariant: 'on' },
      },
      errors,
    );
    expect(flags.evaluate('notes.pageSize')).toMatchObject({
      value: 50,
      reason: 'ERROR',
      errorCode: 'TYPE_MISMATCH',
    });
    expect(flags.evaluate('notes.limits')).toMatchObject({
      value: { max: 10 },
      reason: 'ERROR',
      errorCode: 'TYPE_MISMATCH',
    });
    expect(errors.map((e) => e.code)).toEqual(['CONFIG_FLAG_INVALID', 'CONFIG_FLAG_INVALID']);

    // A bad edit of a good definition keeps the good one.
    expect(source.set('notes.search', { variants: { on: 'yes' }, defaultVariant: 'on' }).ok).toBe(
      true,
    );
    expect(flags.evaluate('notes.search')).toMatchObject({ value: true, reason: 'STATIC' });
    expect(errors[2]?.message).toMatch(/keeping its previous definition/);
    expect(source.set('notes.search', { rules: [{}] } as never).ok).toBe(false);
  });

  it('refuses malformed definitions of every shape', () => {
    const bad = [
      'text',
      42,
      null,
      [],
      { rules: 'x' },
      { rules: [{ rollout: 150, variant: 'on' }] },
      { defaultVariant: 'nope' },
      { rules: [{ split: { on: 0 } }] },
      { unknown: true },
    ];
    for (const definition of bad) {
      const errors: ProdError[] = [];
      const { flags } = flagsWith({ 'notes.search': definition as never }, errors);
      const result = flags.evaluate('notes.search');
      expect(result.value).toBe(false);
      expect(result.reason).toBe('ERROR');
      expect(errors).toHaveLength(1);
    }
  });
});

describe('evaluateDynamic', () => {
  it('evaluates undeclared keys with a default, checking types', () => {
    const { flags } = flagsWith({
      'other.flag': { variants: { a: 'x', b: 'y' }, defaultVariant: 'b' } as never,
    });
    expect(flags.evaluateDynamic('other.flag', 'z')).toMatchObject({ value: 'y', variant: 'b' });
    expect(flags.evaluateDynamic('other.flag', 1)).toMatchObject({
      value: 1,
      reason: 'ERROR',
      errorCode: 'TYPE_MISMATCH',
    });
    expect(flags.evaluateDynamic('notes.search', 'x')).toMatchObject({
      value: 'x',
      errorCode: 'TYPE_MISMATCH',
    });
    expect(flags.evaluateDynamic('missing', true)).toMatchObject({
      value: true,
      errorCode: 'FLAG_NOT_FOUND',
    });
    // The caller's default stands in wherever the code's default would.
    expect(flags.evaluateDynamic('notes.pageSize', 7)).toMatchObject({
      value: 7,
      reason: 'DEFAULT',
    });
  });
});

describe('flags from the configuration', () => {
  it('follow reloadable config updates, and invalid ones are refused with the config', () => {
    const errors: ProdError[] = [];
    const config = defineConfig(z.object({ flags: reloadable(flagDefinitions()) }), {
      env: { FLAGS: JSON.stringify({ 'notes.search': { defaultVariant: 'off' } }) },
      onError: (e) => errors.push(e),
    });
    const flags = createFlags(declarations, {
      source: configFlagSource(config, 'flags'),
      flushIntervalMs: 0,
    });
    const changed: string[][] = [];
    flags.onChange((keys) => changed.push([...keys]));
    expect(flags.isEnabled('notes.search')).toBe(false);
    expect(config.update({ flags: { 'notes.search': { defaultVariant: 'on' } } }).ok).toBe(true);
    expect(flags.isEnabled('notes.search')).toBe(true);
    expect(changed).toEqual([['notes.search']]);
    expect(
      config.update({ flags: { 'notes.search': { rules: [{ rollout: 500, variant: 'on' }] } } }).ok,
    ).toBe(false);
    expect(flags.isEnabled('notes.search')).toBe(true);
    expect(errors.map((e) => e.code)).toEqual(['CONFIG_INVALID']);
  });
});

describe('metrics and stale flags', () => {
  it('counts evaluations on a real @prod/metrics registry by flag, variant and reason', async () => {
    const metrics = createMetrics({ runtime: false });
    const counter = new Counter({
      name: 'feature_flag_evaluations_total',
      help: 'Feature flag evaluations',
      labelNames: ['flag', 'variant', 'reason'],
      registers: [metrics.registry],
    });
    const source = memoryFlagSource({
      'notes.search': {
        rules: [{ when: [{ attribute: 'plan', op: 'eq', value: 'pro' }], variant: 'on' }],
      },
    });
    const flags = createFlags(declarations, { source, metrics: counter, flushIntervalMs: 0 });
    for (let i = 0; i < 3; i++) flags.isEnabled('notes.search', { plan: 'pro' });
    flags.isEnabled('notes.search', { plan: 'free' });
    flags.value('notes.pageSize');
    await flags.flush();
    const scraped = await metrics.scrape();
    expect(scraped.ok).toBe(true);
    const text = scraped.ok ? String(scraped.value.body) : '';
    expect(text).toContain(
      'feature_flag_evaluations_total{flag="notes.search",variant="on",reason="TARGETING_MATCH"} 3',
    );
    expect(text).toContain(
      'feature_flag_evaluations_total{flag="notes.search",variant="",reason="DEFAULT"} 1',
    );
    expect(text).toContain(
      'feature_flag_evaluations_total{flag="notes.pageSize",variant="",reason="DEFAULT"} 1',
    );
    flags.isEnabled('notes.search', { plan: 'pro' });
    await flags.flush();
    const again = await metrics.scrape();
    expect(again.ok && String(again.value.body)).toContain('reason="TARGETING_MATCH"} 4');
    await flags.close();
  });

  it('reports flags not read for N days (never-read ones once tracking is that old)', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const source = memoryFlagSource({
      'orphan.flag': { defaultVariant: 'x', variants: { x: 1 } } as never,
    });
    const flags = createFlags(declarations, { source, now: () => now, flushIntervalMs: 0 });
    expect(await flags.stale({ days: 30 })).toEqual([]);
    flags.isEnabled('notes.search');
    await flags.flush();
    now += 20 * 86_400_000;
    flags.value('notes.pageSize');
    now += 15 * 86_400_000;
    const stale = await flags.stale({ days: 30 });
    expect(stale.map((s) => s.key).sort()).toEqual([
      'checkout.button',
      'notes.limits',
      'notes.search',
      'orphan.flag',
    ]);
    expect(stale.find((s) => s.key === 'notes.search')).toEqual({
      key: 'notes.search',
      lastReadAt: new Date('2026-01-01T00:00:00Z'),
      declared: true,
      defined: false,
    });
    expect(stale.find((s) => s.key === 'orphan.flag')).toMatchObject({
      lastReadAt: undefined,
      declared: false,
      defined: true,
    });
  });
});

describe('declarations and options', () => {
  it('refuses bad declarations and options at construction', () => {
    expect(() => createFlags({ 'bad key!': flag.boolean(false) })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID_OPTIONS' }),
    );
    expect(() => createFlags({ a: { type: 'boolean', defaultValue: 'yes' } as never })).toThrow(
      /defaultValue/,
    );
    expect(() => createFlags({}, { metrics: {} as never })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID_OPTIONS' }),
    );
    expect(() => createFlags({}, { source: {} as never })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID_OPTIONS' }),
    );
  });

  it('without a source, every flag serves its default and is ready at once', async () => {
    const flags = createFlags(declarations);
    expect((await flags.ready).ok).toBe(true);
    const result: FlagEvaluation<'blue' | 'green' | 'red'> = flags.evaluate('checkout.button');
    expect(result).toMatchObject({ value: 'blue', reason: 'DEFAULT' });
    await flags.close();
  });
});
