import { z } from 'zod';
import type { JsonValue } from './flag-definition.js';

/** The kinds of flag values. */
export type FlagType = 'boolean' | 'string' | 'number' | 'object';

/** A flag declared in code: its type, its default, and optionally a schema for its values. */
export interface FlagDeclaration<TValue> {
  readonly type: FlagType;
  /** Served when no definition says otherwise, when the flag is killed, and on any error. */
  readonly defaultValue: TValue;
  /** Checks variant values of object (and string) flags; a definition that fails is refused. */
  readonly schema?: z.ZodType<TValue>;
  readonly description?: string;
}

/** Flags declared in code, by key. */
export type FlagDeclarations = Readonly<Record<string, FlagDeclaration<unknown>>>;

/** The value type of a declared flag. */
export type FlagValueOf<TDeclaration> =
  TDeclaration extends FlagDeclaration<infer TValue> ? TValue : never;

/** Keys of the boolean flags among `TDeclarations`. */
export type BooleanFlagKeys<TDeclarations extends FlagDeclarations> = {
  [K in keyof TDeclarations & string]: FlagValueOf<TDeclarations[K]> extends boolean ? K : never;
}[keyof TDeclarations & string];

/** Options shared by the flag declarations. */
export interface FlagOptions {
  readonly description?: string;
}

/**
 * Declares flags in code, typed, with their defaults.
 *
 * @example
 * const declarations = {
 *   'notes.search': flag.boolean(false, { description: 'search in the notes list' }),
 *   'notes.pageSize': flag.number(50),
 *   'checkout.button': flag.string('blue', { values: ['blue', 'green'] as const }),
 * };
 */
export const flag = Object.freeze({
  /** A boolean flag (variants `on` / `off` unless the definition names others). */
  boolean(defaultValue: boolean, options: FlagOptions = {}): FlagDeclaration<boolean> {
    return declaration('boolean', defaultValue, undefined, options);
  },
  /** A number flag. */
  number(defaultValue: number, options: FlagOptions = {}): FlagDeclaration<number> {
    return declaration('number', defaultValue, undefined, options);
  },
  /** A string flag; with `values`, only those are accepted (and typed). */
  string<const TValue extends string = string>(
    defaultValue: NoInfer<TValue>,
    options: FlagOptions & { readonly values?: readonly TValue[] } = {},
  ): FlagDeclaration<TValue> {
    const values = options.values;
    const schema =
      values === undefined || values.length === 0
        ? undefined
        : (z.enum(values as unknown as [string, ...string[]]) as unknown as z.ZodType<TValue>);
    return declaration('string', defaultValue as TValue, schema, options);
  },
  /** An object (JSON) flag whose variant values `schema` checks. */
  object<TValue extends JsonValue>(
    schema: z.ZodType<TValue>,
    defaultValue: TValue,
    options: FlagOptions = {},
  ): FlagDeclaration<TValue> {
    return declaration('object', defaultValue, schema, options);
  },
});

function declaration<TValue>(
  type: FlagType,
  defaultValue: TValue,
  schema: z.ZodType<TValue> | undefined,
  options: FlagOptions,
): FlagDeclaration<TValue> {
  return Object.freeze({
    type,
    defaultValue: Object.freeze(defaultValue),
    ...(schema === undefined ? {} : { schema }),
    ...(options.description === undefined ? {} : { description: options.description }),
  });
}
