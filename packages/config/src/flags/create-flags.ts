import { currentContext, optionChecks, type ProdError, type Result } from '@prod/core';
import { ConfigErrors } from '../errors.js';
import {
  type BaseOutcomes,
  baseOutcomes,
  type CompiledFlag,
  compileFlag,
  errorOutcome,
  type Outcome,
  typeOfValue,
} from '../internal/flag-engine.js';
import { FlagTelemetry, memoryUsageStore, UNKNOWN_FLAG } from '../internal/flag-telemetry.js';
import type { BooleanFlagKeys, FlagDeclarations, FlagValueOf } from './flag.js';
import type { JsonValue } from './flag-definition.js';
import type {
  FlagContext,
  FlagEvaluation,
  FlagEvaluationCounter,
  FlagSource,
  FlagUsageStore,
  StaleFlag,
} from './types.js';

/** How {@link createFlags} evaluates. Every field is optional. */
export interface FlagsOptions {
  /** Where definitions come from. Default none: every flag serves its default (`DEFAULT`). */
  readonly source?: FlagSource;
  /** Counts evaluations by flag, variant and reason (a prom-client `Counter` fits). */
  readonly metrics?: FlagEvaluationCounter;
  /** Where reads are recorded for {@link Flags.stale}. Default the source's, else in memory. */
  readonly usage?: FlagUsageStore;
  /** How often counts and read times are handed over. Default 10 000 ms; 0 for only on `flush()`. */
  readonly flushIntervalMs?: number;
  /** Retry delay when the source fails to start. Default 5 000 ms. */
  readonly retryStartMs?: number;
  /** The clock (ms since epoch). Default `Date.now`. */
  readonly now?: () => number;
  /** Told about refused definitions and source failures. Default `process.emitWarning`. */
  readonly onError?: (error: ProdError) => void;
}

/** Typed, never-throwing evaluation of the flags declared in code. */
export interface Flags<TDeclarations extends FlagDeclarations> {
  /** The declared keys. */
  readonly keys: readonly (keyof TDeclarations & string)[];
  /**
   * Settles once the source has loaded (`Ok`), or failed to (`Err`; it is retried). Before,
   * evaluations serve defaults with `errorCode: 'PROVIDER_NOT_READY'`.
   */
  readonly ready: Promise<Result<void, ProdError>>;
  /** Evaluates a flag for a context (default: the request context's actor). Never throws. */
  evaluate<K extends keyof TDeclarations & string>(
    key: K,
    context?: FlagContext,
  ): FlagEvaluation<FlagValueOf<TDeclarations[K]>>;
  /** The value of {@link Flags.evaluate}. */
  value<K extends keyof TDeclarations & string>(
    key: K,
    context?: FlagContext,
  ): FlagValueOf<TDeclarations[K]>;
  /** Whether a boolean flag is on. */
  isEnabled(key: BooleanFlagKeys<TDeclarations>, context?: FlagContext): boolean;
  /**
   * Evaluates any key, declared or only defined, against a default whose type it must have
   * (`TYPE_MISMATCH` otherwise): for dynamic keys and OpenFeature providers.
   */
  evaluateDynamic<TValue extends JsonValue>(
    key: string,
    defaultValue: TValue,
    context?: FlagContext,
  ): FlagEvaluation<TValue>;
  /** Calls `listener` with the keys whose definitions changed; returns an unsubscribe. */
  onChange(listener: (keys: readonly string[]) => void): () => void;
  /** Told about refused definitions and source failures; returns an unsubscribe. */
  onError(listener: (error: ProdError) => void): () => void;
  /**
   * Flags (declared or defined) not read for `days` days, across every instance when the
   * usage store is shared (Redis). A flag never read counts once tracking is that old.
   */
  stale(options: { readonly days: number }): Promise<readonly StaleFlag[]>;
  /** Hands the counts to the metrics counter and read times to the usage store now. */
  flush(): Promise<void>;
  /** Flushes, stops the timer and the source. */
  close(): Promise<void>;
}

const check = optionChecks(ConfigErrors.CONFIG_INVALID_OPTIONS);
const KEY = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$/;
const MAX_FLAGS = 10_000;

interface State {
  readonly key: string;
  readonly declaration: FlagDeclarations[string] | undefined;
  readonly base: BaseOutcomes;
  compiled: CompiledFlag | undefined;
  defined: boolean;
  read: boolean;
}

function actorContext(): FlagContext | undefined {
  const actor = currentContext()?.actor;
  return actor === undefined ? undefined : { targetingKey: actor.id };
}

class FlagsEngine<TDeclarations extends FlagDeclarations> {
  readonly keys: readonly (keyof TDeclarations & string)[];
  readonly ready: Promise<Result<void, ProdError>>;
  readonly #states = new Map<string, State>();
  readonly #declared: ReadonlySet<string>;
  readonly #telemetry: FlagTelemetry;
  readonly #source: FlagSource | undefined;
  readonly #changeListeners: Array<(keys: readonly string[]) => void> = [];
  readonly #errorListeners: Array<(error: ProdError) => void> = [];
  readonly #onError: ((error: ProdError) => void) | undefined;
  readonly #unsubscribe: (() => void) | undefined;
  readonly #unknown: Outcome;
  #loaded = false;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;

  constructor(declarations: TDeclarations, options: FlagsOptions) {
    check.object('options', options);
    if (typeof declarations !== 'object' || declarations === null)
      check.fail('declarations', 'an object of flag declarations', declarations);
    const source = options.source;
    if (
      source !== undefined &&
      (typeof source.definitions !== 'function' || typeof source.subscribe !== 'function')
    ) {
      check.fail('source', 'a FlagSource (definitions, subscribe)', source);
    }
    if (options.metrics !== undefined && typeof options.metrics.inc !== 'function') {
      check.fail('metrics', 'a counter with inc(labels, value)', options.metrics);
    }
    const now = check.fn<() => number>('now', options.now) ?? Date.now;
    const flushIntervalMs = check.duration('flushIntervalMs', options.flushIntervalMs, 10_000);
    const retryStartMs = check.duration('retryStartMs', options.retryStartMs, 5_000, { min: 1 });
    this.#onError = check.fn('onError', options.onError);
    const usage = options.usage ?? source?.usage ?? memoryUsageStore(now);
    this.#telemetry = new FlagTelemetry({
      counter: options.metrics,
      usage,
      now,
      flushIntervalMs,
      onError: (error) =>
        this.#report(
          ConfigErrors.CONFIG_FLAG_STORE_FAILED({
            message: `flag telemetry failed: ${String(error)}`,
            cause: error,
          }),
        ),
      collectReads: () => {
        const keys: string[] = [];
        for (const state of this.#states.values()) {
          if (state.read) {
            state.read = false;
            keys.push(state.key);
          }
        }
        return keys;
      },
    });
    this.#unknown = errorOutcome(
      this.#telemetry,
      UNKNOWN_FLAG,
      undefined,
      'FLAG_NOT_FOUND',
      'no such flag',
      UNKNOWN_FLAG,
    );
    for (const [key, declaration] of Object.entries(declarations)) {
      if (!KEY.test(key))
        check.fail(`declarations.${key}`, 'a key of 1-200 letters, digits and ._:/-', key);
      if (
        typeof declaration !== 'object' ||
        declaration === null ||
        !['boolean', 'string', 'number', 'object'].includes(declaration.type)
      ) {
        check.fail(
          `declarations.${key}`,
          'a declaration made with flag.boolean(), flag.string()...',
          declaration,
        );
      }
      if (typeOfValue(declaration.defaultValue) !== declaration.type) {
        check.fail(
          `declarations.${key}.defaultValue`,
          `a ${declaration.type}`,
          declaration.defaultValue,
        );
      }
      this.#states.set(key, this.#state(key, declaration));
    }
    this.keys = Object.freeze(Object.keys(declarations)) as readonly (keyof TDeclarations &
      string)[];
    this.#declared = new Set(this.keys);
    this.#source = source;
    this.#unsubscribe = source?.subscribe(
      (changed) => {
        if (this.#loaded && !this.#closed) this.#load(changed);
      },
      (error) => this.#report(error),
    );
    this.ready = this.#start(retryStartMs);
  }

  #state(key: string, declaration: FlagDeclarations[string] | undefined): State {
    return {
      key,
      declaration,
      base: baseOutcomes(this.#telemetry, key, declaration),
      compiled: undefined,
      defined: false,
      read: false,
    };
  }

  #start(retryStartMs: number): Promise<Result<void, ProdError>> {
    const source = this.#source;
    if (source?.start === undefined) {
      this.#load(undefined);
      this.#loaded = true;
      return Promise.resolve({ ok: true, value: undefined });
    }
    const attempt = async (): Promise<Result<void, ProdError>> => {
      let started: Result<void, ProdError>;
      try {
        started = await (source.start as () => Promise<Result<void, ProdError>>)();
      } catch (error) {
        started = {
          ok: false,
          error: ConfigErrors.CONFIG_FLAG_STORE_FAILED({
            message: `flag source ${source.name} failed to start`,
            cause: error,
          }),
        };
      }
      if (this.#closed) return started;
      if (started.ok) {
        this.#load(undefined);
        this.#loaded = true;
        return started;
      }
      this.#report(started.error);
      this.#retry = setTimeout(() => {
        attempt().catch(() => undefined);
      }, retryStartMs);
      this.#retry.unref();
      return started;
    };
    return attempt();
  }

  #report(error: ProdError): void {
    let told = false;
    for (const listener of [...this.#errorListeners]) {
      told = true;
      try {
        listener(error);
      } catch {
        // The other listeners are still told.
      }
    }
    if (this.#onError !== undefined) {
      told = true;
      try {
        this.#onError(error);
      } catch {
        // Same.
      }
    }
    if (!told) process.emitWarning(error.message, { type: 'ProdFlagsWarning', code: error.code });
  }

  #load(changed: readonly string[] | undefined): void {
    const source = this.#source;
    if (source === undefined) return;
    let definitions: ReadonlyMap<string, unknown>;
    try {
      definitions = source.definitions();
    } catch (error) {
      this.#report(
        ConfigErrors.CONFIG_FLAG_STORE_FAILED({
          message: `flag source ${source.name} failed`,
          cause: error,
        }),
      );
      return;
    }
    const keys = new Set<string>(changed ?? [...definitions.keys()]);
    if (changed === undefined)
      for (const state of this.#states.values()) if (state.defined) keys.add(state.key);
    const updated: string[] = [];
    for (const key of keys) {
      if (!KEY.test(key)) {
        this.#report(
          ConfigErrors.CONFIG_FLAG_INVALID({
            message: `flag key ${JSON.stringify(key.slice(0, 80))} is not a valid key`,
            details: { key: key.slice(0, 200) },
          }),
        );
        continue;
      }
      const raw = definitions.get(key);
      let state = this.#states.get(key);
      if (raw === undefined) {
        if (state === undefined || !state.defined) continue;
        if (state.declaration === undefined) this.#states.delete(key);
        else {
          state.compiled = undefined;
          state.defined = false;
        }
        updated.push(key);
        continue;
      }
      if (state === undefined) {
        if (this.#states.size >= MAX_FLAGS) {
          this.#report(
            ConfigErrors.CONFIG_FLAG_INVALID({
              message: `more than ${MAX_FLAGS} flags: ${key} ignored`,
              details: { key },
            }),
          );
          continue;
        }
        state = this.#state(key, undefined);
        this.#states.set(key, state);
      }
      const compiled = compileFlag(key, raw, state.declaration, this.#telemetry, state.base);
      if (compiled.ok) {
        state.compiled = compiled.flag;
        state.defined = true;
        updated.push(key);
        continue;
      }
      this.#report(
        ConfigErrors.CONFIG_FLAG_INVALID({
          message: `flag ${key} refused (${compiled.code}): ${compiled.reason}; ${state.compiled === undefined ? 'serving its default' : 'keeping its previous definition'}`,
          details: { key, errorCode: compiled.code, reason: compiled.reason },
        }),
      );
      if (state.compiled === undefined) {
        const failed = errorOutcome(
          this.#telemetry,
          key,
          state.declaration?.defaultValue,
          compiled.code,
          compiled.reason,
        );
        state.compiled = { key, valueType: undefined, evaluate: () => failed };
        state.defined = true;
        updated.push(key);
      }
    }
    if (updated.length === 0) return;
    for (const listener of [...this.#changeListeners]) {
      try {
        listener(updated);
      } catch (error) {
        this.#report(
          ConfigErrors.CONFIG_LISTENER_FAILED({
            message: 'a flags onChange listener threw',
            cause: error,
          }),
        );
      }
    }
  }

  #outcome(state: State, context: FlagContext | undefined): Outcome {
    if (!this.#loaded) return state.base.notReady;
    const compiled = state.compiled;
    if (compiled === undefined) return state.base.defaultOutcome;
    return compiled.evaluate(context ?? actorContext());
  }

  evaluate(key: string, context?: FlagContext): FlagEvaluation<unknown> {
    let result: Outcome;
    try {
      const state = this.#states.get(key);
      if (state === undefined || state.declaration === undefined) {
        result = this.#unknown;
      } else {
        state.read = true;
        result = this.#outcome(state, context);
      }
    } catch (error) {
      result = errorOutcome(
        this.#telemetry,
        key,
        this.#states.get(key)?.declaration?.defaultValue,
        'GENERAL',
        error instanceof Error ? error.message : String(error),
      );
    }
    result.cell.count++;
    return result.details;
  }

  evaluateDynamic(
    key: string,
    defaultValue: unknown,
    context?: FlagContext,
  ): FlagEvaluation<unknown> {
    try {
      const requested = typeOfValue(defaultValue);
      const state = typeof key === 'string' ? this.#states.get(key) : undefined;
      if (state === undefined) {
        this.#unknown.cell.count++;
        return { ...this.#unknown.details, key: String(key), value: defaultValue };
      }
      state.read = true;
      if (state.declaration !== undefined && state.declaration.type !== requested) {
        return this.#mismatch(
          key,
          defaultValue,
          `the flag is ${state.declaration.type}, ${requested ?? 'null'} was asked for`,
        );
      }
      const result = this.#outcome(state, context);
      const details = result.details;
      // Where the code's default would be served, the caller's default is.
      if (details.variant === undefined) {
        result.cell.count++;
        return { ...details, value: defaultValue };
      }
      if (typeOfValue(details.value) !== requested) {
        return this.#mismatch(
          key,
          defaultValue,
          `the flag served ${typeOfValue(details.value) ?? 'null'}, ${requested ?? 'null'} was asked for`,
        );
      }
      result.cell.count++;
      return details;
    } catch (error) {
      return {
        key,
        value: defaultValue,
        reason: 'ERROR',
        errorCode: 'GENERAL',
        errorMessage: error instanceof Error ? error.message : String(error),
      };
    }
  }

  #mismatch(key: string, value: unknown, message: string): FlagEvaluation<unknown> {
    this.#telemetry.cell(key, undefined, 'ERROR').count++;
    return { key, value, reason: 'ERROR', errorCode: 'TYPE_MISMATCH', errorMessage: message };
  }

  onChange(listener: (keys: readonly string[]) => void): () => void {
    if (typeof listener !== 'function') check.fail('listener', 'a function', listener);
    this.#changeListeners.push(listener);
    return () => {
      const i = this.#changeListeners.indexOf(listener);
      if (i >= 0) this.#changeListeners.splice(i, 1);
    };
  }

  onError(listener: (error: ProdError) => void): () => void {
    if (typeof listener !== 'function') check.fail('listener', 'a function', listener);
    this.#errorListeners.push(listener);
    return () => {
      const i = this.#errorListeners.indexOf(listener);
      if (i >= 0) this.#errorListeners.splice(i, 1);
    };
  }

  async stale(options: { readonly days: number }): Promise<readonly StaleFlag[]> {
    const days = check.number('days', options?.days, 30, { min: 0 });
    const defined = new Set<string>();
    for (const state of this.#states.values()) if (state.defined) defined.add(state.key);
    return this.#telemetry.stale([...this.#states.keys()], days, this.#declared, defined);
  }

  flush(): Promise<void> {
    return this.#telemetry.flush();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#unsubscribe?.();
    this.#telemetry.close();
    await this.#telemetry.flush().catch(() => undefined);
    await this.#source?.stop?.();
  }
}

/**
 * Evaluates flags declared in code against definitions from a source (a config key, Redis,
 * memory): targeting rules, percentage rollouts with stable hashing, variants, a kill switch.
 * Evaluation is synchronous, local (no I/O) and never throws: on any problem it returns the
 * declared default with a reason.
 *
 * @example
 * const flags = createFlags(
 *   { 'notes.search': flag.boolean(false) },
 *   { source: memoryFlagSource({ 'notes.search': { rules: [{ rollout: 25, variant: 'on' }] } }) },
 * );
 * flags.isEnabled('notes.search', { targetingKey: 'user-42' });
 */
export function createFlags<const TDeclarations extends FlagDeclarations>(
  declarations: TDeclarations,
  options: FlagsOptions = {},
): Flags<TDeclarations> {
  const engine = new FlagsEngine(declarations, options);
  return Object.freeze({
    keys: engine.keys,
    ready: engine.ready,
    evaluate: (key: string, context?: FlagContext) => engine.evaluate(key, context),
    value: (key: string, context?: FlagContext) => engine.evaluate(key, context).value,
    isEnabled: (key: string, context?: FlagContext) => engine.evaluate(key, context).value === true,
    evaluateDynamic: (key: string, defaultValue: unknown, context?: FlagContext) =>
      engine.evaluateDynamic(key, defaultValue, context),
    onChange: (listener: (keys: readonly string[]) => void) => engine.onChange(listener),
    onError: (listener: (error: ProdError) => void) => engine.onError(listener),
    stale: (options: { readonly days: number }) => engine.stale(options),
    flush: () => engine.flush(),
    close: () => engine.close(),
  }) as unknown as Flags<TDeclarations>;
}
