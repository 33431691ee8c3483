import type { z } from 'zod';
import { ConfigErrors } from '../errors.js';
import { keyMeta } from './meta.js';

/** How a string from the environment becomes the value a leaf's schema expects. */
export type Coercion =
  | { readonly kind: 'string' }
  | { readonly kind: 'number' }
  | { readonly kind: 'bigint' }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'date' }
  | { readonly kind: 'json' }
  | { readonly kind: 'list'; readonly element: Coercion }
  | { readonly kind: 'literal'; readonly values: readonly unknown[] }
  | { readonly kind: 'union'; readonly options: readonly UnionOption[] };

/** One branch of a union: how to coerce for it, and its schema to try the result on. */
export interface UnionOption {
  readonly coercion: Coercion;
  readonly schema: z.ZodType;
}

/** A key of the configuration whose value comes whole from one source. */
export interface Leaf {
  /** `db.poolSize`. */
  readonly path: string;
  readonly segments: readonly string[];
  /** The environment variable it is read from (`APP_DB_POOL_SIZE`). */
  readonly env: string;
  readonly secret: boolean;
  readonly reloadable: boolean;
  readonly coercion: Coercion;
}

/** The shape of a schema as @prod/config reads it. */
export interface SchemaShape {
  readonly leaves: readonly Leaf[];
  readonly leafByPath: ReadonlyMap<string, Leaf>;
  /** Paths of nested objects (`db`), whose keys are leaves or branches. */
  readonly branches: ReadonlySet<string>;
  /** Branches that may be absent: created only when a source sets a key inside. */
  readonly optionalBranches: ReadonlySet<string>;
}

interface Def {
  readonly type: string;
  readonly innerType?: z.ZodType;
  readonly in?: z.ZodType;
  readonly out?: z.ZodType;
  readonly shape?: Record<string, z.ZodType>;
  readonly element?: z.ZodType;
  readonly options?: readonly z.ZodType[];
  readonly values?: readonly unknown[];
  readonly getter?: () => z.ZodType;
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

const WRAPPERS = new Set([
  'optional',
  'nullable',
  'default',
  'prefault',
  'readonly',
  'catch',
  'nonoptional',
]);
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor']);

interface Unwrapped {
  readonly schema: z.ZodType;
  readonly secret: boolean;
  readonly reloadable: boolean;
  readonly env: string | undefined;
  /** Whether a wrapper lets the value be absent (optional, nullable, default, catch). */
  readonly optional: boolean;
}

/** Peels optional/default/pipe wrappers, collecting our metadata on the way. */
function unwrap(schema: z.ZodType): Unwrapped {
  let current = schema;
  let secret = false;
  let reloadable = false;
  let env: string | undefined;
  let optional = false;
  for (let guard = 0; guard < 64; guard++) {
    const meta = keyMeta.get(current);
    if (meta?.secret === true) secret = true;
    if (meta?.reloadable === true) reloadable = true;
    if (meta?.env !== undefined) env ??= meta.env;
    const def = defOf(current);
    if (WRAPPERS.has(def.type) && def.innerType !== undefined) {
      if (def.type !== 'readonly' && def.type !== 'nonoptional') optional = true;
      current = def.innerType;
    } else if (def.type === 'pipe' && def.in !== undefined) {
      // z.preprocess(fn, schema) is a pipe from a transform: its input is anything.
      if (defOf(def.in).type === 'transform')
        return { schema: def.in, secret, reloadable, env, optional };
      current = def.in;
    } else if (def.type === 'lazy' && def.getter !== undefined) {
      current = def.getter();
    } else {
      break;
    }
  }
  return { schema: current, secret, reloadable, env, optional };
}

function coercionOf(schema: z.ZodType, depth = 0): Coercion {
  const inner = unwrap(schema).schema;
  const def = defOf(inner);
  switch (def.type) {
    case 'number':
      return { kind: 'number' };
    case 'bigint':
      return { kind: 'bigint' };
    case 'boolean':
      return { kind: 'boolean' };
    case 'date':
      return { kind: 'date' };
    case 'object':
    case 'record':
    case 'tuple':
    case 'map':
    case 'intersection':
      return { kind: 'json' };
    case 'array':
    case 'set':
      return {
        kind: 'list',
        element:
          def.element !== undefined && depth < 4
            ? coercionOf(def.element, depth + 1)
            : { kind: 'string' },
      };
    case 'literal':
      return { kind: 'literal', values: def.values ?? [] };
    case 'union':
      if (depth >= 4) return { kind: 'string' };
      return {
        kind: 'union',
        options: (def.options ?? []).map((option) => ({
          coercion: coercionOf(option, depth + 1),
          schema: option,
        })),
      };
    default:
      return { kind: 'string' };
  }
}

/** `poolSize` -> `POOL_SIZE`, `httpServer2` -> `HTTP_SERVER2`, `HTTPServer` -> `HTTP_SERVER`. */
export function envSegment(segment: string): string {
  return segment
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase();
}

/**
 * Reads the leaves and branches of a `z.object` schema. Throws `CONFIG_INVALID_SCHEMA` for a
 * schema it cannot use: that is a bug in the code, found at startup.
 */
export function walkSchema(schema: z.ZodType, prefix: string): SchemaShape {
  const root = unwrap(schema).schema;
  if (defOf(root).type !== 'object') {
    throw ConfigErrors.CONFIG_INVALID_SCHEMA({
      message: `the configuration schema must be a z.object, got ${defOf(root).type}`,
    });
  }
  const leaves: Leaf[] = [];
  const branches = new Set<string>();
  const optionalBranches = new Set<string>();
  const visit = (
    node: z.ZodType,
    segments: readonly string[],
    inherited: { secret: boolean; reloadable: boolean },
  ): void => {
    const unwrapped = unwrap(node);
    const secret = inherited.secret || unwrapped.secret;
    const reloadable = inherited.reloadable || unwrapped.reloadable;
    const def = defOf(unwrapped.schema);
    const path = segments.join('.');
    // A secret object is one value (one Secret), so it is a leaf.
    if (def.type === 'object' && def.shape !== undefined && !unwrapped.secret) {
      if (segments.length > 0) branches.add(path);
      if (segments.length > 0 && unwrapped.optional) optionalBranches.add(path);
      if (segments.length > 16) {
        throw ConfigErrors.CONFIG_INVALID_SCHEMA({
          message: `${path} nests deeper than 16 levels`,
        });
      }
      for (const key of Object.keys(def.shape)) {
        if (FORBIDDEN.has(key) || key.includes('.') || key === '') {
          throw ConfigErrors.CONFIG_INVALID_SCHEMA({
            message: `key ${JSON.stringify(key)} at ${path === '' ? 'the root' : path} cannot be a configuration key`,
          });
        }
        const child = def.shape[key];
        if (child !== undefined) visit(child, [...segments, key], { secret, reloadable });
      }
      return;
    }
    const derived = `${prefix}${segments.map(envSegment).join('_')}`;
    const env = unwrapped.env ?? derived;
    if (!ENV_NAME.test(env)) {
      throw ConfigErrors.CONFIG_INVALID_SCHEMA({
        message: `${path}: ${JSON.stringify(env)} is not a valid environment variable name`,
      });
    }
    leaves.push({
      path,
      segments,
      env,
      secret,
      reloadable,
      coercion: coercionOf(node),
    });
  };
  visit(root, [], { secret: false, reloadable: false });
  const byEnv = new Map<string, string>();
  for (const leaf of leaves) {
    const other = byEnv.get(leaf.env);
    if (other !== undefined) {
      throw ConfigErrors.CONFIG_INVALID_SCHEMA({
        message: `${other} and ${leaf.path} both read the environment variable ${leaf.env}; give one of them another name with fromEnv()`,
        details: { env: leaf.env, keys: [other, leaf.path] },
      });
    }
    byEnv.set(leaf.env, leaf.path);
  }
  return {
    leaves,
    leafByPath: new Map(leaves.map((leaf) => [leaf.path, leaf])),
    branches,
    optionalBranches,
  };
}
