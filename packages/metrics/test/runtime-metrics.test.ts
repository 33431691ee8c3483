import { createMetrics, registerRuntimeMetrics } from '@prod/metrics';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { hasPromtool, parseExposition, promtoolCheck, seriesOf } from './support/exposition.js';

// prom-client's runtime collectors live as long as the process: one set for this file.
const metrics = createMetrics({ prefix: '', defaultLabels: { service: 'rt' } });

async function churnAndWait(): Promise<void> {
  let keep: unknown[] = [];
  for (let round = 0; round < 200; round++) {
    keep = Array.from({ length: 2_000 }, (_, i) => ({ i, s: `x${i}` }));
  }
  expect(keep.length).toBe(2_000);
  // GC entries reach the PerformanceObserver asynchronously.
  await new Promise((resolve) => setTimeout(resolve, 100));
}

describe('runtime metrics', () => {
  it('exposes event loop, memory, GC, handles, CPU and fds, and passes promtool', async () => {
    await churnAndWait();
    const result = await metrics.scrape();
    if (!result.ok) throw result.error;
    const body = result.value.body;
    const problems = promtoolCheck(body);
    expect(problems ?? []).toEqual([]);
    const families = parseExposition(body);
    const value = (name: string): number | undefined => families.get(name)?.samples[0]?.value;

    expect(value('process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(value('process_resident_memory_bytes')).toBeGreaterThan(1024 * 1024);
    expect(value('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(families.get('nodejs_eventloop_lag_p99_seconds')?.type).toBe('gauge');
    const elu = value('nodejs_eventloop_utilization_ratio');
    expect(elu).toBeGreaterThan(0);
    expect(elu).toBeLessThanOrEqual(1);
    const kinds = seriesOf(families.get('nodejs_gc_duration_seconds')).map((l) => l.kind);
    expect(kinds).toContain('minor');
    expect(families.get('nodejs_active_handles')?.type).toBe('gauge');
    if (process.platform === 'linux') {
      expect(value('process_open_fds')).toBeGreaterThan(0);
      expect(value('process_max_fds')).toBeGreaterThan(0);
    }
    for (const family of families.values()) {
      if (family.type !== 'counter') expect(family.name.endsWith('_total')).toBe(false);
      for (const sample of family.samples) expect(sample.labels.service).toBe('rt');
    }
  });

  it.skipIf(!hasPromtool)(
    'passes promtool where prom-client defaults alone do not (skipped: promtool not installed)',
    async () => {
      const raw = new Registry();
      collectDefaultMetrics({ register: raw });
      const problems = promtoolCheck(await raw.metrics());
      expect((problems ?? []).join('\n')).toContain('nodejs_active_handles_total');
    },
  );

  it('reports the names it registered, with the prefix', () => {
    const registry = new Registry();
    const names = registerRuntimeMetrics(registry, { prefix: 'app_' });
    expect(names).toContain('app_nodejs_gc_duration_seconds');
    expect(names).toContain('app_nodejs_eventloop_utilization_ratio');
    expect(names.some((name) => name.endsWith('active_handles_total'))).toBe(false);
    expect(names.every((name) => registry.getSingleMetric(name) !== undefined)).toBe(true);
  });

  it('refuses to register twice on one registry and leaves it untouched', () => {
    const registry = new Registry();
    registerRuntimeMetrics(registry);
    const before = registry.getMetricsAsArray().length;
    expect(() => registerRuntimeMetrics(registry)).toThrow(
      expect.objectContaining({ code: 'METRICS_NAME_CONFLICT' }),
    );
    expect(registry.getMetricsAsArray().length).toBe(before);
  });

  it('refuses bad options', () => {
    expect(() =>
      registerRuntimeMetrics(new Registry(), { eventLoopMonitoringPrecision: 0 }),
    ).toThrow(expect.objectContaining({ code: 'METRICS_INVALID_OPTIONS' }));
    expect(() => registerRuntimeMetrics(new Registry(), { gcDurationBuckets: [] })).toThrow(
      expect.objectContaining({ code: 'METRICS_INVALID_OPTIONS' }),
    );
  });
});
