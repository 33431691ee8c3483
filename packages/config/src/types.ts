import type { ProdError, Result } from '@prod/core';
import type { Secret } from './secret.js';

type Leafish =
  | string
  | number
  | boolean
  | bigint
  | symbol
  | null
  | undefined
  | Date
  | RegExp
  | Secret<unknown>
  | readonly unknown[]
  | ReadonlyMap<unknown, unknown>
  | ReadonlySet<unknown>
  | ((...args: never[]) => unknown);

type Prev = [never, 0, 1, 2, 3, 4, 5, 6, 7, 8];

/** A configuration value, read-only all the way down (Secrets, dates and collections as they are). */
export type DeepReadonly<TValue> = TValue extends Leafish
  ? TValue extends readonly (infer TItem)[]
    ? readonly DeepReadonly<TItem>[]
    : TValue
  : { readonly [K in keyof TValue]: DeepReadonly<TValue[K]> };

/** What a layer may hold: any part of the schema's input, nested objects partial too. */
export type DeepPartial<TValue> = TValue extends Leafish
  ? TValue
  : { readonly [K in keyof TValue]?: DeepPartial<TValue[K]> };

/**
 * The dotted paths of a configuration (`'db'`, `'db.poolSize'`): every key of nested objects.
 * Records (`Record<string, ...>`), arrays and secrets are values, not branches.
 */
export type ConfigPath<TValue, TDepth extends number = 8> = [TDepth] extends [never]
  ? never
  : TValue extends Leafish
    ? never
    : string extends keyof TValue
      ? never
      : {
          [K in keyof TValue & string]:
            | K
            | `${K}.${ConfigPath<NonNullable<TValue[K]>, Prev[TDepth]>}`;
        }[keyof TValue & string];

/** The type of the value at a {@link ConfigPath}. */
export type PathValue<TValue, TPath extends string> = TPath extends `${infer K}.${infer TRest}`
  ? K extends keyof TValue
    ?
        | PathValue<NonNullable<TValue[K]>, TRest>
        | (undefined extends TValue[K] ? undefined : never)
        | (null extends TValue[K] ? undefined : never)
    : never
  : TPath extends keyof TValue
    ? TValue[TPath]
    : never;

/**
 * One problem with the configuration. `found` is shown as JSON, cut at 80 characters, and
 * `[REDACTED]` for secrets.
 */
export interface ConfigProblem {
  /** The key (`db.poolSize`), or `''` for the whole configuration. */
  readonly key: string;
  /**
   * Where the value came from: `default`, `profile:<name>`, `file:<path>`, `dotenv:<path> (<VAR>)`,
   * `env:<VAR>`, `env:<VAR>_FILE (<path>)`, `override`, `update`, a runtime source's name, or
   * `unset` when nothing gave one.
   */
  readonly source: string;
  /** What was expected (`number`, `one of "info", "debug"`, a guard's message). */
  readonly expected: string;
  /** What was found, safe to show. */
  readonly found: string;
  /** The whole problem in one line. */
  readonly message: string;
}

/** One key of the effective configuration, as `describe()` and `entries()` show it. */
export interface ConfigEntry {
  readonly key: string;
  /** The value itself (a {@link Secret} for secrets). */
  readonly value: unknown;
  /** The value shown safely (`[REDACTED]` for secrets). */
  readonly display: string;
  readonly source: string;
  /** The environment variable the key is read from. */
  readonly env: string;
  readonly secret: boolean;
  readonly reloadable: boolean;
}

/** A key whose value changed in an update. */
export interface ConfigChange {
  readonly key: string;
  readonly previous: unknown;
  readonly value: unknown;
  /** Where the new value came from. */
  readonly source: string;
}

/** What a runtime source hands its values to. */
export interface RuntimeSink {
  /**
   * Offers the source's current values (a partial configuration object, replacing what this
   * source gave before). They are validated with the rest; the configuration changes only if
   * the result is valid and every changed key is reloadable.
   *
   * @returns `Ok(changes)` (possibly none), or `Err` `CONFIG_INVALID` / `CONFIG_RESTART_REQUIRED`
   * with the old configuration kept; the error is also reported to `onError` listeners.
   */
  update(values: unknown): Result<readonly ConfigChange[], ProdError>;
  /** Reports that the source failed (`CONFIG_SOURCE_FAILED`); the configuration is kept. */
  fail(error: unknown): void;
}

/**
 * A source of runtime updates: a watched file, a Redis key with pub/sub, a polling function,
 * or your own. Its values sit above every startup layer, overrides included.
 */
export interface RuntimeSource {
  /** How its values are labelled in `describe()` and problems (`redis:app:config`). */
  readonly name: string;
  /** Starts delivering values to `sink`; resolves once the first values were offered. */
  start(sink: RuntimeSink): Promise<void> | void;
  /** Stops delivering and releases what it holds (watchers, subscriptions, timers). */
  stop(): Promise<void> | void;
}
