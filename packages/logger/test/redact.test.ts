import { createLogger, createRedactor, DEFAULT_REDACT_KEYS } from '@prod/logger';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { capture } from './capture.js';

function logOne(fields: unknown, options: Parameters<typeof createLogger>[0] = {}) {
  const out = capture();
  const logger = createLogger({ base: null, ...options, destination: out.stream });
  logger.info(fields as object, 'line');
  return { line: out.lines[0]!, raw: out.raw[0]! };
}

describe('redaction in log lines', () => {
  it('redacts every default key, nested and in any case or separator style', () => {
    const { line, raw } = logOne({
      req: {
        headers: {
          Authorization: 'Bearer a1',
          COOKIE: 'sid=a2',
          'x-api-key': 'a3',
          'user-agent': 'curl',
        },
      },
      res: { headers: { 'Set-Cookie': ['sid=a4'] } },
      body: {
        user: { Password: 'a5', DB_PASSWORD: 'a6', name: 'ann' },
        client_secret: 'a7',
        accessToken: 'a8',
        creditCard: { number: 'a9' },
        PRIVATE_KEY: 'a10',
      },
    });
    expect(line).toMatchObject({
      req: {
        headers: {
          Authorization: '[Redacted]',
          COOKIE: '[Redacted]',
          'x-api-key': '[Redacted]',
          'user-agent': 'curl',
        },
      },
      res: { headers: { 'Set-Cookie': '[Redacted]' } },
      body: {
        user: { Password: '[Redacted]', DB_PASSWORD: '[Redacted]', name: 'ann' },
        client_secret: '[Redacted]',
        accessToken: '[Redacted]',
        creditCard: '[Redacted]',
        PRIVATE_KEY: '[Redacted]',
      },
    });
    for (let i = 1; i <= 10; i++) expect(raw).not.toContain(`a${i}"`);
  });

  it('redacts inside arrays and arrays of arrays', () => {
    const { line } = logOne({ users: [{ token: 't' }, [{ Secret: 's', ok: 1 }]] });
    expect(line.users).toEqual([{ token: '[Redacted]' }, [{ Secret: '[Redacted]', ok: 1 }]]);
  });

  it('leaves lines without secrets exactly as pino writes them', () => {
    const fields = { a: 1, nested: { list: [1, 'two', { three: 3 }], when: new Date(0) } };
    const { line } = logOne(fields);
    expect(line).toMatchObject({
      a: 1,
      nested: { list: [1, 'two', { three: 3 }], when: '1970-01-01T00:00:00.000Z' },
    });
    expect(line).not.toHaveProperty('[Truncated]');
  });

  it('does not take tokens for secrets where the name only starts with one', () => {
    const { line } = logOne({
      tokens: 3,
      tokenizer: 'bpe',
      secretName: 'db',
      passwords_rotated: true,
    });
    expect(line).toMatchObject({
      tokens: 3,
      tokenizer: 'bpe',
      secretName: 'db',
      passwords_rotated: true,
    });
  });

  it('redacts child bindings and base fields once, at creation', () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream, base: { service: 'n', apiKey: 'b1' } });
    logger.child({ session: { cookie: 'b2' }, user: 'u' }).info('x');
    expect(out.lines[0]).toMatchObject({
      service: 'n',
      apiKey: '[Redacted]',
      session: { cookie: '[Redacted]' },
      user: 'u',
    });
  });

  it('survives a cycle, marking it instead of looping', () => {
    const a: Record<string, unknown> = { name: 'a', password: 'p' };
    a.self = a;
    a.list = [a];
    const { line } = logOne({ a });
    expect(line.a).toEqual({
      name: 'a',
      password: '[Redacted]',
      self: '[Circular]',
      list: ['[Circular]'],
    });
  });

  it('survives a cycle without secrets too', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    const { line } = logOne({ a });
    expect(line.a).toEqual({ name: 'a', self: '[Circular]' });
  });

  it('keeps __proto__ keys as plain keys and redacts below them, polluting nothing', () => {
    const hostile = JSON.parse(
      '{"__proto__": {"password": "p1", "isAdmin": true}, "constructor": {"prototype": {"token": "p2"}}}',
    );
    const { line, raw } = logOne({ body: hostile });
    expect(raw).not.toContain('p1');
    expect(raw).not.toContain('p2');
    expect(Object.keys(line.body as object)).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(({} as Record<string, unknown>).password).toBeUndefined();
  });

  it('redacts a top-level __proto__ key inside a request context too', async () => {
    const { runWithContext } = await import('@prod/core');
    const out = capture();
    const logger = createLogger({ destination: out.stream });
    runWithContext({ requestId: 'r' }, () =>
      logger.info(JSON.parse('{"__proto__": {"secret": "p3"}}'), 'x'),
    );
    expect(out.raw[0]).not.toContain('p3');
    expect(out.lines[0]?.requestId).toBe('r');
  });

  it('cuts deep nesting at maxDepth and still redacts above it', () => {
    let deep: Record<string, unknown> = { password: 'deepest' };
    for (let i = 0; i < 5000; i++) deep = { next: deep };
    const { line, raw } = logOne({ deep, token: 'x' }, { redact: { maxDepth: 8 } });
    expect(raw).not.toContain('deepest');
    expect(line.token).toBe('[Redacted]');
    let node = line.deep as Record<string, unknown>;
    let depth = 1;
    while (typeof node.next === 'object') {
      node = node.next as Record<string, unknown>;
      depth++;
    }
    expect(node.next).toBe('[Truncated]');
    expect(depth).toBe(7);
  });

  it('bounds huge arrays and objects instead of hanging', () => {
    const big = Array.from({ length: 200_000 }, (_, i) => i);
    const wide = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, i]));
    const first = logOne({ big }, { redact: { maxEntries: 1000 } }).line;
    const list = first.big as unknown[];
    expect(list.length).toBeLessThanOrEqual(1001);
    expect(list.at(-1)).toMatch(/^\[Truncated\] 1990\d\d more$/);
    const second = logOne({ wide }, { redact: { maxEntries: 1000 } }).line;
    const keys = Object.keys(second.wide as object);
    expect(keys.length).toBeLessThanOrEqual(1001);
    expect(keys.at(-1)).toBe('[Truncated]');
    // The budget is per line: what comes after the cut is marked, not silently dropped.
    const both = logOne({ big, wide }, { redact: { maxEntries: 1000 } }).line;
    expect(both['[Truncated]']).toBe(true);
  });

  it('bounds a shared-reference DAG that would explode exponentially', () => {
    let node: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 60; i++) node = { left: node, right: node };
    const started = performance.now();
    const { line } = logOne({ node }, { redact: { maxDepth: 64 } });
    expect(line.node).toBeDefined();
    // Not a timing assertion: a walk of 2^60 paths would simply never return.
    expect(performance.now() - started).toBeGreaterThanOrEqual(0);
  });

  it('reads throwing getters as [Unreadable] instead of losing the line', () => {
    const tricky = {
      ok: 1,
      get boom(): never {
        throw new Error('getter');
      },
    };
    const redactor = createRedactor();
    expect(redactor.redact({ tricky, password: 'x' })).toEqual({
      tricky: { ok: 1, boom: '[Unreadable]' },
      password: '[Redacted]',
    });
    expect(redactor.redact({ tricky })).toEqual({ tricky: { ok: 1, boom: '[Unreadable]' } });
  });

  it('leaves typed arrays and objects with toJSON to JSON', () => {
    const redactor = createRedactor();
    const value = { bytes: new Uint8Array(100_000), when: new Date(0), token: 'x' };
    const copy = redactor.redact(value) as Record<string, unknown>;
    expect(copy.bytes).toBe(value.bytes);
    expect(copy.when).toBe(value.when);
    expect(copy.token).toBe('[Redacted]');
  });

  it('uses extra keys, a custom censor, and can drop the defaults', () => {
    expect(
      logOne({ SSN: '1', password: 'p' }, { redact: { keys: ['ssn'], censor: '***' } }).line,
    ).toMatchObject({
      SSN: '***',
      password: '***',
    });
    expect(
      logOne({ ssn: '1', password: 'p' }, { redact: { keys: ['ssn'], defaults: false } }).line,
    ).toMatchObject({
      ssn: '[Redacted]',
      password: 'p',
    });
    expect(logOne({ password: 'p' }, { redact: false }).line.password).toBe('p');
  });

  it('exposes the default key list and the key test', () => {
    expect(DEFAULT_REDACT_KEYS).toContain('authorization');
    const redactor = createRedactor();
    expect(redactor.isSecretKey('Proxy-Authorization')).toBe(true);
    expect(redactor.isSecretKey('X_API_KEY')).toBe(true);
    expect(redactor.isSecretKey('user-agent')).toBe(false);
    expect(redactor.isSecretKey('x'.repeat(10_000))).toBe(false);
  });
});

describe('redaction properties', () => {
  const secretKeys = [
    'password',
    'Authorization',
    'X-Api-Key',
    'client_secret',
    'sessionToken',
    'COOKIE',
  ];
  const key = fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.constantFrom(...secretKeys, '__proto__', 'constructor'),
  );
  const tree = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: 'small' },
      fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null)),
      fc.array(tie('node'), { maxLength: 4 }),
      fc.dictionary(key, tie('node'), { maxKeys: 5 }),
    ),
  })).node;

  function secretsIn(value: unknown, found: unknown[] = []): unknown[] {
    if (Array.isArray(value)) for (const item of value) secretsIn(item, found);
    else if (typeof value === 'object' && value !== null) {
      for (const [k, v] of Object.entries(value)) {
        if (
          secretKeys.some(
            (s) => s.toLowerCase().replace(/[-_]/g, '') === k.toLowerCase().replace(/[-_]/g, ''),
          )
        ) {
          found.push(v);
        } else secretsIn(v, found);
      }
    }
    return found;
  }

  it('never throws, never mutates, and leaves no value under a secret key', () => {
    const redactor = createRedactor();
    fc.assert(
      fc.property(tree, (value) => {
        const before = JSON.stringify(value);
        const out = redactor.redact(value);
        expect(JSON.stringify(value)).toBe(before);
        const reparsed = JSON.parse(JSON.stringify(out) ?? 'null') as unknown;
        for (const secret of secretsIn(reparsed)) expect(secret).toBe('[Redacted]');
      }),
      { numRuns: 300 },
    );
  });
});
