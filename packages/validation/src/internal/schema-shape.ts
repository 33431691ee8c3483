import type { Schema } from '../types.js';

// Reads the structure of zod 4 schemas through their definitions (`_zod.def`), which zod
// documents for library authors. Only what sanitization, coercion and the document need.

interface Def {
  readonly type: string;
  readonly innerType?: Schema;
  readonly in?: Schema;
  readonly out?: Schema;
  readonly shape?: Readonly<Record<string, Schema>>;
  readonly element?: Schema;
  readonly valueType?: Schema;
  readonly catchall?: Schema;
  readonly options?: readonly Schema[];
  readonly values?: readonly unknown[];
  readonly entries?: Readonly<Record<string, unknown>>;
}

export function defOf(schema: Schema): Def {
  return schema._zod.def as unknown as Def;
}

const WRAPPERS = new Set([
  'optional',
  'nullable',
  'default',
  'prefault',
  'catch',
  'readonly',
  'nonoptional',
]);

/**
 * Each schema from `schema` down through wrappers (optional, default...) and the input side of
 * pipes, outermost first, until a schema that is none of those.
 */
export function unwrapChain(schema: Schema): Schema[] {
  const chain: Schema[] = [];
  let node: Schema | undefined = schema;
  for (let guard = 0; node !== undefined && guard < 32; guard++) {
    chain.push(node);
    const def = defOf(node);
    if (WRAPPERS.has(def.type)) node = def.innerType;
    else if (def.type === 'pipe') node = def.in;
    else break;
  }
  return chain;
}

/** The innermost schema of {@link unwrapChain}. */
export function unwrapped(schema: Schema): Schema {
  const chain = unwrapChain(schema);
  return chain[chain.length - 1] as Schema;
}

/** The shape of an object schema (after unwrapping), or undefined. */
export function objectShape(schema: Schema): Readonly<Record<string, Schema>> | undefined {
  const def = defOf(unwrapped(schema));
  return def.type === 'object' ? def.shape : undefined;
}

/** Whether `schema` accepts `undefined` as input (an optional field, a body that may be absent). */
export function acceptsUndefined(schema: Schema): boolean {
  const optin = (schema._zod as { optin?: string }).optin;
  return optin === 'optional' || optin === 'defaulted';
}
