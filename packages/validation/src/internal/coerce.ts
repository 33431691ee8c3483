import type { Schema } from '../types.js';
import { defOf, objectShape, unwrapped } from './schema-shape.js';

/** What a string of the query, the path or a header is turned into before validation. */
type Kind = 'number' | 'bigint' | 'boolean' | 'null' | 'string';
interface FieldKind {
  readonly kind: Kind;
  /** Whether the field is an array (a repeated query key; one value becomes a list of one). */
  readonly array: boolean;
}

/** Per key of an object schema, how its string values are coerced; undefined when none are. */
export type CoercionPlan = Readonly<Record<string, FieldKind>> | undefined;

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const BIGINT = /^[+-]?\d+$/;

function kindOf(schema: Schema, depth = 0): Kind {
  const def = defOf(unwrapped(schema));
  switch (def.type) {
    case 'number':
      return 'number';
    case 'bigint':
      return 'bigint';
    case 'boolean':
      return 'boolean';
    case 'null':
      return 'null';
    case 'literal':
    case 'enum': {
      const values = def.values ?? Object.values(def.entries ?? {});
      if (values.length > 0 && values.every((value) => typeof value === 'number')) return 'number';
      if (values.length > 0 && values.every((value) => typeof value === 'boolean'))
        return 'boolean';
      return 'string';
    }
    case 'union': {
      if (depth > 4) return 'string';
      const kinds = (def.options ?? []).map((option) => kindOf(option, depth + 1));
      // A union that takes a string keeps the string: coercing could pick the wrong member.
      if (kinds.length === 0 || kinds.includes('string')) return 'string';
      return kinds.find((kind) => kind !== 'null') ?? 'null';
    }
    default:
      return 'string';
  }
}

/** Compiles the coercion of an object schema's fields (query, params, headers). */
export function compileCoercion(schema: Schema | undefined): CoercionPlan {
  if (schema === undefined) return undefined;
  const shape = objectShape(schema);
  if (shape === undefined) return undefined;
  const plan: Record<string, FieldKind> = Object.create(null);
  let any = false;
  for (const key of Object.keys(shape)) {
    const field = unwrapped(shape[key] as Schema);
    const def = defOf(field);
    const array = def.type === 'array';
    const kind = array && def.element !== undefined ? kindOf(def.element) : kindOf(field);
    if (array || kind !== 'string') {
      plan[key] = { kind, array };
      any = true;
    }
  }
  return any ? plan : undefined;
}

function coerceOne(value: unknown, kind: Kind): unknown {
  if (typeof value !== 'string') return value;
  switch (kind) {
    case 'number':
      return NUMBER.test(value) ? Number(value) : value;
    case 'bigint':
      return BIGINT.test(value) ? BigInt(value) : value;
    case 'boolean':
      return value === 'true' ? true : value === 'false' ? false : value;
    case 'null':
      return value === 'null' || value === '' ? null : value;
    default:
      return value;
  }
}

/**
 * A copy of `input` (a query, params or headers record) with the planned fields coerced:
 * numeric strings to numbers, `true`/`false` to booleans, one value of an array field to a
 * list of one. A value that does not look like its kind is left for validation to refuse.
 */
export function coerce(
  input: Readonly<Record<string, unknown>>,
  plan: CoercionPlan,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // `__proto__` and friends were refused before coercion; never assigned here in any case.
  for (const key of Object.keys(input)) if (key !== '__proto__') out[key] = input[key];
  if (plan === undefined) return out;
  for (const key in plan) {
    const field = plan[key] as FieldKind;
    const value = out[key];
    if (value === undefined) continue;
    if (field.array) {
      const list = Array.isArray(value) ? value : [value];
      out[key] = field.kind === 'string' ? list : list.map((item) => coerceOne(item, field.kind));
    } else {
      out[key] = coerceOne(value, field.kind);
    }
  }
  return out;
}
