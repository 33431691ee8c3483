import { CoreErrors, currentContext, isProdError, ProdError, runWithContext } from '@prod/core';
import { createLogger, LoggerErrors } from '@prod/logger';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { capture } from './capture.js';

describe('createLogger output', () => {
  it('writes one JSON line with a level label, an ISO time, the name and the message', () => {
    const out = capture();
    const logger = createLogger({ name: 'notes', destination: out.stream, level: 'info' });
    logger.info({ a: 1, b: 'x' }, 'hello %s', 'world');
    expect(out.raw).toHaveLength(1);
    expect(out.raw[0]?.endsWith('\n')).toBe(true);
    const line = out.lines[0]!;
    expect(line).toMatchObject({ level: 'info', name: 'notes', a: 1, b: 'x', msg: 'hello world' });
    expect(typeof line.time).toBe('string');
    expect(new Date(line.time as string).toISOString()).toBe(line.time);
    expect(line.pid).toBe(process.pid);
  });

  describe('time', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('follows the clock to the millisecond, with and without the context ids', () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      const out = capture();
      const plain = createLogger({ destination: out.stream, context: false });
      const withIds = createLogger({ destination: out.stream });
      const at = [
        '2024-05-06T07:08:09.010Z',
        '2024-05-06T07:08:09.010Z',
        '2024-05-06T07:08:09.011Z',
      ];
      for (const iso of at) {
        vi.setSystemTime(new Date(iso));
        plain.info('plain');
        runWithContext({ requestId: 'r-time' }, () => withIds.info('with ids'));
      }
      vi.setSystemTime(new Date('2031-01-01T00:00:00.000Z'));
      plain.info('later');
      expect(out.lines.map((line) => line.time)).toEqual([
        at[0],
        at[0],
        at[1],
        at[1],
        at[2],
        at[2],
        '2031-01-01T00:00:00.000Z',
      ]);
      expect(out.lines[1]).toMatchObject({ requestId: 'r-time' });
    });
  });

  it('writes context ids that need JSON escaping as valid JSON', () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream });
    const odd = 'a"b\\c\n<\u2028>';
    runWithContext({ requestId: odd, traceId: 'plain-1.2:3_x' }, () => logger.info('odd ids'));
    expect(out.lines[0]).toMatchObject({ requestId: odd, traceId: 'plain-1.2:3_x' });
  });

  it('respects the level and base: null', () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream, level: 'warn', base: null });
    logger.info('dropped');
    logger.warn('kept');
    expect(out.lines.map((l) => l.msg)).toEqual(['kept']);
    expect(out.lines[0]).not.toHaveProperty('pid');
  });

  it('reads LOG_LEVEL when no level is given', () => {
    const previous = process.env.LOG_LEVEL;
    process.env.LOG_LEVEL = 'error,cache=debug';
    try {
      const out = capture();
      const logger = createLogger({ destination: out.stream });
      logger.warn('no');
      logger.module('cache').debug('yes');
      expect(out.lines.map((l) => l.msg)).toEqual(['yes']);
      expect(logger.levelSpec()).toBe('error,cache=debug');
    } finally {
      if (previous === undefined) delete process.env.LOG_LEVEL;
      else process.env.LOG_LEVEL = previous;
    }
  });
});

describe('request context', () => {
  it('adds requestId, traceId and spanId to every line inside a context, none outside', () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream, base: null });
    logger.info('before');
    runWithContext({ requestId: 'r-1', traceId: 't-1', spanId: 's-1' }, () => {
      logger.info('inside');
      logger.child({ part: 'x' }).warn({ k: 1 }, 'child');
    });
    logger.info('after');
    expect(out.lines[0]).not.toHaveProperty('requestId');
    expect(out.lines[1]).toMatchObject({ requestId: 'r-1', traceId: 't-1', spanId: 's-1' });
    expect(out.lines[2]).toMatchObject({ requestId: 'r-1', traceId: 't-1', part: 'x', k: 1 });
    expect(out.lines[3]).not.toHaveProperty('requestId');
  });

  it('reads the context at each call, so span changes show up on the next line', async () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream });
    await runWithContext({ requestId: 'r-2', traceId: 't-2', spanId: 'a' }, async () => {
      logger.info('one');
      const context = currentContext()!;
      context.spanId = 'b';
      await new Promise((resolve) => setImmediate(resolve));
      logger.info('two');
    });
    expect(out.lines.map((l) => l.spanId)).toEqual(['a', 'b']);
    expect(out.lines.every((l) => l.requestId === 'r-2')).toBe(true);
  });

  it('omits missing trace ids and writes each key once: the context wins over the caller', () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream });
    runWithContext({ requestId: 'r-3' }, () =>
      logger.info({ requestId: 'mine', spanId: 's', n: 1 }, 'x'),
    );
    logger.info({ requestId: 'mine outside' }, 'y');
    expect(out.lines[0]).toMatchObject({ requestId: 'r-3', n: 1 });
    expect(out.lines[0]).not.toHaveProperty('traceId');
    expect(out.lines[0]).not.toHaveProperty('spanId');
    expect(out.raw[0]?.match(/"requestId"/g)).toHaveLength(1);
    expect(out.lines[1]?.requestId).toBe('mine outside');
  });

  it('escapes ids that are not JSON-safe', () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream });
    runWithContext({ requestId: 'a"b\\c\n', traceId: 't' }, () => logger.info('x'));
    expect(out.lines[0]).toMatchObject({ requestId: 'a"b\\c\n', traceId: 't' });
  });

  it('adds the ids through a mixin for destinations that read pino line metadata', () => {
    const lines: Record<string, unknown>[] = [];
    const meta = {
      [pino.symbols.needsMetadataGsym]: true,
      lastTime: '',
      write(line: string): void {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    };
    const logger = createLogger({ destination: meta as never });
    runWithContext({ requestId: 'r-m', traceId: 't-m' }, () =>
      logger.info({ requestId: 'mine', a: 1 }, 'x'),
    );
    logger.info('outside');
    expect(lines[0]).toMatchObject({ requestId: 'r-m', traceId: 't-m', a: 1 });
    expect(meta.lastTime).not.toContain('requestId');
    expect(lines[1]).not.toHaveProperty('requestId');
  });

  it('does not touch the context with context: false', () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream, context: false });
    runWithContext({ requestId: 'r-4' }, () => logger.info('x'));
    expect(out.lines[0]).not.toHaveProperty('requestId');
  });

  it('never mutates the object passed in', () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream });
    const fields = { user: { id: 1, token: 'abc' } };
    runWithContext({ requestId: 'r-5' }, () => logger.info(fields, 'x'));
    expect(fields).toEqual({ user: { id: 1, token: 'abc' } });
    expect(out.lines[0]).toMatchObject({ requestId: 'r-5', user: { id: 1, token: '[Redacted]' } });
  });
});

describe('error serialization', () => {
  it('serializes a ProdError with code, status, details, stack and the cause chain', () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream });
    const root = new Error('socket hang up');
    const error = new ProdError({
      code: 'NOTE_STORE_DOWN',
      status: 503,
      retryable: true,
      message: 'store down',
      details: { store: 'pg' },
      cause: root,
    });
    logger.error(error);
    const line = out.lines[0]!;
    expect(line.msg).toBe('store down');
    expect(line.err).toMatchObject({
      name: 'ProdError',
      code: 'NOTE_STORE_DOWN',
      status: 503,
      retryable: true,
      details: { store: 'pg' },
      cause: { name: 'Error', message: 'socket hang up' },
    });
    expect((line.err as { stack: string }).stack).toContain('create-logger.test.ts');
  });

  it('classifies a plain error and keeps its own stack (not the logger one)', () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream });
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
      code: 'ECONNREFUSED',
    });
    logger.error({ err: refused }, 'db call failed');
    const err = out.lines[0]?.err as Record<string, unknown>;
    expect(err).toMatchObject({
      name: 'Error',
      message: 'connect ECONNREFUSED 127.0.0.1:1',
      code: 'UNAVAILABLE',
      status: 503,
      retryable: true,
      details: { systemCode: 'ECONNREFUSED' },
    });
    expect(err.stack).toBe(refused.stack);
    expect(err).not.toHaveProperty('cause');
  });

  it('serializes the `error` key and nested errors anywhere, redacting their details', () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream });
    const failure = CoreErrors.UNAUTHORIZED({ details: { apiKey: 'k-123', user: 'u' } });
    logger.warn({ error: new TypeError('bad'), result: { failure } }, 'x');
    const line = out.lines[0]!;
    expect(line.error).toMatchObject({ name: 'TypeError', message: 'bad', code: 'INTERNAL' });
    expect(line.result).toMatchObject({
      failure: { code: 'UNAUTHORIZED', details: { apiKey: '[Redacted]', user: 'u' } },
    });
    expect(out.raw[0]).not.toContain('k-123');
  });

  it('keeps secrets of an error out even with redaction off: extras are never serialized', () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream, redact: false });
    const axiosLike = Object.assign(new Error('Request failed'), {
      config: { headers: { Authorization: 'Bearer s3cr3t' } },
    });
    logger.error(axiosLike);
    expect(out.raw[0]).not.toContain('s3cr3t');
    expect(out.lines[0]?.err).toMatchObject({ message: 'Request failed' });
  });

  it('serializes a cyclic cause chain without hanging', () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream });
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    logger.error(b);
    expect(out.lines[0]?.err).toMatchObject({ message: 'b', cause: { message: 'a' } });
  });
});

describe('custom serializers', () => {
  it('get the raw value (an Error stays an Error) and their output is redacted', () => {
    const out = capture();
    const seen: unknown[] = [];
    const logger = createLogger({
      destination: out.stream,
      serializers: {
        err: (value) => {
          seen.push(value);
          return { kind: (value as Error).name, token: 'leaked?' };
        },
        user: (value) => ({ ...(value as object), Password: 'pw-9' }),
      },
    });
    logger.error({ err: new RangeError('r'), user: { id: 1 } }, 'x');
    expect(seen[0]).toBeInstanceOf(RangeError);
    expect(out.lines[0]).toMatchObject({
      err: { kind: 'RangeError', token: '[Redacted]' },
      user: { id: 1, Password: '[Redacted]' },
    });
  });
});

describe('bad options', () => {
  it('throws LOGGER_INVALID_LEVEL for a bad spec', () => {
    expect(() => createLogger({ level: 'loud' })).toThrow(/Unknown log level "loud"/);
    try {
      createLogger({ level: 'info,cache=' });
    } catch (error) {
      expect(LoggerErrors.LOGGER_INVALID_LEVEL.is(error)).toBe(true);
    }
    expect.assertions(2);
  });

  it.each([
    ['a bigint destination', { destination: 42n }, 'destination'],
    ['a destination without write', { destination: {} }, 'destination'],
    ['a numeric name', { name: 3 }, 'name'],
    ['a string pretty', { pretty: 'yes' }, 'pretty'],
    ['pretty with a stream', { pretty: true, destination: { write() {} } }, 'destination'],
    ['a serializer that is not a function', { serializers: { a: 'x' } }, 'serializers.a'],
    ['redact.maxDepth 0', { redact: { maxDepth: 0 } }, 'redact.maxDepth'],
    ['a numeric redact key', { redact: { keys: [1] } }, 'redact.keys[0]'],
    ['a string redact', { redact: 'yes' }, 'redact'],
    ['a negative dedupe.max', { dedupe: { max: -1 } }, 'dedupe.max'],
    ['a NaN window', { dedupe: { windowMs: Number.NaN } }, 'dedupe.windowMs'],
    ['a window no timer can wait', { dedupe: { windowMs: 2 ** 31 } }, 'dedupe.windowMs'],
    ['a string context', { context: 'no' }, 'context'],
    ['null options', null, 'options'],
  ])('throws LOGGER_INVALID_OPTIONS for %s, naming the option', (_label, options, option) => {
    let thrown: unknown;
    try {
      createLogger(options as never);
    } catch (error) {
      thrown = error;
    }
    expect(isProdError(thrown, 'LOGGER_INVALID_OPTIONS')).toBe(true);
    expect((thrown as { details: { option: string } }).details.option).toBe(option);
  });

  it('says what was expected and what was found', () => {
    expect(() => createLogger({ redact: { maxDepth: 0 } })).toThrow(
      'option redact.maxDepth must be an integer >= 1, got 0',
    );
  });

  it('rejects child bindings that are not an object', () => {
    const logger = createLogger({ destination: capture().stream });
    expect(() => logger.child(null as never)).toThrow(
      'option bindings must be an object, got null',
    );
    expect(() => logger.module('')).toThrow(/option module must be a non-empty string/);
  });
});
