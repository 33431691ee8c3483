import { ProdError } from '@prod/core';
import { createMetrics } from '@prod/metrics';
import { createRateLimiter, createThrottle, type Throttle } from '@prod/ratelimit';
import { afterEach, describe, expect, it } from 'vitest';

const throttles: Throttle[] = [];
afterEach(async () => {
  for (const throttle of throttles.splice(0)) await throttle.stop();
});

function make(options: Parameters<typeof createThrottle>[0]): Throttle {
  const throttle = createThrottle(options);
  throttles.push(throttle);
  return throttle;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('createThrottle (bottleneck behind our interface)', () => {
  it('runs at most maxConcurrent at once and returns Results', async () => {
    const throttle = make({ maxConcurrent: 2 });
    let running = 0;
    let most = 0;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        throttle.schedule(async () => {
          running += 1;
          most = Math.max(most, running);
          await sleep(10);
          running -= 1;
          return i * 2;
        }),
      ),
    );
    expect(most).toBe(2);
    expect(results.map((r) => (r.ok ? r.value : -1))).toEqual([0, 2, 4, 6, 8, 10, 12, 14]);
  });

  it('spaces job starts by minTime', async () => {
    const throttle = make({ minTime: 40 });
    const starts: number[] = [];
    await Promise.all(
      Array.from({ length: 4 }, () => throttle.schedule(() => starts.push(performance.now()))),
    );
    // timers may fire a little early or late on a loaded machine: the span is what minTime bounds
    expect((starts[3] as number) - (starts[0] as number)).toBeGreaterThanOrEqual(3 * 40 * 0.8);
  });

  it('a full queue refuses at once with THROTTLE_QUEUE_FULL instead of growing', async () => {
    const throttle = make({ maxConcurrent: 1, maxQueued: 2 });
    let release: () => void = () => {};
    const blocker = throttle.schedule(() => new Promise<void>((resolve) => (release = resolve)));
    await sleep(10);
    const queued = [throttle.schedule(() => 1), throttle.schedule(() => 2)];
    await sleep(10);
    const refused = await throttle.schedule(() => 3);
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.error.code).toBe('THROTTLE_QUEUE_FULL');
      expect(refused.error.status).toBe(503);
      expect(refused.error.retryable).toBe(true);
    }
    release();
    expect((await blocker).ok).toBe(true);
    expect((await Promise.all(queued)).map((r) => r.ok)).toEqual([true, true]);
  });

  it('a reservoir limits job starts until it is refreshed', async () => {
    const throttle = make({
      reservoir: 2,
      reservoirRefreshInterval: 150,
      reservoirRefreshAmount: 2,
    });
    const started = performance.now();
    const at: number[] = [];
    await Promise.all(
      Array.from({ length: 4 }, () =>
        throttle.schedule(() => at.push(performance.now() - started)),
      ),
    );
    expect(at.filter((t) => t < 100).length).toBe(2);
    expect(at.filter((t) => t >= 100).length).toBe(2);
  });

  it('timeouts, failures and ProdErrors come back as typed Results', async () => {
    const throttle = make({ timeout: 30 });
    const slow = await throttle.schedule(() => sleep(200));
    expect(!slow.ok && slow.error.code).toBe('THROTTLE_TIMEOUT');
    const failed = await throttle.schedule(() => {
      throw new Error('boom');
    });
    expect(!failed.ok && failed.error.code).toBe('THROTTLE_JOB_FAILED');
    expect(!failed.ok && (failed.error.cause as Error).message).toBe('boom');
    const upstream = new ProdError({ code: 'UPSTREAM_DOWN', status: 503 });
    const own = await throttle.schedule(async () => {
      throw upstream;
    });
    expect(!own.ok && own.error).toBe(upstream);
  });

  it('wrap throttles every call; stop refuses the rest with THROTTLE_STOPPED', async () => {
    const throttle = createThrottle({ maxConcurrent: 1 });
    let started = false;
    const double = throttle.wrap(async (n: number) => {
      started = true;
      await sleep(20);
      return n * 2;
    });
    const first = double(1);
    const second = double(2);
    while (!started) await sleep(1);
    await throttle.stop();
    expect(await first).toEqual({ ok: true, value: 2 });
    expect((await second).ok).toBe(false);
    const after = await double(3);
    expect(!after.ok && after.error.code).toBe('THROTTLE_STOPPED');
  });

  it('reports to a @prod/metrics registry', async () => {
    const metrics = createMetrics({ runtime: false });
    const throttle = make({ name: 'payments', maxConcurrent: 1, maxQueued: 0, metrics });
    let release: () => void = () => {};
    const blocker = throttle.schedule(() => new Promise<void>((resolve) => (release = resolve)));
    await sleep(10);
    await throttle.schedule(() => 1); // refused: the queue holds 0
    release();
    await blocker;
    await throttle.schedule(() => 2);
    const scraped = await metrics.scrape();
    expect(scraped.ok).toBe(true);
    const text = scraped.ok ? scraped.value.body : '';
    expect(text).toContain('throttle_jobs_total{throttle="payments",outcome="done"} 2');
    expect(text).toContain('throttle_jobs_total{throttle="payments",outcome="queue_full"} 1');
    expect(text).toMatch(/throttle_queued\{throttle="payments"\} 0/);
    expect(text).toMatch(/# TYPE throttle_wait_seconds_total counter/);
  });

  it('limiters report decisions by policy and outcome to the same registry', async () => {
    const metrics = createMetrics({ runtime: false });
    const limiter = createRateLimiter({
      name: 'api',
      metrics,
      policies: [{ name: 'p', limit: 1, window: 60_000, algorithm: 'sliding-window' }],
    });
    await limiter.consume('k');
    await limiter.consume('k');
    const scraped = await metrics.scrape();
    const text = scraped.ok ? scraped.value.body : '';
    expect(text).toContain(
      'ratelimit_decisions_total{limiter="api",policy="p",outcome="allowed"} 1',
    );
    expect(text).toContain(
      'ratelimit_decisions_total{limiter="api",policy="p",outcome="limited"} 1',
    );
    expect(text).toContain('ratelimit_under_pressure{limiter="api"} 0');
    await limiter.close();
    expect(() => createThrottle({ metrics: { registry: {} as never } })).toThrow(
      /prom-client Registry/,
    );
  });

  it('refuses bad options at construction', () => {
    for (const options of [
      { maxConcurrent: 0 },
      { minTime: -1 },
      { maxQueued: 1.5 },
      { name: 'has space' },
      { redis: {} },
      { timeout: 'soon' },
    ]) {
      expect(() => createThrottle(options as never), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'RATELIMIT_INVALID_OPTIONS' }),
      );
    }
  });
});
