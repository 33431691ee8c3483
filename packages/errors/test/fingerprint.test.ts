import { CoreErrors, ProdError } from '@prod/core';
import { fingerprint } from '@prod/errors';
import { describe, expect, it } from 'vitest';

function withStack(message: string, stack: string): Error {
  const error = new Error(message);
  error.stack = `Error: ${message}\n${stack}`;
  return error;
}

const cwd = process.cwd();

describe('fingerprint', () => {
  it('is the same for errors thrown at the same place, different elsewhere', () => {
    const make = (): Error => new Error('boom');
    const a = make();
    const b = make();
    const c = new Error('boom');
    expect(fingerprint(a)).toBe(fingerprint(b));
    expect(fingerprint(a)).not.toBe(fingerprint(c));
    expect(fingerprint(a)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('ignores line and column numbers, the working directory, file:// and query strings', () => {
    const a = withStack(
      'x',
      `    at load (${cwd}/src/users.ts:10:5)\n    at main (${cwd}/src/app.ts:3:1)`,
    );
    const b = withStack(
      'y',
      `    at load (file://${cwd}/src/users.ts?t=123:99:7)\n    at main (src/app.ts:40:2)`,
    );
    expect(fingerprint(a)).toBe(fingerprint(b));
  });

  it('keeps only what follows the last node_modules/ (pnpm paths, versions)', () => {
    const a = withStack(
      'x',
      '    at q (/a/node_modules/.pnpm/pg@8.1.0/node_modules/pg/lib/client.js:1:1)',
    );
    const b = withStack('x', '    at q (/b/node_modules/pg/lib/client.js:7:7)');
    expect(fingerprint(a)).toBe(fingerprint(b));
  });

  it('skips node: internals and distinguishes functions', () => {
    const a = withStack(
      'x',
      '    at processTicks (node:internal/process/task_queues:95:5)\n    at f (/app/a.js:1:1)',
    );
    const b = withStack('x', '    at f (/app/a.js:2:2)');
    const c = withStack('x', '    at g (/app/a.js:1:1)');
    expect(fingerprint(a)).toBe(fingerprint(b));
    expect(fingerprint(a)).not.toBe(fingerprint(c));
  });

  it('uses only the top N frames', () => {
    const top = '    at f (/app/a.js:1:1)\n    at g (/app/b.js:1:1)';
    const a = withStack('x', `${top}\n    at h (/app/c.js:1:1)`);
    const b = withStack('x', `${top}\n    at other (/app/z.js:1:1)`);
    expect(fingerprint(a, { frames: 2 })).toBe(fingerprint(b, { frames: 2 }));
    expect(fingerprint(a, { frames: 3 })).not.toBe(fingerprint(b, { frames: 3 }));
  });

  it('separates codes at the same place', () => {
    const stack = '    at f (/app/a.js:1:1)';
    const timeout = CoreErrors.TIMEOUT();
    timeout.stack = `x\n${stack}`;
    const unavailable = CoreErrors.UNAVAILABLE();
    unavailable.stack = `x\n${stack}`;
    expect(fingerprint(timeout)).not.toBe(fingerprint(unavailable));
  });

  it('groups an INTERNAL wrapper by the stack of what it wraps', () => {
    const cause = withStack('db', '    at query (/app/db.js:1:1)');
    expect(fingerprint(ProdError.from(cause))).toBe(fingerprint(ProdError.from(cause)));
    expect(fingerprint(new ProdError({ code: 'INTERNAL', cause }))).toBe(
      fingerprint(ProdError.from(cause)),
    );
  });

  it('without frames, falls back to the message with ids and numbers masked', () => {
    const a = CoreErrors.NOT_FOUND({ message: 'user 42 not found', captureStack: false });
    const b = CoreErrors.NOT_FOUND({ message: 'user 97 not found', captureStack: false });
    const c = CoreErrors.NOT_FOUND({
      message: 'order 123e4567-e89b-12d3-a456-426614174000 missing',
      captureStack: false,
    });
    expect(fingerprint(a)).toBe(fingerprint(b));
    expect(fingerprint(a)).not.toBe(fingerprint(c));
  });

  it('accepts anything without throwing: strings, null, numbers, objects, hostile values', () => {
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('trap');
        },
      },
    );
    const huge = withStack('x', '    at f (/a.js:1:1)\n'.repeat(100_000));
    const values: unknown[] = [
      'text',
      null,
      undefined,
      42,
      { stack: 123 },
      JSON.parse('{"__proto__": {"stack": "at evil"}}'),
      hostile,
      huge,
    ];
    for (const value of values) expect(fingerprint(value)).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprint('a')).toBe(fingerprint('a'));
  });
});
