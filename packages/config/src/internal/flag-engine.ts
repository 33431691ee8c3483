import type { FlagDeclaration, FlagType } from '../flags/flag.js';
import { type FlagCondition, flagDefinitionSchema } from '../flags/flag-definition.js';
import { ROLLOUT_BUCKETS, rolloutBucket, splitBucket } from '../flags/rollout.js';
import type { FlagContext, FlagErrorCode, FlagEvaluation, FlagReason } from '../flags/types.js';
import type { Cell, FlagTelemetry } from './flag-telemetry.js';
import { deepFreeze } from './values.js';

/** An evaluation result, built once and handed out for every evaluation that ends there. */
export interface Outcome {
  readonly details: FlagEvaluation<unknown>;
  readonly cell: Cell;
}

type Test = (context: FlagContext) => boolean;

interface CompiledRule {
  readonly test: Test | undefined;
  readonly bucketBy: string | undefined;
  readonly threshold: number | undefined;
  /** Cumulative bucket bounds of a split, with their outcomes. */
  readonly split: ReadonlyArray<{ readonly bound: number; readonly outcome: Outcome }> | undefined;
  readonly outcome: Outcome | undefined;
}

/** A validated definition, ready to evaluate. */
export interface CompiledFlag {
  readonly key: string;
  /** What the definition's values are (undefined: no variants, only the code default). */
  readonly valueType: FlagType | 'mixed' | undefined;
  evaluate(context: FlagContext | undefined): Outcome;
}

export function typeOfValue(value: unknown): FlagType | undefined {
  switch (typeof value) {
    case 'boolean':
      return 'boolean';
    case 'string':
      return 'string';
    case 'number':
      return Number.isFinite(value) ? 'number' : undefined;
    case 'object':
      return value === null ? undefined : 'object';
    default:
      return undefined;
  }
}

const hasOwn = Object.hasOwn;

/** An attribute of the context by dotted path, own properties only (never the prototype chain). */
export function attributeOf(context: FlagContext | undefined, path: string): unknown {
  if (context === undefined || context === null || typeof context !== 'object') return undefined;
  if (!path.includes('.')) return hasOwn(context, path) ? context[path] : undefined;
  let current: unknown = context;
  for (const segment of path.split('.')) {
    if (typeof current !== 'object' || current === null || !hasOwn(current, segment))
      return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

const comparable = (value: unknown): number | undefined => {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (value instanceof Date) return value.getTime();
  return undefined;
};

function condition(spec: FlagCondition): Test {
  const { attribute, op } = spec;
  const value = spec.value;
  const list = Array.isArray(value)
    ? new Set<unknown>(value)
    : new Set<unknown>(value === undefined ? [] : [value]);
  const text = typeof value === 'string' ? value : undefined;
  const bound = comparable(value) ?? (typeof value === 'string' ? Date.parse(value) : Number.NaN);
  const compare = (actual: unknown, ok: (a: number, b: number) => boolean): boolean => {
    const a = comparable(actual);
    return a !== undefined && !Number.isNaN(bound) && ok(a, bound);
  };
  switch (op) {
    case 'exists':
      return (c) => attributeOf(c, attribute) !== undefined;
    case 'notExists':
      return (c) => attributeOf(c, attribute) === undefined;
    case 'eq':
      return (c) => attributeOf(c, attribute) === value;
    case 'neq':
      return (c) => {
        const actual = attributeOf(c, attribute);
        return actual !== undefined && actual !== value;
      };
    case 'in':
      return (c) => list.has(attributeOf(c, attribute));
    case 'notIn':
      return (c) => {
        const actual = attributeOf(c, attribute);
        return actual !== undefined && !list.has(actual);
      };
    case 'contains':
      return (c) => {
        const actual = attributeOf(c, attribute);
        if (typeof actual === 'string') return text !== undefined && actual.includes(text);
        return Array.isArray(actual) && actual.includes(value);
      };
    case 'startsWith':
      return (c) => {
        const actual = attributeOf(c, attribute);
        return typeof actual === 'string' && text !== undefined && actual.startsWith(text);
      };
    case 'endsWith':
      return (c) => {
        const actual = attributeOf(c, attribute);
        return typeof actual === 'string' && text !== undefined && actual.endsWith(text);
      };
    case 'gt':
      return (c) => compare(attributeOf(c, attribute), (a, b) => a > b);
    case 'gte':
      return (c) => compare(attributeOf(c, attribute), (a, b) => a >= b);
    case 'lt':
      return (c) => compare(attributeOf(c, attribute), (a, b) => a < b);
    case 'lte':
      return (c) => compare(attributeOf(c, attribute), (a, b) => a <= b);
  }
}

function all(tests: readonly Test[]): Test {
  if (tests.length === 1) return tests[0] as Test;
  return (context) => {
    for (const test of tests) if (!test(context)) return false;
    return true;
  };
}

/** The key a rule buckets by: its `bucketBy` attribute, else `targetingKey`, else `userId`. */
function bucketKey(
  context: FlagContext | undefined,
  bucketBy: string | undefined,
): string | undefined {
  const raw =
    bucketBy === undefined
      ? (attributeOf(context, 'targetingKey') ?? attributeOf(context, 'userId'))
      : attributeOf(context, bucketBy);
  if (typeof raw === 'string') return raw === '' ? undefined : raw;
  if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw);
  return undefined;
}

/** Outcomes every flag has, defined or not. */
export interface BaseOutcomes {
  readonly defaultOutcome: Outcome;
  readonly notReady: Outcome;
}

export function outcome(telemetry: FlagTelemetry, details: FlagEvaluation<unknown>): Outcome {
  return {
    details: Object.freeze(details),
    cell: telemetry.cell(details.key, details.variant, details.reason),
  };
}

export function errorOutcome(
  telemetry: FlagTelemetry,
  key: string,
  value: unknown,
  errorCode: FlagErrorCode,
  errorMessage: string,
  label = key,
): Outcome {
  return {
    details: Object.freeze({ key, value, reason: 'ERROR' as const, errorCode, errorMessage }),
    cell: telemetry.cell(label, undefined, 'ERROR'),
  };
}

export function baseOutcomes(
  telemetry: FlagTelemetry,
  key: string,
  declaration: FlagDeclaration<unknown> | undefined,
): BaseOutcomes {
  const value = declaration?.defaultValue;
  return {
    defaultOutcome: outcome(telemetry, { key, value, reason: 'DEFAULT' }),
    notReady: errorOutcome(
      telemetry,
      key,
      value,
      'PROVIDER_NOT_READY',
      'the flag source has not loaded yet',
    ),
  };
}

const BOOLEAN_VARIANTS: Readonly<Record<string, boolean>> = Object.freeze({ on: true, off: false });

/**
 * Validates a raw definition against the schema and the declaration (variant values of the
 * declared type, passing its schema; rules naming variants that exist) and compiles it.
 *
 * @returns the compiled flag, or the reason it was refused.
 */
export function compileFlag(
  key: string,
  raw: unknown,
  declaration: FlagDeclaration<unknown> | undefined,
  telemetry: FlagTelemetry,
  base: BaseOutcomes,
):
  | { readonly ok: true; readonly flag: CompiledFlag }
  | { readonly ok: false; readonly code: FlagErrorCode; readonly reason: string } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, code: 'PARSE_ERROR', reason: 'a flag definition must be an object' };
  }
  const parsed = flagDefinitionSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      code: 'PARSE_ERROR',
      reason: `${issue?.path.join('.') || 'definition'}: ${issue?.message ?? 'invalid'}`,
    };
  }
  const definition = parsed.data;
  const variants: Readonly<Record<string, unknown>> =
    definition.variants ?? (declaration?.type === 'boolean' ? BOOLEAN_VARIANTS : {});
  const types = new Set<FlagType | undefined>();
  for (const [name, value] of Object.entries(variants)) {
    const type = typeOfValue(value);
    types.add(type);
    if (declaration !== undefined) {
      if (type !== declaration.type) {
        return {
          ok: false,
          code: 'TYPE_MISMATCH',
          reason: `variant ${name} is ${type ?? 'null'}, the flag is ${declaration.type}`,
        };
      }
      if (declaration.schema !== undefined && !declaration.schema.safeParse(value).success) {
        return {
          ok: false,
          code: 'TYPE_MISMATCH',
          reason: `variant ${name} does not fit the flag's schema`,
        };
      }
    }
  }
  const valueType = types.size === 0 ? undefined : types.size === 1 ? [...types][0] : 'mixed';
  const known = (name: string | undefined): boolean => name === undefined || hasOwn(variants, name);
  if (!known(definition.defaultVariant)) {
    return {
      ok: false,
      code: 'PARSE_ERROR',
      reason: `defaultVariant ${definition.defaultVariant} is not a variant`,
    };
  }
  const cache = new Map<string, Outcome>();
  const served = (variant: string, reason: FlagReason, rule?: string): Outcome => {
    const id = `${variant}\u0000${reason}\u0000${rule ?? ''}`;
    let found = cache.get(id);
    if (found === undefined) {
      found = outcome(telemetry, {
        key,
        value: deepFreeze(variants[variant]),
        variant,
        reason,
        ...(rule === undefined ? {} : { rule }),
      });
      cache.set(id, found);
    }
    return found;
  };
  const seed = definition.seed ?? key;
  const rules: CompiledRule[] = [];
  for (const [index, rule] of (definition.rules ?? []).entries()) {
    const label = rule.name ?? `rule ${index}`;
    if (!known(rule.variant))
      return {
        ok: false,
        code: 'PARSE_ERROR',
        reason: `${label}: variant ${rule.variant} is not a variant`,
      };
    let split: CompiledRule['split'];
    if (rule.split !== undefined) {
      const entries = Object.entries(rule.split).filter(([, weight]) => weight > 0);
      const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
      if (total <= 0)
        return {
          ok: false,
          code: 'PARSE_ERROR',
          reason: `${label}: a split needs a positive weight`,
        };
      let cumulative = 0;
      const bounds: Array<{ bound: number; outcome: Outcome }> = [];
      for (const [variant, weight] of entries) {
        if (!known(variant))
          return {
            ok: false,
            code: 'PARSE_ERROR',
            reason: `${label}: split variant ${variant} is not a variant`,
          };
        cumulative += weight;
        bounds.push({
          bound: Math.round((cumulative / total) * ROLLOUT_BUCKETS),
          outcome: served(variant, 'SPLIT', label),
        });
      }
      split = bounds;
    }
    const threshold = rule.rollout === undefined ? undefined : Math.round(rule.rollout * 100);
    rules.push({
      test:
        rule.when === undefined || rule.when.length === 0
          ? undefined
          : all(rule.when.map(condition)),
      bucketBy: rule.bucketBy,
      threshold,
      split,
      outcome:
        rule.variant === undefined
          ? undefined
          : served(rule.variant, threshold === undefined ? 'TARGETING_MATCH' : 'SPLIT', label),
    });
  }
  const fallback =
    definition.defaultVariant === undefined
      ? base.defaultOutcome
      : served(definition.defaultVariant, rules.length === 0 ? 'STATIC' : 'DEFAULT');
  const disabled = outcome(telemetry, {
    key,
    value: declaration?.defaultValue,
    reason: 'DISABLED',
  });
  if (definition.enabled === false) {
    return { ok: true, flag: { key, valueType, evaluate: () => disabled } };
  }
  if (rules.length === 0) return { ok: true, flag: { key, valueType, evaluate: () => fallback } };
  return {
    ok: true,
    flag: {
      key,
      valueType,
      evaluate(context) {
        for (const rule of rules) {
          if (rule.test !== undefined && !rule.test(context ?? {})) continue;
          if (rule.threshold === undefined && rule.split === undefined) {
            return rule.outcome as Outcome;
          }
          const id = bucketKey(context, rule.bucketBy);
          if (id === undefined) continue;
          if (rule.threshold !== undefined && rolloutBucket(seed, id) >= rule.threshold) continue;
          if (rule.split !== undefined) {
            const bucket = splitBucket(seed, id);
            for (const entry of rule.split) if (bucket < entry.bound) return entry.outcome;
            return (rule.split[rule.split.length - 1] as { outcome: Outcome }).outcome;
          }
          return rule.outcome as Outcome;
        }
        return fallback;
      },
    },
  };
}
