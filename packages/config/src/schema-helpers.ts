import type { z } from 'zod';
import { withMeta } from './internal/meta.js';

/**
 * Declares a key (or a whole object of keys) as reloadable: runtime updates may change it
 * without a restart. An update that changes any other key is refused whole with
 * `CONFIG_RESTART_REQUIRED`.
 *
 * @example
 * import { z } from 'zod';
 * const schema = z.object({ log: z.object({ level: reloadable(z.enum(['info', 'debug']).default('info')) }) });
 */
export function reloadable<TSchema extends z.ZodType>(schema: TSchema): TSchema {
  return withMeta(schema.clone() as TSchema, { reloadable: true });
}

/**
 * Reads a key from the environment variable `name` exactly (no prefix), instead of the name
 * derived from its path: for well-known names such as `DATABASE_URL` or `PORT`.
 *
 * @example
 * import { z } from 'zod';
 * const schema = z.object({ db: z.object({ url: fromEnv(z.url(), 'DATABASE_URL') }) });
 */
export function fromEnv<TSchema extends z.ZodType>(schema: TSchema, name: string): TSchema {
  return withMeta(schema.clone() as TSchema, { env: name });
}
