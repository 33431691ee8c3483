import { prototypeIsPolluted } from '@prod/core';
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
  /** The declared keys of an object node, in the schema's order; undefined for other nodes. */
  readonly fieldKeys: readonly string[] | undefined;
  /** The plans of `fieldKeys`, at the same positions. */
  readonly fieldPlans: readonly SanitizePlan[] | undefined;
  /** The position of each of `fieldKeys` (for a body whose keys come in another order). */
  readonly fieldIndex: ReadonlyMap<string, number> | undefined;
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

// Every plan is made here, its properties always in this order: one hidden class for all of
// them, so the walk's reads of a plan stay monomorphic.
function makePlan(
  strings: Pick<SanitizePlan, 'steps' | 'asciiSafe' | 'firstNfc'>,
  fieldKeys: readonly string[] | undefined,
  fieldPlans: readonly SanitizePlan[] | undefined,
  fieldIndex: ReadonlyMap<string, number> | undefined,
  rest: SanitizePlan | undefined,
  item: SanitizePlan | undefined,
  fallback: SanitizePlan | undefined,
): SanitizePlan {
  return Object.freeze({
    steps: strings.steps,
    asciiSafe: strings.asciiSafe,
    firstNfc: strings.firstNfc,
    fieldKeys,
    fieldPlans,
    fieldIndex,
    rest,
    item,
    fallback,
  });
}

const leaf = (strings: Pick<SanitizePlan, 'steps' | 'asciiSafe' | 'firstNfc'>): SanitizePlan =>
  makePlan(strings, undefined, undefined, undefined, undefined, undefined, undefined);

/** The plan that changes no string (limits and prototype keys only). */
export const NO_STEPS: SanitizePlan = leaf({
  steps: Object.freeze([]),
  asciiSafe: true,
  firstNfc: 0,
});

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
  const base = leaf(plan(defaults));
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
      here = leaf(plan(field.defaults ? [...defaults, ...field.steps] : field.steps));
      break;
    }
  }
  const inner = chain[chain.length - 1] as Schema;
  const def = defOf(inner);
  let fieldKeys: string[] | undefined;
  let fieldPlans: SanitizePlan[] | undefined;
  let fieldIndex: Map<string, number> | undefined;
  let rest: SanitizePlan | undefined;
  let item: SanitizePlan | undefined;
  if (def.type === 'object' && def.shape !== undefined) {
    fieldKeys = Object.keys(def.shape);
    fieldPlans = [];
    fieldIndex = new Map();
    for (const key of fieldKeys) {
      fieldIndex.set(key, fieldPlans.length);
      fieldPlans.push(compileNode(def.shape[key] as Schema, defaults, here, depth + 1));
    }
    if (def.catchall !== undefined) rest = compileNode(def.catchall, defaults, here, depth + 1);
  } else if (def.type === 'array' && def.element !== undefined) {
    item = compileNode(def.element, defaults, here, depth + 1);
  } else if (def.type === 'record' && def.valueType !== undefined) {
    rest = compileNode(def.valueType, defaults, here, depth + 1);
  }
  if (fieldKeys === undefined && rest === undefined && item === undefined) return here;
  return makePlan(
    here,
    // Not frozen, unlike the plan: V8's optimized code reads a frozen array's elements
    // through a slower path, and these are read for every key of every object. The plans are
    // private to the package (in the compiled routes' WeakMap), never handed out.
    fieldKeys,
    fieldPlans,
    fieldIndex,
    rest,
    item,
    here,
  );
}

/**
 * Whether a plan leaves plain text (printable ASCII, tab, LF, CR) as it is everywhere: no
 * steps, or only the Unicode ones, which change nothing below U+0300 but controls.
 */
export function leavesPlainText(root: SanitizePlan | undefined): boolean {
  if (root === undefined) return true;
  const seen = new Set<SanitizePlan>();
  const visit = (node: SanitizePlan | undefined): boolean => {
    if (node === undefined || seen.has(node)) return true;
    seen.add(node);
    if (node.steps.length > 0 && !node.asciiSafe) return false;
    return (
      (node.fieldPlans ?? []).every(visit) &&
      visit(node.rest) &&
      visit(node.item) &&
      visit(node.fallback)
    );
  };
  return visit(root);
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
  /**
   * Whether `Object.prototype` has enumerable properties (someone polluted it): then `for...in`
   * would list them too, and every key is checked to be the object's own.
   */
  readonly inherited: boolean;
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
  const state: WalkState = {
    keys: 0,
    refusal: undefined,
    limits,
    segments: [],
    prefix: path,
    inherited: prototypeIsPolluted(),
  };
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

// The walk: `walk` for a value of any type, `walkObject` / `walkArray` for containers, with
// strings and other primitives handled in the containers' loops (no call for a number, a
// boolean or null). Copy-on-write: a container is copied only when one of its values changed,
// so a clean input comes back as the very same object, allocating nothing.

function walk(value: unknown, node: SanitizePlan, depth: number, state: WalkState): unknown {
  if (typeof value === 'string') return walkString(value, node, state);
  if (typeof value !== 'object' || value === null) return value;
  return walkContainer(value, node, depth, state);
}

function walkString(value: string, node: SanitizePlan, state: WalkState): string | undefined {
  let out = value;
  if (node.steps.length > 0 && !(node.asciiSafe && PRINTABLE_ASCII.test(value))) {
    out = sanitizeText(value, node);
  }
  if (out.length > state.limits.maxStringLength) {
    return refuse(state, 'too_long', `is longer than ${state.limits.maxStringLength} characters`);
  }
  return out;
}

function walkContainer(
  value: object,
  node: SanitizePlan,
  depth: number,
  state: WalkState,
): unknown {
  if (depth >= state.limits.maxDepth) {
    return refuse(state, 'too_deep', `nests deeper than ${state.limits.maxDepth} levels`);
  }
  if (Array.isArray(value)) return walkArray(value, node, depth, state);
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  return walkObject(value as Record<string, unknown>, node, depth, state);
}

function walkArray(
  value: readonly unknown[],
  node: SanitizePlan,
  depth: number,
  state: WalkState,
): unknown {
  if (value.length > state.limits.maxItems) {
    return refuse(state, 'too_many_items', `has more than ${state.limits.maxItems} items`);
  }
  const itemPlan = node.item ?? node.fallback ?? node;
  let copy: unknown[] | undefined;
  for (let i = 0; i < value.length; i++) {
    const item: unknown = value[i];
    let out: unknown;
    if (typeof item === 'string') out = walkString(item, itemPlan, state);
    else if (typeof item !== 'object' || item === null) continue;
    else out = walkContainer(item, itemPlan, depth + 1, state);
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

// `for...in` rather than `Object.keys`: V8 lists the keys of a plain object from its map's
// enum cache without allocating an array, and reads each value by its known field offset.
// One pass: each key is counted (and the total held to the limit) and checked for a
// prototype key before its value is walked. So the first fault in the input's order decides
// the refusal (a key past the limit, a prototype key, or a fault inside an earlier value); no
// key past the limit is ever looked at.
function walkObject(
  record: Record<string, unknown>,
  node: SanitizePlan,
  depth: number,
  state: WalkState,
): unknown {
  const inherited = state.inherited;
  const maxKeys = state.limits.maxKeys;
  const maxLength = state.limits.maxStringLength;
  const other = node.rest ?? node.fallback ?? node;
  const order = node.fieldKeys;
  const plans = node.fieldPlans as readonly SanitizePlan[];
  // The declared fields, tried in the schema's order first: a body usually lists its keys in
  // that order (perhaps without an optional one), and comparing a key with the expected one
  // is cheaper than a map lookup.
  let next = 0;
  let copy: Record<string, unknown> | undefined;
  for (const key in record) {
    if (inherited && !Object.hasOwn(record, key)) continue;
    if (++state.keys > maxKeys) {
      return refuse(state, 'too_many_keys', `holds more than ${maxKeys} keys in all`);
    }
    // Keys that can reach a prototype when the object is later merged.
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
      return refuse(state, 'forbidden_key', `"${key}" is not accepted as a key`, key);
    }
    const child = record[key];
    let childPlan = other;
    if (order !== undefined) {
      if (key === order[next]) {
        childPlan = plans[next] as SanitizePlan;
        next++;
      } else if (key === order[next + 1]) {
        childPlan = plans[next + 1] as SanitizePlan;
        next += 2;
      } else {
        const at = node.fieldIndex?.get(key);
        if (at !== undefined) {
          childPlan = plans[at] as SanitizePlan;
          next = at + 1;
        }
      }
    }
    let out: unknown;
    if (typeof child === 'string') {
      // walkString, inlined: an object's fields are the hot loop, and the call cost 3 - 6 % of
      // the walk in an in-process A/B. Keep the two alike.
      out = child;
      if (childPlan.steps.length > 0 && !(childPlan.asciiSafe && PRINTABLE_ASCII.test(child))) {
        out = sanitizeText(child, childPlan);
      }
      if ((out as string).length > maxLength) {
        return refuse(state, 'too_long', `is longer than ${maxLength} characters`, key);
      }
    } else if (typeof child === 'object' && child !== null) {
      out = walkContainer(child, childPlan, depth + 1, state);
      if (state.refusal !== undefined) {
        state.segments.push(key);
        return undefined;
      }
    } else {
      continue;
    }
    if (out !== child) {
      // Copy-on-write: the first changed value copies the object (its own keys, in order);
      // a clean object is returned as it came.
      copy ??= { ...record };
      copy[key] = out;
    }
  }
  return copy ?? record;
}
