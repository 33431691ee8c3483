import { spawnSync } from 'node:child_process';
import { createCache, memoryStore } from '@prod/cache';
import { createMetrics } from '@prod/metrics';
import { describe, expect, it } from 'vitest';

const hasPromtool = spawnSync('promtool', ['--version']).status === 0;
if (!hasPromtool && process.env.CI === 'true')
  throw new Error('promtool is required under CI=true');

/** `promtool check metrics` on an exposition: its complaints, or undefined without promtool. */
function promtool(text: string): string[] | undefined {
  if (!hasPromtool) {
    console.warn('[@prod/cache] promtool not installed: exposition not linted');
    return undefined;
  }
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return run.status === 0 ? [] : `${run.stdout}${run.stderr}`.trim().split('\n');
}

/** The value of one sample line of a Prometheus text exposition. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return undefined;
}

describe('metrics through a @prod/metrics registry', () => {
  it('counts hits and misses by level, loads by outcome, stale values and L2 errors', async () => {
    const metrics = createMetrics({ prefix: 'notes_', runtime: false });
    const store = memoryStore();
    const cache = createCache({
      name: 'notes',
      l2: store,
      metrics,
      ttl: 60_000,
      grace: 60_000,
      jitter: 0,
    });
    await cache.set('a', 1);
    await cache.set('g', 'graced', { ttl: 20 });
    await cache.get('a'); // l1 hit
    await cache.get('missing'); // l1 miss, l2 miss
    const other = createCache({ name: 'notes-reader', l2: store, metrics });
    await other.get('a'); // l1 miss, l2 hit
    await cache.getOrSet('b', () => 'ok');
    await cache.getOrSet('c', () => {
      throw new Error('boom');
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    await cache.getOrSet('g', () => {
      throw new Error('down'); // grace value served
    });

    const scraped = await metrics.scrape();
    if (!scraped.ok) throw scraped.error;
    const text = scraped.value.body;
    expect(sample(text, 'notes_cache_hits_total', { cache: 'notes', level: 'l1' })).toBe(1);
    expect(sample(text, 'notes_cache_hits_total', { cache: 'notes-reader', level: 'l2' })).toBe(1);
    expect(
      sample(text, 'notes_cache_misses_total', { cache: 'notes', level: 'l2' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, 'notes_cache_loader_duration_seconds_count', { cache: 'notes', outcome: 'ok' }),
    ).toBe(1);
    expect(
      sample(text, 'notes_cache_loader_duration_seconds_count', {
        cache: 'notes',
        outcome: 'error',
      }),
    ).toBe(2);
    expect(
      sample(text, 'notes_cache_loader_duration_seconds_bucket', {
        cache: 'notes',
        outcome: 'ok',
        le: '+Inf',
      }),
    ).toBe(1);
    expect(
      sample(text, 'notes_cache_stale_served_total', { cache: 'notes', reason: 'grace' }),
    ).toBe(1);
    expect(sample(text, 'notes_cache_l1_entries', { cache: 'notes' })).toBeGreaterThan(0);
    expect(sample(text, 'notes_cache_bus_connected', { cache: 'notes' })).toBe(1);
    expect(sample(text, 'notes_cache_l2_circuit_open', { cache: 'notes' })).toBe(0);
    expect(text).toContain('# TYPE notes_cache_loader_duration_seconds histogram');
    expect(promtool(text) ?? []).toEqual([]);

    // OpenMetrics too (counters are renamed there, on a copy).
    const open = await metrics.scrape('application/openmetrics-text; version=1.0.0');
    if (!open.ok) throw open.error;
    expect(open.value.body).toContain('notes_cache_hits_total{');
    expect((await metrics.scrape()).ok).toBe(true);

    await cache.close();
    const after = await metrics.scrape();
    if (!after.ok) throw after.error;
    expect(
      sample(after.value.body, 'notes_cache_hits_total', { cache: 'notes', level: 'l1' }),
    ).toBeUndefined();
    expect(
      sample(after.value.body, 'notes_cache_hits_total', { cache: 'notes-reader', level: 'l2' }),
    ).toBe(1);
  });

  it('refuses a second cache of the same name on one registry, and a name another metric has', () => {
    const metrics = createMetrics({ runtime: false });
    createCache({ name: 'users', metrics });
    expect(() => createCache({ name: 'users', metrics })).toThrow(
      expect.objectContaining({
        code: 'CACHE_INVALID_OPTIONS',
        details: expect.objectContaining({ option: 'name' }),
      }),
    );
    const taken = createMetrics({ runtime: false, prefix: 'x_' });
    metrics.track('unrelated', () => 1);
    taken.registry.registerMetric({ name: 'x_cache_hits_total', get: async () => ({}) } as never);
    expect(() => createCache({ metrics: taken })).toThrow(
      expect.objectContaining({ code: 'CACHE_INVALID_OPTIONS' }),
    );
    expect(() =>
      createCache({ metrics: { registry: metrics.registry, prefix: 'bad prefix' } }),
    ).toThrow(expect.objectContaining({ code: 'CACHE_INVALID_OPTIONS' }));
  });

  it('costs nothing per call: the counters are read at scrape time', async () => {
    const metrics = createMetrics({ runtime: false });
    const cache = createCache({ name: 'hot', metrics });
    await cache.set('k', 1);
    for (let i = 0; i < 1_000; i += 1) await cache.get('k');
    const scraped = await metrics.scrape();
    if (!scraped.ok) throw scraped.error;
    expect(sample(scraped.value.body, 'cache_hits_total', { cache: 'hot', level: 'l1' })).toBe(
      1_000,
    );
    expect(cache.stats().l1.hits).toBe(1_000);
  });
});
