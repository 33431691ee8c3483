import { DEFAULT_STRING_STEPS, sanitizeRegistry, stepFunction } from '../sanitize.js';
import type { InputLimits, SanitizeOptions, SanitizeStep, Schema } from '../types.js';
import { defOf, unwrapChain } from './schema-shape.js';

type Step = (value: string) => string;

/** How to sanitize one node of an input, compiled once from its schema. */
export interface SanitizePlan {
  /** The steps of a string here (the defaults, then the field's own). */
  readonly steps: readonly Step[];
  /**
   * Whether `steps` are only `nfc`, `stripControl` and `stripInvisible`: then one scan of the
   * string decides which of them can change it (see `sanitizeText`).
   */
  readonly asciiSafe: boolean;
  /** The index of the first `nfc` in `steps` (`steps.length` without one). */
  readonly firstNfc: number;
  readonly fields: ReadonlyMap<string, SanitizePlan> | undefined;
  readonly rest: SanitizePlan | undefined;
  readonly item: SanitizePlan | undefined;
  /** The plan of what this node's schema does not declare (the defaults); undefined at the base. */
  readonly fallback: SanitizePlan | undefined;
}

/** Limits with their defaults filled in. */
export interface ResolvedLimits {
  readonly maxDepth: number;
  readonly maxKeys: number;
  readonly maxItems: number;
  readonly maxStringLength: number;
}

export const DEFAULT_LIMITS: ResolvedLimits = Object.freeze({
  maxDepth: 32,
  maxKeys: 1000,
  maxItems: 10_000,
  maxStringLength: 1_000_000,
});

const ASCII_SAFE_STEPS = new Set<SanitizeStep>(['nfc', 'stripControl', 'stripInvisible']);
// V8 runs this compiled regex faster than a loop of charCodeAt over the same printable ASCII.
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const MAX_PLAN_DEPTH = 24;

/** Keys that can reach a prototype when the object is later merged. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set([
  '__proto__',
  'constructor',
  'prototype',
]);

export function resolveLimits(
  limits: InputLimits | undefined,
  check: (name: string, value: unknown, fallback: number) => number,
): ResolvedLimits {
  if (limits === undefined) return DEFAULT_LIMITS;
  return Object.freeze({
    maxDepth: check('limits.maxDepth', limits.maxDepth, DEFAULT_LIMITS.maxDepth),
    maxKeys: check('limits.maxKeys', limits.maxKeys, DEFAULT_LIMITS.maxKeys),
    maxItems: check('limits.maxItems', limits.maxItems, DEFAULT_LIMITS.maxItems),
    maxStringLength: check(
      'limits.maxStringLength',
      limits.maxStringLength,
      DEFAULT_LIMITS.maxStringLength,
    ),
  });
}

function plan(
  steps: readonly SanitizeStep[],
): Pick<SanitizePlan, 'steps' | 'asciiSafe' | 'firstNfc'> {
  const firstNfc = steps.indexOf('nfc');
  return {
    steps: Object.freeze(steps.map(stepFunction)),
    asciiSafe: steps.every((step) => ASCII_SAFE_STEPS.has(step)),
    firstNfc: firstNfc === -1 ? steps.length : firstNfc,
  };
}

/** Compiles the sanitization of an input described by `schema` (or of any input, without one). */
export function compileSanitizer(
  schema: Schema | undefined,
  options: SanitizeOptions | undefined,
): SanitizePlan {
  const defaults = options?.strings ?? DEFAULT_STRING_STEPS;
  const base: SanitizePlan = Object.freeze({
    ...plan(defaults),
    fields: undefined,
    rest: undefined,
    item: undefined,
    fallback: undefined,
  });
  if (schema === undefined) return base;
  return compileNode(schema, defaults, base, 0);
}

function compileNode(
  schema: Schema,
  defaults: readonly SanitizeStep[],
  inherited: SanitizePlan,
  depth: number,
): SanitizePlan {
  if (depth > MAX_PLAN_DEPTH) return inherited;
  const chain = unwrapChain(schema);
  let here = inherited;
  for (const node of chain) {
    const field = sanitizeRegistry.get(node);
    if (field !== undefined) {
      // A field's steps hold for every string it holds, unless a deeper field says otherwise.
      here = Object.freeze({
        ...plan(field.defaults ? [...defaults, ...field.steps] : field.steps),
        fields: undefined,
        rest: undefined,
        item: undefined,
        fallback: undefined,
      });
      break;
    }
  }
  const inner = chain[chain.length - 1] as Schema;
  const def = defOf(inner);
  let fields: Map<string, SanitizePlan> | undefined;
  let rest: SanitizePlan | undefined;
  let item: SanitizePlan | undefined;
  if (def.type === 'object' && def.shape !== undefined) {
    fields = new Map();
    for (const key of Object.keys(def.shape)) {
      fields.set(key, compileNode(def.shape[key] as Schema, defaults, here, depth + 1));
    }
    if (def.catchall !== undefined) rest = compileNode(def.catchall, defaults, here, depth + 1);
  } else if (def.type === 'array' && def.element !== undefined) {
    item = compileNode(def.element, defaults, here, depth + 1);
  } else if (def.type === 'record' && def.valueType !== undefined) {
    rest = compileNode(def.valueType, defaults, here, depth + 1);
  }
  if (fields === undefined && rest === undefined && item === undefined) return here;
  return Object.freeze({
    steps: here.steps,
    asciiSafe: here.asciiSafe,
    firstNfc: here.firstNfc,
    fields,
    rest,
    item,
    fallback: here,
  });
}

/** Where and why an input was refused. */
export interface Refusal {
  readonly path: string;
  readonly reason: 'forbidden_key' | 'too_deep' | 'too_many_keys' | 'too_many_items' | 'too_long';
  readonly message: string;
}

interface WalkState {
  keys: number;
  refusal: Refusal | undefined;
  readonly limits: ResolvedLimits;
  /** Where the walk is: the path is only spelled out for a refusal. */
  readonly segments: (string | number)[];
  readonly prefix: string;
}

/** The sanitized input, or why it was refused. Copies what it changes; never mutates `value`. */
export type Sanitized =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly refusal: Refusal };

/**
 * Sanitizes `value` by `plan` and holds it to `limits`. Never throws for any JSON-like input
 * (objects that are not plain are passed through without being walked).
 */
export function sanitizeValue(
  value: unknown,
  sanitizePlan: SanitizePlan,
  limits: ResolvedLimits,
  path: string,
): Sanitized {
  const state: WalkState = { keys: 0, refusal: undefined, limits, segments: [], prefix: path };
  const out = walk(value, sanitizePlan, 0, state);
  if (state.refusal !== undefined)
    return { ok: false, refusal: { ...state.refusal, path: pathOf(state) } };
  return { ok: true, value: out };
}

export function escapePointer(segment: string): string {
  const short = segment.length > 64 ? `${segment.slice(0, 64)}…` : segment;
  return short.replace(/~/g, '~0').replace(/\//g, '~1');
}

// The refusal's path is collected as the walk unwinds (segments pushed innermost first), so
// the walk itself builds no path strings.
function refuse(
  state: WalkState,
  reason: Refusal['reason'],
  message: string,
  key?: string,
): undefined {
  if (state.refusal !== undefined) return undefined;
  if (key !== undefined) state.segments.push(key);
  state.refusal = { path: '', reason, message };
  return undefined;
}

function pathOf(state: WalkState): string {
  let path = state.prefix;
  for (let i = state.segments.length - 1; i >= 0; i--) {
    const segment = state.segments[i] as string | number;
    path += `/${typeof segment === 'number' ? segment : escapePointer(segment)}`;
  }
  return path;
}

// What one scan of a string finds, for the Unicode steps.
const CLEAN = 0;
const NEEDS_NFC = 1;
const REMOVABLE = 2;

/**
 * One pass over the code units: REMOVABLE when `stripControl` or `stripInvisible` would take
 * something out (the exact sets of their regexes), else NEEDS_NFC when a code unit is at or
 * above U+0300, else CLEAN. Below U+0300 every character is NFC-stable and none composes with
 * a neighbour (the second character of every canonical composition is at or above U+0300;
 * checked exhaustively by the tests), so `normalize('NFC')` leaves such a string unchanged.
 */
function scanText(value: string): number {
  let found = CLEAN;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x7f) {
      if (code >= 0x20 || code === 0x09 || code === 0x0a || code === 0x0d) continue;
      return REMOVABLE;
    }
    if (code <= 0x9f || code === 0xad) return REMOVABLE;
    if (code < 0x300) continue;
    if (code === 0x180e || code === 0xfeff) return REMOVABLE;
    if (code >= 0x200b && code <= 0x2069) {
      if (
        code <= 0x200b ||
        code === 0x200e ||
        code === 0x200f ||
        (code >= 0x202a && code <= 0x202e) ||
        (code >= 0x2060 && code !== 0x2065)
      ) {
        return REMOVABLE;
      }
    }
    found = NEEDS_NFC;
  }
  return found;
}

/**
 * Applies a plan's steps to one string. For the Unicode steps alone, a scan decides: nothing
 * to remove and nothing at or above U+0300 leaves every step a no-op; nothing to remove makes
 * the removal steps before the first `nfc` no-ops. Otherwise every step runs, in order.
 */
function sanitizeText(value: string, node: SanitizePlan): string {
  const steps = node.steps;
  let start = 0;
  if (node.asciiSafe) {
    const found = scanText(value);
    if (found === CLEAN) return value;
    if (found === NEEDS_NFC) start = node.firstNfc;
  }
  let out = value;
  for (let i = start; i < steps.length; i++) out = (steps[i] as Step)(out);
  return out;
}

function walk(value: unknown, node: SanitizePlan, depth: number, state: WalkState): unknown {
  if (typeof value === 'string') {
    let out = value;
    if (node.steps.length > 0 && !(node.asciiSafe && PRINTABLE_ASCII.test(value))) {
      out = sanitizeText(value, node);
    }
    if (out.length > state.limits.maxStringLength) {
      return refuse(state, 'too_long', `is longer than ${state.limits.maxStringLength} characters`);
    }
    return out;
  }
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= state.limits.maxDepth) {
    return refuse(state, 'too_deep', `nests deeper than ${state.limits.maxDepth} levels`);
  }
  if (Array.isArray(value)) {
    if (value.length > state.limits.maxItems) {
      return refuse(state, 'too_many_items', `has more than ${state.limits.maxItems} items`);
    }
    const itemPlan = node.item ?? node.fallback ?? node;
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const out = walk(item, itemPlan, depth + 1, state);
      if (state.refusal !== undefined) {
        state.segments.push(i);
        return undefined;
      }
      if (out !== item) {
        copy ??= value.slice();
        copy[i] = out;
      }
    }
    return copy ?? value;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  state.keys += keys.length;
  if (state.keys > state.limits.maxKeys) {
    return refuse(state, 'too_many_keys', `holds more than ${state.limits.maxKeys} keys in all`);
  }
  let copy: Record<string, unknown> | undefined;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const length = key.length;
    if ((length === 9 || length === 11) && FORBIDDEN_KEYS.has(key)) {
      return refuse(state, 'forbidden_key', `"${key}" is not accepted as a key`, key);
    }
    const child = record[key];
    const childPlan =
      (node.fields !== undefined ? node.fields.get(key) : undefined) ??
      node.rest ??
      node.fallback ??
      node;
    const out = walk(child, childPlan, depth + 1, state);
    if (state.refusal !== undefined) {
      state.segments.push(key);
      return undefined;
    }
    if (out !== child) {
      if (copy === undefined) {
        copy = {};
        for (let j = 0; j < i; j++) copy[keys[j] as string] = record[keys[j] as string];
      }
      copy[key] = out;
    } else if (copy !== undefined) {
      copy[key] = child;
    }
  }
  return copy ?? value;
}
