import { resolve } from 'node:path';
import * as util from 'node:util';
import { findForbiddenKey } from '@prod/core';
import type { ConfigProblem } from '../types.js';
import { coerce } from './coerce.js';
import { type FileFormat, formatOf, readConfigFile, readText } from './read-file.js';
import type { Leaf, SchemaShape } from './schema-walk.js';
import { display, isPlainObject, lookup } from './values.js';

/** Values of some leaves, each with the label of where it came from. */
export interface Layer {
  readonly values: ReadonlyMap<string, { readonly value: unknown; readonly source: string }>;
}

/** A layer and the problems met while reading it. */
export interface ReadLayer {
  readonly layer: Layer;
  readonly problems: readonly ConfigProblem[];
  readonly warnings: readonly ConfigProblem[];
}

export function problem(
  key: string,
  source: string,
  expected: string,
  found: string,
): ConfigProblem {
  const where = key === '' ? '(configuration)' : key;
  return {
    key,
    source,
    expected,
    found,
    message: `${where}: expected ${expected}, found ${found} (from ${source})`,
  };
}

const kindOf = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;

/**
 * A layer from a nested object (a file, profile defaults, overrides, a runtime update).
 * Keys the schema does not know are problems when `strict`, warnings otherwise; their values
 * are never shown (a misspelt key may hold a password).
 */
export function treeLayer(
  tree: unknown,
  source: string,
  shape: SchemaShape,
  strict: boolean,
): ReadLayer {
  const values = new Map<string, { value: unknown; source: string }>();
  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  if (tree === undefined) return { layer: { values }, problems, warnings };
  if (!isPlainObject(tree)) {
    problems.push(problem('', source, 'an object', kindOf(tree)));
    return { layer: { values }, problems, warnings };
  }
  const forbidden = findForbiddenKey(tree);
  if (forbidden !== undefined) {
    const what = forbidden.endsWith('/...')
      ? 'nesting at most 64 levels deep'
      : 'no __proto__ or constructor.prototype key';
    problems.push(
      problem(forbidden.slice(1).replaceAll('/', '.'), source, what, 'a forbidden key'),
    );
    return { layer: { values }, problems, warnings };
  }
  for (const leaf of shape.leaves) {
    const found = lookup(tree, leaf.segments);
    if (found.found && found.value !== undefined)
      values.set(leaf.path, { value: found.value, source });
  }
  const scan = (node: Record<string, unknown>, prefix: string): void => {
    for (const key of Object.keys(node)) {
      const path = prefix === '' ? key : `${prefix}.${key}`;
      if (shape.leafByPath.has(path)) continue;
      const child = node[key];
      if (shape.branches.has(path)) {
        if (isPlainObject(child)) scan(child, path);
        else if (child !== undefined)
          problems.push(problem(path, source, 'an object', kindOf(child)));
        continue;
      }
      (strict ? problems : warnings).push(
        problem(path, source, 'a key of the schema', `an unknown key holding ${kindOf(child)}`),
      );
    }
  };
  scan(tree, '');
  return { layer: { values }, problems, warnings };
}

/** Options of {@link envLayer}. */
export interface EnvLayerOptions {
  /** `env` or `dotenv:<path>`. */
  readonly label: (name: string) => string;
  readonly maxFileBytes: number;
  readonly cwd: string;
}

/**
 * A layer from environment variables (or a `.env` file's): each leaf's variable, or its
 * `<NAME>_FILE` (the file's content, one trailing newline removed). Both set is a problem;
 * an empty variable counts as unset.
 */
export function envLayer(
  env: Readonly<Record<string, string | undefined>>,
  shape: SchemaShape,
  options: EnvLayerOptions,
): ReadLayer {
  const values = new Map<string, { value: unknown; source: string }>();
  const problems: ConfigProblem[] = [];
  const read = (name: string): string | undefined => {
    if (!Object.hasOwn(env, name)) return undefined;
    const value = env[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  for (const leaf of shape.leaves) {
    const direct = read(leaf.env);
    const fileName = `${leaf.env}_FILE`;
    const file = read(fileName);
    if (direct !== undefined && file !== undefined) {
      problems.push(
        problem(
          leaf.path,
          `${options.label(leaf.env)} and ${options.label(fileName)}`,
          `only one of ${leaf.env} and ${fileName}`,
          'both set',
        ),
      );
      continue;
    }
    if (direct !== undefined) {
      addRaw(values, problems, leaf, direct, options.label(leaf.env));
    } else if (file !== undefined) {
      const source = `${options.label(fileName)} (${file})`;
      const text = readText(resolve(options.cwd, file), options.maxFileBytes);
      if (!text.ok) {
        problems.push(problem(leaf.path, source, 'a readable file', text.reason));
        continue;
      }
      addRaw(values, problems, leaf, text.text.replace(/\r?\n$/, ''), source);
    }
  }
  return { layer: { values }, problems, warnings: [] };
}

function addRaw(
  values: Map<string, { value: unknown; source: string }>,
  problems: ConfigProblem[],
  leaf: Leaf,
  raw: string,
  source: string,
): void {
  const value = coerce(raw, leaf.coercion);
  if (typeof value === 'object' && value !== null) {
    const forbidden = findForbiddenKey(value);
    if (forbidden !== undefined) {
      problems.push(
        problem(
          `${leaf.path}${forbidden.replaceAll('/', '.')}`,
          source,
          'no __proto__ or constructor.prototype key',
          'a forbidden key',
        ),
      );
      return;
    }
  }
  values.set(leaf.path, { value, source });
}

/** A configuration file to read at startup (and on `reload()`). */
export interface ConfigFile {
  /** The path, relative to `cwd`; `{profile}` is replaced by the profile (`config/{profile}.yaml`). */
  readonly path: string;
  /** Default: from the extension (`.json`, `.yaml`, `.yml`). */
  readonly format?: FileFormat;
  /** A missing optional file is skipped. Default false: a missing file is a problem. */
  readonly optional?: boolean;
}

/** Reads one configuration file into a layer. */
export function fileLayer(
  file: ConfigFile,
  profile: string,
  shape: SchemaShape,
  options: { readonly cwd: string; readonly maxFileBytes: number; readonly strict: boolean },
): ReadLayer {
  const path = file.path.replaceAll('{profile}', profile);
  const source = `file:${path}`;
  const format = file.format ?? formatOf(path) ?? 'json';
  const parsed = readConfigFile(resolve(options.cwd, path), format, options.maxFileBytes);
  if (!parsed.ok) {
    if (parsed.missing && file.optional === true)
      return { layer: { values: new Map() }, problems: [], warnings: [] };
    return {
      layer: { values: new Map() },
      problems: [problem('', source, `a readable ${format.toUpperCase()} file`, parsed.reason)],
      warnings: [],
    };
  }
  return treeLayer(parsed.value, source, shape, options.strict);
}

/** Reads a `.env` file into a layer (Node's own parser, `util.parseEnv`, 20.12 or later). */
export function dotenvLayer(
  path: string,
  optional: boolean,
  shape: SchemaShape,
  options: { readonly cwd: string; readonly maxFileBytes: number },
): ReadLayer {
  const source = `dotenv:${path}`;
  const text = readText(resolve(options.cwd, path), options.maxFileBytes);
  if (!text.ok) {
    if (text.missing && optional)
      return { layer: { values: new Map() }, problems: [], warnings: [] };
    return {
      layer: { values: new Map() },
      problems: [problem('', source, 'a readable .env file', text.reason)],
      warnings: [],
    };
  }
  const parseEnv = (util as { parseEnv?: (content: string) => Record<string, string> }).parseEnv;
  if (parseEnv === undefined) {
    return {
      layer: { values: new Map() },
      problems: [
        problem(
          '',
          source,
          'Node 20.12 or later to read .env files',
          `Node ${process.versions.node}`,
        ),
      ],
      warnings: [],
    };
  }
  let parsed: Record<string, string>;
  try {
    parsed = parseEnv(text.text);
  } catch (error) {
    return {
      layer: { values: new Map() },
      problems: [problem('', source, 'a valid .env file', display(String(error), false))],
      warnings: [],
    };
  }
  return envLayer(parsed, shape, {
    label: (name) => `${source} (${name})`,
    cwd: options.cwd,
    maxFileBytes: options.maxFileBytes,
  });
}
