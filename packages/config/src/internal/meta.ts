import { z } from 'zod';

/** What @prod/config knows about one schema node beyond its type. */
export interface KeyMeta {
  readonly secret?: boolean;
  readonly reloadable?: boolean;
  readonly env?: string;
}

/** Our own registry: nothing is written into zod's global one. */
export const keyMeta = z.registry<KeyMeta>();

/** Registers `meta` on `schema`, merged with what it (or the schema it was cloned from) had. */
export function withMeta<TSchema extends z.ZodType>(schema: TSchema, meta: KeyMeta): TSchema {
  const previous = keyMeta.get(schema) ?? {};
  keyMeta.add(schema, { ...previous, ...meta });
  return schema;
}
