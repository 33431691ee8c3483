import {
  type ErrorCode,
  type EvaluationContext,
  OpenFeatureEventEmitter,
  type JsonValue as OpenFeatureJson,
  type Provider,
  ProviderEvents,
  type ResolutionDetails,
} from '@openfeature/server-sdk';
import type { ProdError, Result } from '@prod/core';
import type { JsonValue } from '../flags/flag-definition.js';
import type { FlagContext, FlagEvaluation } from '../flags/types.js';

/** What {@link ProdFlagsProvider} needs of a `Flags` (from `createFlags`). */
export interface DynamicFlags {
  readonly ready: Promise<Result<void, ProdError>>;
  evaluateDynamic<TValue extends JsonValue>(
    key: string,
    defaultValue: TValue,
    context?: FlagContext,
  ): FlagEvaluation<TValue>;
  onChange(listener: (keys: readonly string[]) => void): () => void;
}

function resolution<TValue>(evaluation: FlagEvaluation<unknown>): ResolutionDetails<TValue> {
  return {
    value: evaluation.value as TValue,
    reason: evaluation.reason,
    ...(evaluation.variant === undefined ? {} : { variant: evaluation.variant }),
    ...(evaluation.errorCode === undefined ? {} : { errorCode: evaluation.errorCode as ErrorCode }),
    ...(evaluation.errorMessage === undefined ? {} : { errorMessage: evaluation.errorMessage }),
    ...(evaluation.rule === undefined ? {} : { flagMetadata: { rule: evaluation.rule } }),
  };
}

/**
 * An OpenFeature provider (for `@openfeature/server-sdk`) over our flags: OpenFeature users
 * evaluate the same definitions, rules and rollouts, and get `PROVIDER_CONFIGURATION_CHANGED`
 * events with the changed keys when definitions change.
 *
 * @example
 * import { OpenFeature } from '@openfeature/server-sdk';
 * import { type DynamicFlags, ProdFlagsProvider } from '@prod/config/openfeature';
 * declare const flags: DynamicFlags;
 * await OpenFeature.setProviderAndWait(new ProdFlagsProvider(flags));
 * const on = await OpenFeature.getClient().getBooleanValue('notes.search', false, { targetingKey: 'u1' });
 */
export class ProdFlagsProvider implements Provider {
  readonly metadata = { name: '@prod/config' } as const;
  readonly runsOn = 'server' as const;
  readonly events: OpenFeatureEventEmitter = new OpenFeatureEventEmitter();
  readonly #flags: DynamicFlags;
  readonly #unsubscribe: () => void;

  constructor(flags: DynamicFlags) {
    this.#flags = flags;
    this.#unsubscribe = flags.onChange((keys) => {
      this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged: [...keys] });
    });
  }

  /** Waits for the flags' source; a source that failed to load makes the provider ERROR. */
  async initialize(): Promise<void> {
    const ready = await this.#flags.ready;
    if (!ready.ok) throw ready.error;
  }

  resolveBooleanEvaluation(
    flagKey: string,
    defaultValue: boolean,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<boolean>> {
    return Promise.resolve(resolution(this.#flags.evaluateDynamic(flagKey, defaultValue, context)));
  }

  resolveStringEvaluation(
    flagKey: string,
    defaultValue: string,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<string>> {
    return Promise.resolve(resolution(this.#flags.evaluateDynamic(flagKey, defaultValue, context)));
  }

  resolveNumberEvaluation(
    flagKey: string,
    defaultValue: number,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<number>> {
    return Promise.resolve(resolution(this.#flags.evaluateDynamic(flagKey, defaultValue, context)));
  }

  resolveObjectEvaluation<TValue extends OpenFeatureJson>(
    flagKey: string,
    defaultValue: TValue,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<TValue>> {
    return Promise.resolve(
      resolution(this.#flags.evaluateDynamic(flagKey, defaultValue as JsonValue, context)),
    );
  }

  /** Stops forwarding change events. */
  async onClose(): Promise<void> {
    this.#unsubscribe();
  }
}
