import type {
  Client,
  EvaluationContext,
  EvaluationDetails,
  FlagValue,
  JsonValue as OpenFeatureJson,
} from '@openfeature/server-sdk';
import { optionChecks } from '@prod/core';
import { ConfigErrors } from '../errors.js';
import type { BooleanFlagKeys, FlagDeclarations, FlagValueOf } from '../flags/flag.js';
import type {
  FlagContext,
  FlagErrorCode,
  FlagEvaluation,
  FlagEvaluationCounter,
  FlagReason,
  FlagUsageStore,
  StaleFlag,
} from '../flags/types.js';
import { FlagTelemetry, memoryUsageStore } from '../internal/flag-telemetry.js';

/** How {@link openFeatureFlags} evaluates. */
export interface OpenFeatureFlagsOptions {
  /** The OpenFeature client to evaluate with (`OpenFeature.getClient()`), whatever its provider. */
  readonly client: Client;
  /** Counts evaluations by flag, variant and reason (a prom-client `Counter` fits). */
  readonly metrics?: FlagEvaluationCounter;
  /** Where reads are recorded for `stale()`. Default in memory. */
  readonly usage?: FlagUsageStore;
  /** How often counts and read times are handed over. Default 10 000 ms; 0 for only on `flush()`. */
  readonly flushIntervalMs?: number;
  /** The clock (ms since epoch). Default `Date.now`. */
  readonly now?: () => number;
}

/** The flags declared in code, evaluated by any OpenFeature provider (asynchronously). */
export interface OpenFeatureFlags<TDeclarations extends FlagDeclarations> {
  readonly keys: readonly (keyof TDeclarations & string)[];
  /** Evaluates through the client; never rejects: on error, the declared default with a reason. */
  evaluate<K extends keyof TDeclarations & string>(
    key: K,
    context?: FlagContext,
  ): Promise<FlagEvaluation<FlagValueOf<TDeclarations[K]>>>;
  value<K extends keyof TDeclarations & string>(
    key: K,
    context?: FlagContext,
  ): Promise<FlagValueOf<TDeclarations[K]>>;
  isEnabled(key: BooleanFlagKeys<TDeclarations>, context?: FlagContext): Promise<boolean>;
  /** Declared flags not read for `days` days. */
  stale(options: { readonly days: number }): Promise<readonly StaleFlag[]>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

const check = optionChecks(ConfigErrors.CONFIG_INVALID_OPTIONS);
const REASONS = new Set<string>([
  'STATIC',
  'DEFAULT',
  'TARGETING_MATCH',
  'SPLIT',
  'DISABLED',
  'ERROR',
  'CACHED',
  'STALE',
  'UNKNOWN',
]);

function toEvaluation(details: EvaluationDetails<FlagValue>): FlagEvaluation<unknown> {
  const reason = (
    details.reason !== undefined && REASONS.has(details.reason)
      ? details.reason
      : details.errorCode !== undefined
        ? 'ERROR'
        : 'UNKNOWN'
  ) as FlagReason;
  const rule = details.flagMetadata?.rule;
  return {
    key: details.flagKey,
    value: details.value,
    reason,
    ...(details.variant === undefined ? {} : { variant: details.variant }),
    ...(typeof rule === 'string' ? { rule } : {}),
    ...(details.errorCode === undefined ? {} : { errorCode: details.errorCode as FlagErrorCode }),
    ...(details.errorMessage === undefined ? {} : { errorMessage: details.errorMessage }),
  };
}

/**
 * Evaluates the flags declared in code through an OpenFeature client, so any OpenFeature
 * provider (flagd, LaunchDarkly, Unleash, ours) serves them, with the same typed keys,
 * defaults, evaluation metrics and stale-flag reports as {@link createFlags}.
 *
 * @example
 * import { OpenFeature } from '@openfeature/server-sdk';
 * import { flag } from '@prod/config';
 * import { openFeatureFlags } from '@prod/config/openfeature';
 * const flags = openFeatureFlags({ 'notes.search': flag.boolean(false) }, { client: OpenFeature.getClient() });
 * const on = await flags.isEnabled('notes.search', { targetingKey: 'user-42' });
 */
export function openFeatureFlags<const TDeclarations extends FlagDeclarations>(
  declarations: TDeclarations,
  options: OpenFeatureFlagsOptions,
): OpenFeatureFlags<TDeclarations> {
  check.object('options', options);
  const client = options.client;
  if (typeof client?.getBooleanDetails !== 'function')
    check.fail('client', 'an OpenFeature client', client);
  if (options.metrics !== undefined && typeof options.metrics.inc !== 'function') {
    check.fail('metrics', 'a counter with inc(labels, value)', options.metrics);
  }
  const now = check.fn<() => number>('now', options.now) ?? Date.now;
  const telemetry = new FlagTelemetry({
    counter: options.metrics,
    usage: options.usage ?? memoryUsageStore(now),
    now,
    flushIntervalMs: check.duration('flushIntervalMs', options.flushIntervalMs, 10_000),
    onError: () => undefined,
  });
  const keys = Object.freeze(Object.keys(declarations)) as readonly (keyof TDeclarations &
    string)[];
  const declared = new Set<string>(keys);

  const evaluate = async (key: string, context?: FlagContext): Promise<FlagEvaluation<unknown>> => {
    const declaration = declarations[key];
    if (declaration === undefined) {
      return {
        key,
        value: undefined,
        reason: 'ERROR',
        errorCode: 'FLAG_NOT_FOUND',
        errorMessage: 'no such flag',
      };
    }
    telemetry.markRead(key);
    const ctx = (context ?? {}) as EvaluationContext;
    let result: FlagEvaluation<unknown>;
    try {
      const def = declaration.defaultValue;
      const details =
        declaration.type === 'boolean'
          ? await client.getBooleanDetails(key, def as boolean, ctx)
          : declaration.type === 'string'
            ? await client.getStringDetails(key, def as string, ctx)
            : declaration.type === 'number'
              ? await client.getNumberDetails(key, def as number, ctx)
              : await client.getObjectDetails(key, def as OpenFeatureJson, ctx);
      result = toEvaluation(details);
      if (
        declaration.schema !== undefined &&
        result.reason !== 'ERROR' &&
        !declaration.schema.safeParse(result.value).success
      ) {
        result = {
          key,
          value: def,
          reason: 'ERROR',
          errorCode: 'TYPE_MISMATCH',
          errorMessage: "the value does not fit the flag's schema",
        };
      }
    } catch (error) {
      result = {
        key,
        value: declaration.defaultValue,
        reason: 'ERROR',
        errorCode: 'GENERAL',
        errorMessage: error instanceof Error ? error.message : String(error),
      };
    }
    telemetry.cell(key, result.variant, result.reason).count++;
    return result;
  };

  return Object.freeze({
    keys,
    evaluate,
    value: async (key: string, context?: FlagContext) => (await evaluate(key, context)).value,
    isEnabled: async (key: string, context?: FlagContext) =>
      (await evaluate(key, context)).value === true,
    stale: (stale: { readonly days: number }) =>
      telemetry.stale([...keys], check.number('days', stale?.days, 30), declared, new Set()),
    flush: () => telemetry.flush(),
    async close() {
      telemetry.close();
      await telemetry.flush().catch(() => undefined);
    },
  }) as unknown as OpenFeatureFlags<TDeclarations>;
}
