import { runWithContext } from '@prod/core';
import { createLogger } from '@prod/logger';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { capture } from './capture.js';

describe('repeated-line suppression', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup(max = 3) {
    const out = capture();
    const logger = createLogger({
      destination: out.stream,
      base: null,
      dedupe: { max, windowMs: 1000 },
    });
    return { out, logger };
  }

  it('lets N lines through, then folds the rest into one line with a count when the window ends', () => {
    const { out, logger } = setup(3);
    for (let i = 0; i < 10; i++) logger.warn({ attempt: i }, 'cache miss storm');
    expect(out.lines.map((l) => l.attempt)).toEqual([0, 1, 2]);
    vi.advanceTimersByTime(1000);
    expect(out.lines).toHaveLength(4);
    expect(out.lines[3]).toMatchObject({ level: 'warn', msg: 'cache miss storm', repeated: 7 });
    expect(out.lines[3]).not.toHaveProperty('attempt');
  });

  it('starts a fresh window after the summary', () => {
    const { out, logger } = setup(2);
    for (let i = 0; i < 3; i++) logger.info('x');
    vi.advanceTimersByTime(1000);
    for (let i = 0; i < 2; i++) logger.info('x');
    vi.advanceTimersByTime(1000);
    expect(out.lines.map((l) => l.repeated)).toEqual([
      undefined,
      undefined,
      1,
      undefined,
      undefined,
    ]);
  });

  it('writes no summary when nothing was suppressed', () => {
    const { out, logger } = setup(5);
    logger.info('a');
    logger.info('a');
    vi.advanceTimersByTime(5000);
    expect(out.lines).toHaveLength(2);
  });

  it('keys by level, module and message template', () => {
    const { out, logger } = setup(1);
    logger.info('same');
    logger.warn('same');
    logger.module('cache').info('same');
    logger.info('user %s', 'a');
    logger.info('user %s', 'b');
    logger.info(new Error('boom'));
    logger.info(new Error('boom'));
    expect(out.lines.map((l) => l.msg)).toEqual(['same', 'same', 'same', 'user a', 'boom']);
    vi.advanceTimersByTime(1000);
    expect(out.lines.slice(5)).toEqual([
      expect.objectContaining({ msg: 'user %s', repeated: 1 }),
      expect.objectContaining({ msg: 'boom', repeated: 1 }),
    ]);
  });

  it('flush() writes pending summaries at once', () => {
    const { out, logger } = setup(1);
    logger.error('down');
    logger.error('down');
    logger.flush();
    expect(out.lines.at(-1)).toMatchObject({ msg: 'down', repeated: 1, level: 'error' });
    vi.advanceTimersByTime(1000);
    expect(out.lines).toHaveLength(2);
  });

  it('close() writes pending summaries, then the logger is silent', async () => {
    const { out, logger } = setup(1);
    logger.info('bye');
    logger.info('bye');
    await logger.close();
    logger.fatal('after close');
    expect(out.lines.map((l) => [l.msg, l.repeated])).toEqual([
      ['bye', undefined],
      ['bye', 1],
    ]);
  });

  it('summary lines belong to no request', () => {
    const { out, logger } = setup(1);
    runWithContext({ requestId: 'r-1' }, () => {
      logger.info('flood');
      logger.info('flood');
    });
    vi.advanceTimersByTime(1000);
    expect(out.lines[0]?.requestId).toBe('r-1');
    expect(out.lines[1]).toMatchObject({ repeated: 1 });
    expect(out.lines[1]).not.toHaveProperty('requestId');
  });

  it('keeps the bindings of the logger that went over', () => {
    const { out, logger } = setup(1);
    const job = logger.child({ job: 'sync' });
    job.info('tick');
    job.info('tick');
    vi.advanceTimersByTime(1000);
    expect(out.lines[1]).toMatchObject({ job: 'sync', repeated: 1 });
  });

  it('stops tracking new messages past maxKeys (bounded memory) and lets them through', () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream, dedupe: { max: 1, maxKeys: 2 } });
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) logger.info(`m${i}`);
    // m0 and m1 are tracked (1 line each, 2 suppressed); m2 is beyond maxKeys: all pass.
    expect(out.lines.map((l) => l.msg)).toEqual(['m0', 'm1', 'm2', 'm2', 'm2']);
  });

  it('does nothing with dedupe: false', () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream, dedupe: false });
    for (let i = 0; i < 500; i++) logger.info('same');
    expect(out.lines).toHaveLength(500);
  });

  it("does not hold the process open: its window timer is unref'd", () => {
    vi.useRealTimers();
    const refTimers = (): number =>
      process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
    const { logger } = setup(1);
    const before = refTimers();
    logger.info('x');
    logger.info('x');
    expect(refTimers()).toBe(before);
    logger.flush();
  });
});
