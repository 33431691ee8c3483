import { InMemoryProvider, OpenFeature, ProviderEvents } from '@openfeature/server-sdk';
import { createFlags, flag, memoryFlagSource } from '@prod/config';
import { openFeatureFlags, ProdFlagsProvider } from '@prod/config/openfeature';
import { createMetrics } from '@prod/metrics';
import { Counter } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

afterAll(() => OpenFeature.close());

describe('ProdFlagsProvider: our flags for OpenFeature users', () => {
  it('evaluates our definitions, rules and rollouts through the OpenFeature client', async () => {
    const source = memoryFlagSource({
      'notes.search': {
        rules: [
          { name: 'pro', when: [{ attribute: 'plan', op: 'eq', value: 'pro' }], variant: 'on' },
        ],
      },
      'notes.pageSize': { variants: { small: 20 }, defaultVariant: 'small' },
      'checkout.button': { variants: { blue: 'blue', green: 'green' }, defaultVariant: 'green' },
      'notes.limits': { variants: { a: { max: 3 } }, defaultVariant: 'a' },
    });
    const flags = createFlags(
      { 'notes.search': flag.boolean(false) },
      { source, flushIntervalMs: 0 },
    );
    await OpenFeature.setProviderAndWait('prod-test', new ProdFlagsProvider(flags));
    const client = OpenFeature.getClient('prod-test');
    const details = await client.getBooleanDetails('notes.search', false, {
      targetingKey: 'u1',
      plan: 'pro',
    });
    expect(details).toMatchObject({
      value: true,
      variant: 'on',
      reason: 'TARGETING_MATCH',
      flagMetadata: { rule: 'pro' },
    });
    expect(await client.getBooleanValue('notes.search', false, { plan: 'free' })).toBe(false);
    expect(await client.getNumberValue('notes.pageSize', 50)).toBe(20);
    expect(await client.getStringValue('checkout.button', 'blue')).toBe('green');
    expect(await client.getObjectValue('notes.limits', { max: 1 })).toEqual({ max: 3 });
    const missing = await client.getBooleanDetails('nope', true);
    expect(missing).toMatchObject({ value: true, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' });
    const mismatch = await client.getStringDetails('notes.search', 'x');
    expect(mismatch).toMatchObject({ value: 'x', errorCode: 'TYPE_MISMATCH' });
  });

  it('emits PROVIDER_CONFIGURATION_CHANGED with the changed keys', async () => {
    const source = memoryFlagSource({});
    const flags = createFlags(
      { 'notes.search': flag.boolean(false) },
      { source, flushIntervalMs: 0 },
    );
    await OpenFeature.setProviderAndWait('prod-events', new ProdFlagsProvider(flags));
    const client = OpenFeature.getClient('prod-events');
    const changed = new Promise<string[] | undefined>((resolve) => {
      client.addHandler(ProviderEvents.ConfigurationChanged, (details) =>
        resolve(details?.flagsChanged),
      );
    });
    source.set('notes.search', { defaultVariant: 'on' });
    expect(await changed).toEqual(['notes.search']);
    expect(await client.getBooleanValue('notes.search', false)).toBe(true);
  });
});

describe('openFeatureFlags: our typed flags over any OpenFeature provider', () => {
  it('evaluates declared flags through an InMemoryProvider, with defaults, metrics and stale reports', async () => {
    await OpenFeature.setProviderAndWait(
      'in-memory',
      new InMemoryProvider({
        'notes.search': {
          variants: { on: true, off: false },
          defaultVariant: 'off',
          disabled: false,
          contextEvaluator: (ctx) => (ctx.plan === 'pro' ? 'on' : 'off'),
        },
        'notes.limits': { variants: { bad: { max: 'x' } }, defaultVariant: 'bad', disabled: false },
      }),
    );
    const metrics = createMetrics({ runtime: false });
    const counter = new Counter({
      name: 'of_flag_evaluations_total',
      help: 'x',
      labelNames: ['flag', 'variant', 'reason'],
      registers: [metrics.registry],
    });
    let now = 0;
    const flags = openFeatureFlags(
      {
        'notes.search': flag.boolean(false),
        'notes.pageSize': flag.number(50),
        'notes.limits': flag.object(z.object({ max: z.number() }), { max: 10 }),
      },
      {
        client: OpenFeature.getClient('in-memory'),
        metrics: counter,
        flushIntervalMs: 0,
        now: () => now,
      },
    );
    expect(await flags.isEnabled('notes.search', { plan: 'pro' })).toBe(true);
    expect(await flags.evaluate('notes.search', { plan: 'free' })).toMatchObject({
      value: false,
      variant: 'off',
    });
    expect(await flags.evaluate('notes.pageSize')).toMatchObject({
      value: 50,
      reason: 'ERROR',
      errorCode: 'FLAG_NOT_FOUND',
    });
    expect(await flags.evaluate('notes.limits')).toMatchObject({
      value: { max: 10 },
      reason: 'ERROR',
      errorCode: 'TYPE_MISMATCH',
    });
    await flags.flush();
    const scraped = await metrics.scrape();
    expect(scraped.ok && String(scraped.value.body)).toMatch(
      /of_flag_evaluations_total\{flag="notes.search",variant="on",reason="TARGETING_MATCH"\} 1/,
    );
    now += 40 * 86_400_000;
    expect((await flags.stale({ days: 30 })).map((s) => s.key)).toEqual([
      'notes.search',
      'notes.pageSize',
      'notes.limits',
    ]);
    await flags.close();
  });

  it('refuses a client that is not one', () => {
    expect(() => openFeatureFlags({}, { client: {} as never })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID_OPTIONS' }),
    );
  });
});
