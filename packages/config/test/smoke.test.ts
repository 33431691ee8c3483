import { defineConfig, loadConfig, reloadable, secret } from '@prod/config';
import { expect, it } from 'vitest';
import { z } from 'zod';

it('smoke', () => {
  const schema = z.object({
    port: z.number().int().default(3000),
    debug: z.boolean().default(false),
    db: z.object({ url: secret(z.string()), poolSize: z.number().default(10) }),
    log: z.object({ level: reloadable(z.enum(['debug', 'info']).default('info')) }),
    tags: z.array(z.string()).default([]),
  });
  const config = defineConfig(schema, {
    envPrefix: 'APP',
    env: { APP_PORT: '8080', APP_DEBUG: 'false', APP_DB_URL: 'postgres://x', APP_TAGS: 'a, b' },
  });
  console.log(config.describe(), config.value, JSON.stringify(config));
  expect(config.value.port).toBe(8080);
  const bad = loadConfig(schema, {
    envPrefix: 'APP',
    env: { APP_PORT: 'abc', APP_DEBUG: 'maybe', APP_LOG_LEVEL: 'loud' },
  });
  if (!bad.ok) console.log(bad.error.message);
});
