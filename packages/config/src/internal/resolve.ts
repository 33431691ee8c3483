import type { z } from 'zod';
import type { ConfigProblem } from '../types.js';
import type { Layer } from './layers.js';
import { problem } from './layers.js';
import type { Leaf, SchemaShape } from './schema-walk.js';
import { assign, deepFreeze, display, isPlainObject, lookup } from './values.js';

/** An immutable, validated configuration and where each value came from. */
export interface Snapshot {
  readonly value: unknown;
  /** Every branch and leaf path -> its value. */
  readonly flat: ReadonlyMap<string, unknown>;
  /** Every leaf path -> its source label. */
  readonly sources: ReadonlyMap<string, string>;
}

/** A guard as the resolver runs it. */
export interface GuardCheck {
  readonly key: string;
  readonly profiles: readonly string[];
  readonly check: (value: unknown, config: unknown) => string | undefined | false | null;
}

export interface ResolveInput {
  readonly schema: z.ZodType;
  readonly shape: SchemaShape;
  readonly layers: readonly Layer[];
  readonly profile: string;
  readonly production: boolean;
  readonly allowDefaultSecrets: boolean;
  readonly guards: readonly GuardCheck[];
}

export type Resolved =
  | { readonly ok: true; readonly snapshot: Snapshot }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

interface Issue {
  readonly code: string;
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly expected?: string;
  readonly values?: readonly unknown[];
  readonly keys?: readonly string[];
  readonly format?: string;
}

const PREFIX =
  /^(?:Invalid input|Too small|Too big|Invalid string|Invalid option|Invalid)(?:[^:]*)?:\s*(?:expected\s+)?/i;

function expectedOf(issue: Issue, leaf: Leaf | undefined): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.expected === 'boolean' && leaf?.coercion.kind === 'boolean') {
        return 'boolean (true/false, 1/0, yes/no, on/off)';
      }
      return issue.expected ?? 'another type';
    case 'invalid_value':
      return issue.values !== undefined
        ? `one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}`
        : issue.message;
    case 'invalid_format':
      // zod's own messages start with "Invalid"; a schema's custom message says it better.
      return /^invalid\b/i.test(issue.message)
        ? `a valid ${issue.format ?? 'format'}`
        : issue.message;
    default:
      return issue.message.replace(PREFIX, '') || issue.message;
  }
}

/** The leaf at `path` or above it (for an issue inside an array or record value). */
function leafFor(shape: SchemaShape, path: readonly string[]): Leaf | undefined {
  for (let n = path.length; n > 0; n--) {
    const leaf = shape.leafByPath.get(path.slice(0, n).join('.'));
    if (leaf !== undefined) return leaf;
  }
  return undefined;
}

/**
 * Merges the layers (the last one wins, per leaf), validates with the schema, runs the
 * guards, and freezes the result. Every problem is collected; none stops the others.
 */
export function resolveConfig(input: ResolveInput): Resolved {
  const { shape } = input;
  const tree = Object.create(null) as Record<string, unknown>;
  const sources = new Map<string, string>();
  const provided = new Set<string>();
  for (const leaf of shape.leaves) {
    for (let i = input.layers.length - 1; i >= 0; i--) {
      const entry = input.layers[i]?.values.get(leaf.path);
      if (entry !== undefined) {
        assign(tree, leaf.segments, entry.value);
        sources.set(leaf.path, entry.source);
        for (let n = 1; n < leaf.segments.length; n++)
          provided.add(leaf.segments.slice(0, n).join('.'));
        break;
      }
    }
  }
  // Required nested objects exist even when no source set a key in them, so their keys'
  // defaults apply; optional ones only when something was set inside.
  const branchPaths = [...shape.branches].sort((a, b) => a.split('.').length - b.split('.').length);
  for (const path of branchPaths) {
    const segments = path.split('.');
    const parent = lookup(tree, segments.slice(0, -1));
    if (!parent.found || !isPlainObject(parent.value)) continue;
    if (lookup(tree, segments).found) continue;
    if (shape.optionalBranches.has(path) && !provided.has(path)) continue;
    assign(tree, segments, Object.create(null));
  }

  const problems: ConfigProblem[] = [];
  const sourceOf = (leaf: Leaf | undefined, found: boolean): string =>
    leaf === undefined
      ? 'schema'
      : (sources.get(leaf.path) ?? (found ? 'default' : `unset (${leaf.env})`));

  const parsed = input.schema.safeParse(tree);
  if (!parsed.success) {
    for (const issue of parsed.error.issues as readonly Issue[]) {
      const path = issue.path.map(String);
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys ?? []) {
          const full = [...path, key].join('.');
          problems.push(problem(full, 'schema', 'a key of the schema', 'an unknown key'));
        }
        continue;
      }
      const leaf = leafFor(shape, path);
      const raw = lookup(tree, path);
      problems.push(
        problem(
          path.join('.'),
          sourceOf(leaf, false),
          expectedOf(issue, leaf),
          display(raw.found ? raw.value : undefined, leaf?.secret === true),
        ),
      );
    }
    return { ok: false, problems };
  }

  const value = parsed.data;
  const flat = new Map<string, unknown>();
  for (const path of shape.branches) {
    const found = lookup(value, path.split('.'));
    if (found.found) flat.set(path, found.value);
  }
  for (const leaf of shape.leaves) {
    const found = lookup(value, leaf.segments);
    if (found.found) flat.set(leaf.path, found.value);
    if (!sources.has(leaf.path))
      sources.set(leaf.path, found.found && found.value !== undefined ? 'default' : 'unset');
  }

  if (input.production && !input.allowDefaultSecrets) {
    for (const leaf of shape.leaves) {
      if (!leaf.secret) continue;
      const source = sources.get(leaf.path) ?? 'unset';
      if (source === 'default' || source.startsWith('profile:')) {
        problems.push(
          problem(
            leaf.path,
            source,
            `a secret set for ${input.profile} (not a default)`,
            '[REDACTED]',
          ),
        );
      }
    }
  }
  for (const guard of input.guards) {
    if (!guard.profiles.includes(input.profile)) continue;
    const current = flat.get(guard.key);
    let refused: string | undefined | false | null;
    try {
      refused = guard.check(current, value);
    } catch (error) {
      refused = `a guard that does not throw (${error instanceof Error ? error.message : String(error)})`;
    }
    if (typeof refused === 'string' && refused !== '') {
      const leaf = shape.leafByPath.get(guard.key);
      const source =
        leaf !== undefined && sources.get(leaf.path) === 'unset'
          ? `unset (${leaf.env})`
          : sourceOf(leaf, true);
      problems.push(problem(guard.key, source, refused, display(current, leaf?.secret === true)));
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, snapshot: { value: deepFreeze(value), flat, sources } };
}
