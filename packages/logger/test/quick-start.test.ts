import { describe, expect, it, vi } from 'vitest';
import { capture } from './capture.js';
import { main } from './fixtures/quick-start.js';

describe('README quick start', () => {
  it('runs and writes the lines the README shows', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const out = capture();
    await main(out.stream);
    expect(log).toHaveBeenCalledWith('mount the "request-logging" part on your framework adapter');
    expect(out.lines).toHaveLength(3);
    expect(out.lines[0]).toMatchObject({
      level: 'info',
      name: 'notes',
      requestId: 'req-1',
      traceId: '4bf92f3577b34da6',
      spanId: '00f067aa',
      user: { id: 7, Password: '[Redacted]' },
      headers: { Authorization: '[Redacted]' },
      msg: 'signed in',
    });
    expect(out.lines[1]).toMatchObject({
      level: 'debug',
      module: 'cache',
      requestId: 'req-1',
      msg: 'cache miss',
    });
    expect(out.lines[2]).toMatchObject({
      level: 'error',
      msg: 'db call failed',
      err: { code: 'UNAVAILABLE', retryable: true, details: { systemCode: 'ECONNREFUSED' } },
    });
  });
});
