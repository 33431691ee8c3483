import {
  createLogger,
  formatLevelSpec,
  isLogLevel,
  LoggerErrors,
  parseLevelSpec,
} from '@prod/logger';
import { describe, expect, it } from 'vitest';
import { capture } from './capture.js';

describe('parseLevelSpec', () => {
  it('parses a default and module levels, case-insensitively, with spaces', () => {
    const parsed = parseLevelSpec(' INFO , cache=Debug, db.pool = warn ');
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.level).toBe('info');
    expect([...parsed.value.modules]).toEqual([
      ['cache', 'debug'],
      ['db.pool', 'warn'],
    ]);
    expect(formatLevelSpec(parsed.value)).toBe('info,cache=debug,db.pool=warn');
  });

  it('accepts a spec with modules only', () => {
    const parsed = parseLevelSpec('cache=trace');
    expect(parsed.ok && parsed.value.level === undefined).toBe(true);
  });

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['loud', /Unknown log level "loud"/],
    ['info,', /Empty entry/],
    ['info,debug', /two default levels/],
    ['cache=', /Unknown log level ""/],
    ['=debug', /Bad module name/],
    ['ca che=debug', /Bad module name/],
    ['cache=debug,cache=info', /twice/],
    ['__proto__=debug,x=loud', /Unknown log level "loud"/],
    ['a'.repeat(5000), /at most 4096/],
  ])('rejects %j with LOGGER_INVALID_LEVEL', (spec, message) => {
    const parsed = parseLevelSpec(spec);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(LoggerErrors.LOGGER_INVALID_LEVEL.is(parsed.error)).toBe(true);
    expect(parsed.error.message).toMatch(message);
  });

  it('rejects values that are not strings', () => {
    for (const value of [undefined, null, 3, {}, ['info']])
      expect(parseLevelSpec(value).ok).toBe(false);
  });

  it('knows the level names', () => {
    expect(isLogLevel('warn')).toBe(true);
    expect(isLogLevel('WARN')).toBe(false);
    expect(isLogLevel('constructor')).toBe(false);
  });

  it('treats __proto__ as an ordinary module name', () => {
    const parsed = parseLevelSpec('__proto__=debug');
    expect(parsed.ok && parsed.value.modules.get('__proto__')).toBe('debug');
    expect(({} as Record<string, unknown>).debug).toBeUndefined();
  });
});

describe('runtime levels', () => {
  function setup(level = 'info') {
    const out = capture();
    const logger = createLogger({ destination: out.stream, level, base: null, dedupe: false });
    return { out, logger, msgs: () => out.lines.map((l) => l.msg) };
  }

  it('setLevel reaches children, grandchildren and module loggers created before', () => {
    const { logger, msgs } = setup('info');
    const child = logger.child({ a: 1 });
    const grandchild = child.child({ b: 2 });
    const cache = logger.module('cache');
    const cacheChild = cache.child({ key: 'k' });
    for (const l of [logger, child, grandchild, cache, cacheChild]) l.debug('hidden');
    expect(logger.setLevel('debug').ok).toBe(true);
    for (const [i, l] of [logger, child, grandchild, cache, cacheChild].entries())
      l.debug(`shown ${i}`);
    expect(msgs()).toEqual(['shown 0', 'shown 1', 'shown 2', 'shown 3', 'shown 4']);
  });

  it('module levels come from the spec and win over the default', () => {
    const { logger, msgs } = setup('warn,cache=debug');
    const cache = logger.module('cache');
    const db = logger.module('db');
    cache.debug('cache debug');
    db.info('db info');
    logger.info('root info');
    expect(msgs()).toEqual(['cache debug']);
    logger.setLevel('error');
    cache.debug('still cache debug');
    db.warn('db warn now hidden');
    expect(msgs()).toEqual(['cache debug', 'still cache debug']);
  });

  it('child({ module }) is the same as module()', () => {
    const { logger, out } = setup('info,cache=debug');
    logger.child({ module: 'cache', shard: 1 }).debug('x');
    expect(out.lines[0]).toMatchObject({ module: 'cache', shard: 1, msg: 'x' });
  });

  it("setLevel('cache', level) reaches existing cache loggers and their children only", () => {
    const { logger, msgs } = setup('info');
    const cache = logger.module('cache');
    const perKey = cache.child({ key: 'k' });
    const db = logger.module('db');
    expect(logger.setLevel('cache', 'debug').ok).toBe(true);
    cache.debug('cache');
    perKey.debug('per key');
    db.debug('db');
    logger.debug('root');
    expect(msgs()).toEqual(['cache', 'per key']);
    expect(logger.levelSpec()).toBe('info,cache=debug');
    expect(logger.setLevel('cache', null).ok).toBe(true);
    cache.debug('gone');
    cache.info('back to default');
    expect(msgs()).toEqual(['cache', 'per key', 'back to default']);
    expect(logger.levelSpec()).toBe('info');
  });

  it('a dotted module follows its closest configured parent', () => {
    const { logger, msgs } = setup('warn,cache=debug,cache.redis=error');
    logger.module('cache.lru').debug('lru');
    logger.module('cache.redis').warn('redis warn');
    logger.module('cache.redis.pool').error('pool error');
    logger.module('cachet').info('not a child of cache');
    expect(msgs()).toEqual(['lru', 'pool error']);
  });

  it('a spec with modules merges: other module levels stay', () => {
    const { logger } = setup('info,cache=debug');
    logger.setLevel('warn,db=trace');
    expect(logger.levelSpec()).toBe('warn,cache=debug,db=trace');
  });

  it('an explicit child level holds until the next setLevel', () => {
    const { logger, msgs } = setup('info');
    const loud = logger.child({ job: 'x' }, { level: 'trace' });
    loud.trace('trace 1');
    logger.setLevel('warn');
    loud.trace('trace 2');
    loud.warn('warn');
    expect(msgs()).toEqual(['trace 1', 'warn']);
  });

  it('returns LOGGER_INVALID_LEVEL and changes nothing for bad input', () => {
    const { logger } = setup('info,cache=debug');
    const results = [
      logger.setLevel('loud'),
      logger.setLevel('cache', 'loud'),
      logger.setLevel('a,b', 'debug'),
      logger.setLevel('a=b', 'debug'),
      logger.setLevel('', 'debug'),
      logger.setLevel(7 as never, 'debug'),
    ];
    for (const result of results) {
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error.code).toBe('LOGGER_INVALID_LEVEL');
    }
    expect(logger.levelSpec()).toBe('info,cache=debug');
  });

  it('does not keep per-request children alive and keeps working after many', () => {
    const { logger, msgs } = setup('info');
    for (let i = 0; i < 2000; i++) logger.child({ i }, { level: 'info' });
    const kept = logger.child({ keep: true }, { level: 'info' });
    logger.setLevel('debug');
    kept.debug('kept follows');
    expect(msgs()).toEqual(['kept follows']);
  });

  it('silent turns everything off', () => {
    const { logger, msgs } = setup('info');
    const cache = logger.module('cache');
    logger.setLevel('silent');
    logger.fatal('x');
    cache.fatal('y');
    expect(msgs()).toEqual([]);
  });
});
