import type { Schema } from '../types.js';

// Reads the structure of zod 4 schemas through their definitions (`_zod.def`), which zod
// documents for library authors. Only what sanitization, coercion and the document need.

interface Def {
  readonly type: string;
  readonly left?: Schema;
  readonly right?: Schema;
  readonly items?: readonly Schema[];
  readonly rest?: Schema | null;
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

const CLOSED_LEAVES = new Set([
  'string',
  'number',
  'int',
  'boolean',
  'bigint',
  'null',
  'undefined',
  'void',
  'never',
  'literal',
  'enum',
  'date',
  'nan',
  'template_literal',
  'success',
  'transform',
]);

/**
 * Whether what `schema` outputs can hold only the keys it declares, at a depth it bounds:
 * objects that strip or refuse unknown keys, arrays and tuples of such, unions of such,
 * primitives. Records, loose objects, catchalls, `unknown`, `any` and lazy (recursive)
 * schemas are open: their output can carry whatever the input held.
 */
export function isClosed(schema: Schema, depth = 0): boolean {
  if (depth > 24) return false;
  const def = defOf(schema);
  if (CLOSED_LEAVES.has(def.type)) return true;
  const next = (child: Schema | undefined | null): boolean =>
    child != null && isClosed(child, depth + 1);
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'catch':
    case 'readonly':
    case 'nonoptional':
      return next(def.innerType);
    case 'pipe':
      return next(def.out);
    case 'object':
      if (def.catchall !== undefined && defOf(def.catchall).type !== 'never') return false;
      return Object.values(def.shape ?? {}).every((field) => next(field));
    case 'array':
      return next(def.element);
    case 'tuple':
      return (def.items ?? []).every((item) => next(item)) && (def.rest == null || next(def.rest));
    case 'union':
      return (def.options ?? []).every((option) => next(option));
    case 'intersection':
      return next(def.left) && next(def.right);
    default:
      return false;
  }
}
