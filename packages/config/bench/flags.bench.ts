/**
 * Flag evaluation and config reads per second: @prod/config against @openfeature/server-sdk
 * with its InMemoryProvider (the same flag, the same context), and config reads against
 * envalid (property read on its env object) and convict (`get('a.b')`). Each contender reads
 * a value its own way and hands it to `keep`. Run: `pnpm bench:micro config/bench/flags`.
 */
import { InMemoryProvider, OpenFeature } from '@openfeature/server-sdk';
import { createFlags, defineConfig, flag, memoryFlagSource } from '@prod/config';
import convict from 'convict';
import { cleanEnv, num, str } from 'envalid';
import { z } from 'zod';
import { keep, runMicro } from '../../../config/bench-micro.js';

const users = Array.from({ length: 1024 }, (_, i) => `user-${i}`);
let n = 0;
const nextUser = (): string => {
  n = (n + 1) & 1023;
  return users[n] as string;
};
const contexts = users.map((targetingKey, i) => ({
  targetingKey,
  plan: i % 3 === 0 ? 'pro' : 'free',
}));
const nextContext = () => {
  n = (n + 1) & 1023;
  return contexts[n] as { targetingKey: string; plan: string };
};

// --- flags ---------------------------------------------------------------------------------

const ours = createFlags(
  { static: flag.boolean(false), targeted: flag.boolean(false), rollout: flag.boolean(false) },
  {
    source: memoryFlagSource({
      static: { defaultVariant: 'on' },
      targeted: {
        rules: [{ when: [{ attribute: 'plan', op: 'eq', value: 'pro' }], variant: 'on' }],
      },
      rollout: { rules: [{ rollout: 30, variant: 'on' }] },
    }),
    flushIntervalMs: 0,
  },
);

await OpenFeature.setProviderAndWait(
  new InMemoryProvider({
    static: { variants: { on: true, off: false }, defaultVariant: 'on', disabled: false },
    targeted: {
      variants: { on: true, off: false },
      defaultVariant: 'off',
      disabled: false,
      contextEvaluator: (ctx) => (ctx.plan === 'pro' ? 'on' : 'off'),
    },
  }),
);
const client = OpenFeature.getClient();

// --- config reads --------------------------------------------------------------------------

const env = { APP_DB_POOL_SIZE: '20', APP_DB_HOST: 'db.internal', APP_PORT: '8080' };
const config = defineConfig(
  z.object({
    port: z.number().default(3000),
    db: z.object({ host: z.string(), poolSize: z.number().default(10) }),
  }),
  { env, envPrefix: 'APP' },
);
const envalidEnv = cleanEnv(env, { APP_DB_POOL_SIZE: num(), APP_DB_HOST: str(), APP_PORT: num() });
const convictConfig = convict(
  {
    port: { format: 'port', default: 3000, env: 'APP_PORT' },
    db: {
      host: { format: String, default: '', env: 'APP_DB_HOST' },
      poolSize: { format: 'nat', default: 10, env: 'APP_DB_POOL_SIZE' },
    },
  },
  { env },
);
convictConfig.validate({ allowed: 'strict' });

const PROD = '@prod/config';
const OF = '@openfeature/server-sdk InMemoryProvider';

await runMicro({
  file: import.meta.url,
  title: '@prod/config: flag evaluation vs OpenFeature, config reads vs envalid and convict',
  groups: [
    {
      name: 'flag evaluation: a static flag',
      contenders: {
        [`${PROD} isEnabled`]: () => keep(ours.isEnabled('static', { targetingKey: nextUser() })),
        [`${PROD} evaluate (details)`]: () =>
          keep(ours.evaluate('static', { targetingKey: nextUser() }).value),
        [`${OF} getBooleanValue`]: () =>
          client.getBooleanValue('static', false, { targetingKey: nextUser() }).then(keep),
      },
      ratios: [
        { ours: `${PROD} isEnabled`, peer: `${OF} getBooleanValue` },
        { ours: `${PROD} evaluate (details)`, peer: `${OF} getBooleanValue` },
      ],
    },
    {
      name: 'flag evaluation: a targeting rule on a context attribute',
      contenders: {
        [`${PROD} isEnabled`]: () => keep(ours.isEnabled('targeted', nextContext())),
        [`${OF} getBooleanValue`]: () =>
          client.getBooleanValue('targeted', false, nextContext()).then(keep),
      },
      ratios: [{ ours: `${PROD} isEnabled`, peer: `${OF} getBooleanValue` }],
    },
    {
      name: 'flag evaluation: a 30 % rollout (MurmurHash3 per call)',
      contenders: {
        [`${PROD} isEnabled`]: () => keep(ours.isEnabled('rollout', { targetingKey: nextUser() })),
        [`${OF} getBooleanValue (static flag)`]: () =>
          client.getBooleanValue('static', false, { targetingKey: nextUser() }).then(keep),
      },
      ratios: [
        {
          ours: `${PROD} isEnabled`,
          peer: `${OF} getBooleanValue (static flag)`,
          label: '@prod/config rollout vs OpenFeature static flag',
        },
      ],
    },
    {
      name: 'config read: a nested number',
      contenders: {
        [`${PROD} config.value.db.poolSize`]: () => keep(config.value.db.poolSize),
        [`${PROD} config.get('db.poolSize')`]: () => keep(config.get('db.poolSize')),
        'envalid env.APP_DB_POOL_SIZE': () => keep(envalidEnv.APP_DB_POOL_SIZE),
        "convict get('db.poolSize')": () => keep(convictConfig.get('db.poolSize')),
      },
      ratios: [
        { ours: `${PROD} config.value.db.poolSize`, peer: 'envalid env.APP_DB_POOL_SIZE' },
        { ours: `${PROD} config.get('db.poolSize')`, peer: 'envalid env.APP_DB_POOL_SIZE' },
        { ours: `${PROD} config.get('db.poolSize')`, peer: "convict get('db.poolSize')" },
      ],
    },
  ],
});
