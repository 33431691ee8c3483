import { DEFAULT_REDACTED_KEYS, REDACTED, redact } from '@prod/audit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

describe('redact', () => {
  it('replaces sensitive keys anywhere, case and separators aside', () => {
    expect(
      redact({
        Password: 'x',
        api_key: 'k',
        'Set-Cookie': 'c',
        list: [{ refreshToken: 'r', ok: 1 }],
        keep: 'v',
      }),
    ).toEqual({
      Password: REDACTED,
      api_key: REDACTED,
      'Set-Cookie': REDACTED,
      list: [{ refreshToken: REDACTED, ok: 1 }],
      keep: 'v',
    });
    expect(redact({ email: 'a@b.c' }, { keys: ['E-Mail'] })).toEqual({ email: REDACTED });
    expect(DEFAULT_REDACTED_KEYS).toContain('authorization');
  });

  it('makes anything JSON-safe and bounded, never throwing', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(redact(cyclic)).toEqual({ a: 1, self: '[Circular]' });
    expect(redact({ n: Number.NaN, b: 10n, d: new Date(0), f: () => 1, s: Symbol('x') })).toEqual({
      n: 'NaN',
      b: '10',
      d: '1970-01-01T00:00:00.000Z',
    });
    expect(redact({ s: 'x'.repeat(50) }, { maxString: 10 })).toEqual({ s: `${'x'.repeat(10)}…` });
    fc.assert(
      fc.property(fc.anything(), (value) => {
        const out = redact(value);
        expect(() => JSON.stringify(out)).not.toThrow();
      }),
    );
  });
});
