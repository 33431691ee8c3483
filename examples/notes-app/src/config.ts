import { err, type FieldError, ok, type ProdError, type Result } from '@prod/core';
import { parseLevelSpec } from '@prod/logger';
import { z } from 'zod';
import { NotesErrors } from './notes-errors.js';

/** Where notes are kept. */
export type StoreKind = 'memory' | 'pglite' | 'postgres';

/** Everything the service reads from its environment, parsed and checked. */
export interface ServiceConfig {
  /** `SERVICE_NAME`, default `notes`: logger name, metric label and trace resource. */
  readonly serviceName: string;
  /** `PORT`, default 3000 (0 picks a free port). */
  readonly port: number;
  /** `HOST`, default `0.0.0.0`. */
  readonly host: string;
  /** `LOG_LEVEL`, default `info`; per-module levels as in `info,http=warn`. */
  readonly logLevel: string;
  /**
   * `NOTES_STORE`: `postgres` when `DATABASE_URL` is set, else `memory` (a Map: the service
   * holds about 140 MB, against 650-700 MB with the embedded PGlite that `NOTES_STORE=pglite`
   * selects; docs/reliability.md, "Footprint of the embedded default").
   */
  readonly store: StoreKind;
  /** `DATABASE_URL` (`postgres://...`): notes in PostgreSQL, with a readiness check. */
  readonly databaseUrl: string | undefined;
  /** `REDIS_URL` (`redis://...`): a critical readiness check on Redis. */
  readonly redisUrl: string | undefined;
  /** `OTEL_EXPORTER_OTLP_ENDPOINT`: export spans over OTLP/HTTP (none when unset). */
  readonly otlpEndpoint: string | undefined;
  /** `HEALTH_TOKEN`: callers with `Authorization: Bearer <token>` see the health detail view. */
  readonly healthToken: string | undefined;
}

const blankToUndefined = (value: unknown): unknown =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

const url = (protocols: readonly string[], example: string) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .refine(
        (value) => {
          try {
            return protocols.includes(new URL(value).protocol);
          } catch {
            return false;
          }
        },
        { message: `must be a URL like ${example}` },
      )
      .optional(),
  );

const schema = z.object({
  SERVICE_NAME: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, { message: 'must be 1-64 letters, digits, ".", "_", "-"' })
      .default('notes'),
  ),
  PORT: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^\d{1,5}$/, { message: 'must be an integer from 0 to 65535' })
      .transform(Number)
      .refine((port) => port <= 65_535, { message: 'must be an integer from 0 to 65535' })
      .default(3000),
  ),
  HOST: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^[A-Za-z0-9.:%-]{1,253}$/, { message: 'must be a host name or an IP address' })
      .default('0.0.0.0'),
  ),
  LOG_LEVEL: z.preprocess(
    blankToUndefined,
    z
      .string()
      .superRefine((spec, context) => {
        const parsed = parseLevelSpec(spec);
        if (!parsed.ok) context.addIssue({ code: 'custom', message: parsed.error.message });
      })
      .default('info'),
  ),
  NOTES_STORE: z.preprocess(blankToUndefined, z.enum(['memory', 'pglite', 'postgres']).optional()),
  DATABASE_URL: url(['postgres:', 'postgresql:'], 'postgres://user@host:5432/db'),
  REDIS_URL: url(['redis:', 'rediss:'], 'redis://host:6379'),
  OTEL_EXPORTER_OTLP_ENDPOINT: url(['http:', 'https:'], 'http://collector:4318'),
  HEALTH_TOKEN: z.preprocess(
    blankToUndefined,
    z.string().min(16, { message: 'must be at least 16 characters' }).optional(),
  ),
});

/**
 * Reads the service configuration from environment variables.
 *
 * Unknown variables are ignored. Values are never echoed in errors (a URL may hold a password):
 * each problem names the variable and what it must be.
 *
 * @returns `Ok(config)`, or `Err` `CONFIG_INVALID` whose `errors` list one entry per bad variable.
 * @example
 * const config = loadConfig(process.env);
 * if (!config.ok) throw config.error;
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
): Result<ServiceConfig, ProdError<'CONFIG_INVALID'>> {
  const parsed = schema.safeParse({ ...env });
  if (!parsed.success) {
    const errors: FieldError[] = parsed.error.issues.map((issue) => ({
      path: String(issue.path[0] ?? ''),
      message: issue.message,
    }));
    const summary = errors.map((error) => `${error.path} ${error.message}`).join('; ');
    return err(
      NotesErrors.CONFIG_INVALID({ message: `invalid configuration: ${summary}`, errors }),
    );
  }
  const values = parsed.data;
  const store: StoreKind =
    values.NOTES_STORE ?? (values.DATABASE_URL === undefined ? 'memory' : 'postgres');
  if (store === 'postgres' && values.DATABASE_URL === undefined) {
    const errors = [{ path: 'DATABASE_URL', message: 'is required when NOTES_STORE=postgres' }];
    return err(
      NotesErrors.CONFIG_INVALID({
        message: 'invalid configuration: DATABASE_URL is required when NOTES_STORE=postgres',
        errors,
      }),
    );
  }
  return ok({
    serviceName: values.SERVICE_NAME,
    port: values.PORT,
    host: values.HOST,
    logLevel: values.LOG_LEVEL,
    store,
    databaseUrl: values.DATABASE_URL,
    redisUrl: values.REDIS_URL,
    otlpEndpoint: values.OTEL_EXPORTER_OTLP_ENDPOINT,
    healthToken: values.HEALTH_TOKEN,
  });
}
