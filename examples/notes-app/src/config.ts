import {
  type Config,
  type ConfigGuard,
  flagDefinitions,
  fromEnv,
  loadConfig as loadSettings,
  reloadable,
  type Secret,
  secret,
} from '@prod/config';
import { ok, type ProdError, type Result } from '@prod/core';
import { keyringFromJson } from '@prod/crypto';
import { parseLevelSpec } from '@prod/logger';
import { corsPart } from '@prod/security';
import { z } from 'zod';
import { API_KEY_FORMAT } from './api-key-format.js';
import { NOTES_FLAG_DECLARATIONS } from './notes-flags.js';

/** Where notes are kept. */
export type StoreKind = 'memory' | 'pglite' | 'postgres';

// `refine`, not `regex`: @prod/config reports a failed regex as "a valid regex", dropping the
// message that says what is expected.
const matching = (pattern: RegExp, expected: string) =>
  z.string().refine((value) => pattern.test(value), { error: expected });

const url = (protocols: readonly string[], example: string) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { error: `a URL like ${example}` },
  );

/** `*`, or the origins of `CORS_ORIGINS` as a list. */
export type CorsOrigins = '*' | readonly string[];

function corsOriginsOf(text: string): CorsOrigins {
  const trimmed = text.trim();
  if (trimmed === '*') return '*';
  return trimmed
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');
}

/**
 * Every setting of the notes service, one zod schema read by @prod/config: each key from the
 * variable `fromEnv` names (or `<NAME>_FILE`, a file holding the value, as Docker and
 * Kubernetes mount secrets). `secret()` keys are `Secret`s, redacted everywhere;
 * `reloadable()` keys may change while the service runs (the `NOTES_RUNTIME_CONFIG` file).
 */
export const serviceSchema = z.object({
  serviceName: fromEnv(
    matching(/^[A-Za-z0-9._-]{1,64}$/, '1-64 letters, digits, ".", "_", "-"').default('notes'),
    'SERVICE_NAME',
  ),
  port: fromEnv(
    z
      .number()
      .int({ error: 'an integer from 0 to 65535' })
      .min(0, { error: 'an integer from 0 to 65535' })
      .max(65_535, { error: 'an integer from 0 to 65535' })
      .default(3000),
    'PORT',
  ),
  host: fromEnv(
    matching(/^[A-Za-z0-9.:%-]{1,253}$/, 'a host name or an IP address').default('0.0.0.0'),
    'HOST',
  ),
  logLevel: fromEnv(
    reloadable(
      z
        .string()
        .superRefine((spec, context) => {
          const parsed = parseLevelSpec(spec);
          if (!parsed.ok) {
            context.addIssue({
              code: 'custom',
              message: `a level spec like info or info,http=warn (${parsed.error.message})`,
            });
          }
        })
        .default('info'),
    ),
    'LOG_LEVEL',
  ),
  store: fromEnv(z.enum(['memory', 'pglite', 'postgres']).optional(), 'NOTES_STORE'),
  databaseUrl: fromEnv(
    secret(url(['postgres:', 'postgresql:'], 'postgres://user@host:5432/db')).optional(),
    'DATABASE_URL',
  ),
  // A secret too: `redis://:password@host` is how Redis URLs carry credentials.
  redisUrl: fromEnv(
    secret(url(['redis:', 'rediss:'], 'redis://host:6379')).optional(),
    'REDIS_URL',
  ),
  redisKeyPrefix: fromEnv(
    matching(/^[A-Za-z0-9:._-]{0,64}$/, 'at most 64 letters, digits and : . _ -').default(''),
    'REDIS_KEY_PREFIX',
  ),
  otlpEndpoint: fromEnv(
    url(['http:', 'https:'], 'http://collector:4318').optional(),
    'OTEL_EXPORTER_OTLP_ENDPOINT',
  ),
  healthToken: fromEnv(
    secret(z.string().min(16, { error: 'at least 16 characters' })).optional(),
    'HEALTH_TOKEN',
  ),
  // The keyring of the note bodies at rest: JSON key specs of @prod/crypto, one `primary`.
  notesKeys: fromEnv(
    secret(
      z.string().superRefine((json, context) => {
        // keyringFromJson names what is wrong, never the key material.
        const keyring = keyringFromJson(json);
        if (!keyring.ok) {
          context.addIssue({
            code: 'custom',
            message: `a keyring like [{"id":1,"key":"<43 base64url characters>","status":"primary"}] (${keyring.error.message})`,
          });
        }
      }),
    ).optional(),
    'NOTES_KEYS',
  ),
  auditSigningKey: fromEnv(
    secret(z.string().min(32, { error: 'at least 32 characters' })).optional(),
    'AUDIT_SIGNING_KEY',
  ),
  // The HMAC key API keys are stored under (@prod/security): a table of keys is useless without it.
  apiKeySecret: fromEnv(
    secret(z.string().min(32, { error: 'at least 32 characters' })).optional(),
    'API_KEY_SECRET',
  ),
  // A key of the operator's, registered at start (idempotently): no demo key is issued then.
  apiKey: fromEnv(
    secret(
      z.string().refine((token) => API_KEY_FORMAT.parse(token).ok, {
        error: `an API key of the ${API_KEY_FORMAT.prefix}_ format (prefix, 32 characters, checksum)`,
      }),
    ).optional(),
    'NOTES_API_KEY',
  ),
  corsOrigins: fromEnv(
    z
      .string()
      .superRefine((text, context) => {
        const origins = corsOriginsOf(text);
        if (origins !== '*' && origins.length === 0) {
          context.addIssue({ code: 'custom', message: '* or a comma-separated list of origins' });
          return;
        }
        // The part's own checks (a trailing slash, upper case, a path: origins a browser never sends).
        try {
          corsPart({ origins });
        } catch (error) {
          context.addIssue({
            code: 'custom',
            message: `* or origins like https://app.example.com (${(error as Error).message})`,
          });
        }
      })
      .default('*'),
    'CORS_ORIGINS',
  ),
  slowQueryMs: fromEnv(
    z
      .number()
      .int({ error: 'an integer from 0 to 600000' })
      .min(0, { error: 'an integer from 0 to 600000' })
      .max(600_000, { error: 'an integer from 0 to 600000' })
      .default(200),
    'DB_SLOW_QUERY_MS',
  ),
  writeLimit: fromEnv(
    z
      .number()
      .int({ error: 'an integer from 1 to 1000000' })
      .min(1, { error: 'an integer from 1 to 1000000' })
      .max(1_000_000, { error: 'an integer from 1 to 1000000' })
      .default(60),
    'NOTES_WRITE_LIMIT',
  ),
  flags: fromEnv(reloadable(flagDefinitions()), 'NOTES_FLAGS'),
  runtimeFile: fromEnv(z.string().min(1).max(4096).optional(), 'NOTES_RUNTIME_CONFIG'),
});

/** The configuration object behind a {@link ServiceConfig}: `describe()`, `onChange`, `watch`. */
export type ServiceSettings = Config<typeof serviceSchema>;

/** Everything the service reads from its environment, parsed and checked. */
export interface ServiceConfig {
  /** `SERVICE_NAME`, default `notes`: logger name, metric label, trace resource, Redis keys. */
  readonly serviceName: string;
  /** `PORT`, default 3000 (0 picks a free port). */
  readonly port: number;
  /** `HOST`, default `0.0.0.0`. */
  readonly host: string;
  /**
   * `LOG_LEVEL` at start, default `info`; per-module levels as in `info,http=warn`. Reloadable:
   * the logger follows `settings.onChange('logLevel')`.
   */
  readonly logLevel: string;
  /**
   * `NOTES_STORE`: `postgres` when `DATABASE_URL` is set, else `memory` (a Map: the service
   * holds about 140 MB, against 650-700 MB with the embedded PGlite that `NOTES_STORE=pglite`
   * selects; docs/reliability.md, "Footprint of the embedded default").
   */
  readonly store: StoreKind;
  /** `DATABASE_URL` (`postgres://...`): notes in PostgreSQL, with a readiness check. */
  readonly databaseUrl: Secret | undefined;
  /** `REDIS_URL` (`redis://...`): a critical readiness check, and the shared flag store. */
  readonly redisUrl: Secret | undefined;
  /** `REDIS_KEY_PREFIX`, default none: before every Redis key (`<prefix><service>:flags:...`). */
  readonly redisKeyPrefix: string;
  /** `OTEL_EXPORTER_OTLP_ENDPOINT`: export spans over OTLP/HTTP (none when unset). */
  readonly otlpEndpoint: string | undefined;
  /** `HEALTH_TOKEN`: callers with `Authorization: Bearer <token>` see the health detail view. */
  readonly healthToken: Secret | undefined;
  /**
   * `NOTES_KEYS`: the keyring that encrypts note bodies at rest (JSON key specs of @prod/crypto,
   * `[{ "id": 1, "key": "<43 base64url characters>", "status": "primary" }]`; older keys
   * `enabled` to read what they wrote). Required in production and with `NOTES_STORE=postgres`;
   * elsewhere unset means an ephemeral key, with one warning at start.
   */
  readonly notesKeys: Secret | undefined;
  /**
   * `AUDIT_SIGNING_KEY`: 32+ characters, the HMAC key of the audit log's checkpoints. Required
   * like `NOTES_KEYS`; keep it out of the database the audit log lives in.
   */
  readonly auditSigningKey: Secret | undefined;
  /**
   * `API_KEY_SECRET`: 32+ characters, the HMAC key the API keys are stored under
   * (@prod/security). Required like `NOTES_KEYS`; elsewhere unset means an ephemeral secret,
   * so the keys (the demo key included) do not outlive the process.
   */
  readonly apiKeySecret: Secret | undefined;
  /**
   * `NOTES_API_KEY`: an API key (`notes_...`) registered at start for writes. Unset: the service
   * issues a demo key at start and prints it in its banner (outside production).
   */
  readonly apiKey: Secret | undefined;
  /**
   * `CORS_ORIGINS`, default `*`: the origins whose browser scripts may read the answers, as a
   * comma-separated list (`https://app.example.com,https://*.example.com`), or `*` for any
   * (no credentials: API keys are sent by scripts, never by the browser on its own).
   */
  readonly corsOrigins: CorsOrigins;
  /**
   * `DB_SLOW_QUERY_MS`, default 200: a SQL query at least this slow is logged (module `db`) and,
   * a SELECT, explained (@prod/db's `instrument`). 0 logs every query.
   */
  readonly slowQueryMs: number;
  /**
   * `NOTES_WRITE_LIMIT`, default 60: `POST /v1/notes` a minute per API key (the verified key),
   * and five times that per client address, for the default (`free`) tier; `pro` gets ten
   * times as many, `enterprise` no limit.
   */
  readonly writeLimit: number;
  /** `NOTES_RUNTIME_CONFIG`: a JSON or YAML file of reloadable settings, watched while running. */
  readonly runtimeFile: string | undefined;
  /** The @prod/config configuration these values come from (flags, sources, reloads). */
  readonly settings: ServiceSettings;
}

type Settings = z.output<typeof serviceSchema>;

const storeOf = (values: {
  readonly store?: StoreKind | undefined;
  readonly databaseUrl?: unknown;
}): StoreKind => values.store ?? (values.databaseUrl === undefined ? 'memory' : 'postgres');

// The profile (NODE_ENV) changes nothing here: these rules hold everywhere.
const EVERY_PROFILE = ['development', 'test', 'production'];
const NOT_PRODUCTION = ['development', 'test'];

/**
 * The keys a production start needs, and so does a store that outlives the process: with an
 * ephemeral key, the notes (and audit checkpoints) written before a restart could not be read
 * (verified) after it. In production both guards would say the same: the first one suffices.
 */
function keyGuards(
  key: 'notesKeys' | 'auditSigningKey' | 'apiKeySecret',
  variable: string,
  protects: string,
): ConfigGuard<Settings>[] {
  return [
    {
      key,
      check: (value) => (value === undefined ? `${variable}, required in production` : undefined),
    },
    {
      key,
      profiles: NOT_PRODUCTION,
      check: (value, settings) =>
        value === undefined && storeOf(settings) === 'postgres'
          ? `${variable}, required with NOTES_STORE=postgres (an ephemeral key would not outlive a restart, ${protects} would)`
          : undefined,
    },
  ];
}
const DECLARED_FLAGS = Object.keys(NOTES_FLAG_DECLARATIONS);

const guards: ConfigGuard<Settings>[] = [
  ...keyGuards('notesKeys', 'NOTES_KEYS', 'the notes'),
  ...keyGuards('auditSigningKey', 'AUDIT_SIGNING_KEY', 'the audit log'),
  ...keyGuards('apiKeySecret', 'API_KEY_SECRET', 'the API keys'),
  {
    key: 'databaseUrl',
    profiles: EVERY_PROFILE,
    check: (databaseUrl, settings) =>
      settings.store === 'postgres' && databaseUrl === undefined
        ? 'a DATABASE_URL, required when NOTES_STORE=postgres'
        : undefined,
  },
  {
    key: 'flags',
    profiles: EVERY_PROFILE,
    check: (flags) => {
      const unknown = Object.keys(flags).filter((key) => !DECLARED_FLAGS.includes(key));
      return unknown.length === 0
        ? undefined
        : `definitions of declared flags only (${DECLARED_FLAGS.join(', ')})`;
    },
  },
  {
    key: 'flags',
    profiles: EVERY_PROFILE,
    // Two places for the same flags would be one too many: with Redis, the store decides.
    check: (flags, settings) =>
      settings.redisUrl !== undefined && Object.keys(flags).length > 0
        ? 'no NOTES_FLAGS while REDIS_URL is set (flags are then read from the Redis flag store)'
        : undefined,
  },
];

/**
 * Reads the service configuration from environment variables with @prod/config: defaults <
 * environment (`NAME` or `NAME_FILE`). The profile is `NODE_ENV` (`development` when unset;
 * an unknown one is refused).
 *
 * Unknown variables are ignored. Secrets (`DATABASE_URL`, `REDIS_URL`, `HEALTH_TOKEN`,
 * `NOTES_KEYS`, `AUDIT_SIGNING_KEY`, `API_KEY_SECRET`, `NOTES_API_KEY`) are never shown, in
 * errors or in `settings.describe()`. The three keys (`NOTES_KEYS`, `AUDIT_SIGNING_KEY`,
 * `API_KEY_SECRET`) are required in production (`NODE_ENV=production`) and with
 * `NOTES_STORE=postgres`.
 *
 * @returns `Ok(config)`, or `Err` `CONFIG_INVALID` listing every problem at once: `errors` has
 * one `{ path, message }` per key, `details.problems` the key, its source (`env:PORT`), what was
 * expected and what was found.
 * @example
 * const config = loadConfig(process.env);
 * if (!config.ok) throw config.error;
 * console.log(config.value.settings.describe());
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
): Result<ServiceConfig, ProdError<'CONFIG_INVALID'>> {
  const loaded = loadSettings(serviceSchema, { env, profileEnv: 'NODE_ENV', guards });
  if (!loaded.ok) return loaded;
  const settings = loaded.value;
  const values = settings.value;
  return ok({
    serviceName: values.serviceName,
    port: values.port,
    host: values.host,
    logLevel: values.logLevel,
    store: storeOf(values),
    databaseUrl: values.databaseUrl,
    redisUrl: values.redisUrl,
    redisKeyPrefix: values.redisKeyPrefix,
    otlpEndpoint: values.otlpEndpoint,
    healthToken: values.healthToken,
    notesKeys: values.notesKeys,
    auditSigningKey: values.auditSigningKey,
    apiKeySecret: values.apiKeySecret,
    apiKey: values.apiKey,
    corsOrigins: corsOriginsOf(values.corsOrigins),
    slowQueryMs: values.slowQueryMs,
    writeLimit: values.writeLimit,
    runtimeFile: values.runtimeFile,
    settings,
  });
}
