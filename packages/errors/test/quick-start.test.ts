import { describe, expect, it, vi } from 'vitest';
import { main } from './fixtures/quick-start.js';

describe('README quick start', () => {
  it('runs: retries through two failures, answers 500 for a throw, reports one group', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    expect(await main()).toEqual({ price: 42, calls: 3, status: 500 });
    expect(log.mock.calls.map((c) => c[0])).toEqual(['price 42 after 3 calls', '1 error group(s)']);
  });
});
