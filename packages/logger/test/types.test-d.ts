import type { ContextLogger, ProdError, Result } from '@prod/core';
import { createLogger, type LevelSpec, type Logger, parseLevelSpec } from '@prod/logger';
import { describe, expectTypeOf, it } from 'vitest';

describe('public types', () => {
  const logger = createLogger({ destination: { write() {} } });

  it('is a pino logger that fits the request context', () => {
    expectTypeOf(logger).toExtend<ContextLogger>();
    expectTypeOf(logger.child({ a: 1 })).toEqualTypeOf<Logger>();
    expectTypeOf(logger.module('cache')).toEqualTypeOf<Logger>();
    expectTypeOf(logger.child({ a: 1 }).module('x').setLevel).toBeFunction();
  });

  it('returns Results for runtime level changes and parsing', () => {
    expectTypeOf(logger.setLevel('debug')).toEqualTypeOf<
      Result<LevelSpec, ProdError<'LOGGER_INVALID_LEVEL'>>
    >();
    expectTypeOf(logger.setLevel('cache', null)).toEqualTypeOf<
      Result<LevelSpec, ProdError<'LOGGER_INVALID_LEVEL'>>
    >();
    expectTypeOf(parseLevelSpec).returns.toEqualTypeOf<
      Result<LevelSpec, ProdError<'LOGGER_INVALID_LEVEL'>>
    >();
    expectTypeOf(logger.close()).toEqualTypeOf<Promise<void>>();
  });

  it('rejects wrong option types', () => {
    // @ts-expect-error level is a spec string
    createLogger({ level: 30 });
    // @ts-expect-error redact options are an object or a boolean
    createLogger({ redact: 'yes' });
  });
});
