import {
  type Config,
  createFlags,
  defineConfig,
  flag,
  reloadable,
  type Secret,
  secret,
} from '@prod/config';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';

const schema = z.object({
  port: z.number().default(3000),
  db: z.object({ url: secret(z.string()), poolSize: z.number().default(10) }),
  log: z.object({ level: reloadable(z.enum(['debug', 'info']).default('info')) }),
  tls: z.object({ cert: z.string() }).optional(),
});

describe('config types', () => {
  const config: Config<typeof schema> = defineConfig(schema);

  it('types values, paths and secrets', () => {
    expectTypeOf(config.value.port).toEqualTypeOf<number>();
    expectTypeOf(config.value.db.url).toEqualTypeOf<Secret<string>>();
    expectTypeOf(config.get('log.level')).toEqualTypeOf<'debug' | 'info'>();
    expectTypeOf(config.get('db.poolSize')).toEqualTypeOf<number>();
    expectTypeOf(config.get('tls.cert')).toEqualTypeOf<string | undefined>();
    // @ts-expect-error not a key of the schema
    config.get('db.nope');
    // @ts-expect-error the value is read-only
    config.value.port = 1;
  });

  it('types onChange listeners by path', () => {
    config.onChange('log.level', (value, previous) => {
      expectTypeOf(value).toEqualTypeOf<'debug' | 'info'>();
      expectTypeOf(previous).toEqualTypeOf<'debug' | 'info'>();
    });
  });

  it('types overrides and guards by the schema', () => {
    defineConfig(schema, { overrides: { db: { poolSize: 3 } } });
    // @ts-expect-error poolSize is a number
    defineConfig(schema, { overrides: { db: { poolSize: 'x' } } });
    defineConfig(schema, {
      guards: [
        { key: 'log.level', check: (level) => (level === 'debug' ? 'not debug' : undefined) },
      ],
    });
  });
});

describe('flag types', () => {
  const flags = createFlags({
    search: flag.boolean(false),
    button: flag.string('blue', { values: ['blue', 'green'] as const }),
    size: flag.number(1),
  });

  it('types values by declaration', () => {
    expectTypeOf(flags.value('button')).toEqualTypeOf<'blue' | 'green'>();
    expectTypeOf(flags.value('size')).toEqualTypeOf<number>();
    expectTypeOf(flags.isEnabled('search')).toEqualTypeOf<boolean>();
    // @ts-expect-error not a boolean flag
    flags.isEnabled('size');
    // @ts-expect-error not declared
    flags.value('nope');
  });
});
