import { z } from 'zod';

const name = z.string().min(1).max(200);
const scalar = z.union([z.string().max(2000), z.number(), z.boolean()]);

const json: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([
    z.string().max(100_000),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(json).max(10_000),
    z.record(z.string().max(200), json),
  ]),
);

/** A JSON value, as object flags hold. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

/** The comparisons a targeting condition can make. */
export const FLAG_OPERATORS = [
  'eq',
  'neq',
  'in',
  'notIn',
  'contains',
  'startsWith',
  'endsWith',
  'gt',
  'gte',
  'lt',
  'lte',
  'exists',
  'notExists',
] as const;

/** One of {@link FLAG_OPERATORS}. */
export type FlagOperator = (typeof FLAG_OPERATORS)[number];

/** Schema of a targeting condition. */
export const flagConditionSchema = z.strictObject({
  /** A context attribute, dotted for nested ones (`plan`, `user.country`). */
  attribute: name,
  op: z.enum(FLAG_OPERATORS),
  value: z.union([scalar, z.array(scalar).max(10_000)]).optional(),
});

/** Schema of a targeting rule. */
export const flagRuleSchema = z
  .strictObject({
    name: name.optional(),
    when: z.array(flagConditionSchema).max(50).optional(),
    variant: name.optional(),
    rollout: z.number().min(0).max(100).optional(),
    split: z.record(name, z.number().min(0).max(1_000_000)).optional(),
    bucketBy: name.optional(),
  })
  .refine((rule) => rule.variant !== undefined || rule.split !== undefined, {
    message: 'a rule serves a variant or a split',
  });

/**
 * Schema of a flag definition: the data (in a config file, in Redis) that says what a flag
 * serves to whom. Validate your own with it, or embed {@link flagDefinitions} in a config schema.
 */
export const flagDefinitionSchema = z.strictObject({
  /** `false` is the kill switch: everyone gets the flag's default from the code. Default true. */
  enabled: z.boolean().optional(),
  /** Named values (`{ on: true, off: false }`; boolean flags have these by default). */
  variants: z.record(name, json).optional(),
  /** The variant served when no rule matches. Default: the flag's default from the code. */
  defaultVariant: name.optional(),
  /** Tried in order; the first that matches serves its variant. */
  rules: z.array(flagRuleSchema).max(100).optional(),
  /** Seed of the rollout hash. Default the flag key; share one to roll several flags out together. */
  seed: z.string().max(200).optional(),
  description: z.string().max(2000).optional(),
});

/** A targeting condition: `{ attribute: 'tenant', op: 'in', value: ['acme', 'globex'] }`. */
export type FlagCondition = z.input<typeof flagConditionSchema>;

/**
 * A rule: when every condition holds (and the key is in the `rollout` percentage), serve
 * `variant`, or a variant picked by the `split` weights. Keys are bucketed by `bucketBy`
 * (default `targetingKey`, else `userId`); a context without it does not match the rule.
 */
export type FlagRule = z.input<typeof flagRuleSchema>;

/** A flag definition (see {@link flagDefinitionSchema}). */
export type FlagDefinition = z.input<typeof flagDefinitionSchema>;

/**
 * A schema of flag definitions by key, to embed in a configuration schema (reloadable, so
 * flags change at runtime): `flags: flagDefinitions()`.
 *
 * @example
 * import { z } from 'zod';
 * const schema = z.object({ flags: flagDefinitions() });
 */
export function flagDefinitions(): z.ZodDefault<
  z.ZodRecord<z.ZodString, typeof flagDefinitionSchema>
> {
  return z.record(name, flagDefinitionSchema).default({});
}
