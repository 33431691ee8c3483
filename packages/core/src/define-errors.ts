import { isProdError, ProdError, type ProdErrorOptions } from './prod-error.js';

/** How one code in a catalogue behaves. */
export interface ErrorDefinition {
  readonly status: number;
  readonly title: string;
  readonly retryable?: boolean;
  /** Whether messages and details reach clients. Default: `status < 500`. */
  readonly expose?: boolean;
  readonly type?: string;
}

/** What a catalogue constructor takes: a message, or the per-occurrence options. */
export type ErrorInput = string | Omit<ProdErrorOptions, 'code' | 'status' | 'title' | 'type'>;

/** Builds the ProdError of one code, and recognizes it. */
export interface ErrorFactory<TCode extends string> {
  (input?: ErrorInput): ProdError<TCode>;
  readonly code: TCode;
  readonly status: number;
  readonly title: string;
  /** Tells whether a value is a ProdError with this code. */
  is(value: unknown): value is ProdError<TCode>;
}

/** A catalogue: one factory per code. */
export type ErrorCatalogue<TDefinitions extends Record<string, ErrorDefinition>> = {
  readonly [TCode in keyof TDefinitions & string]: ErrorFactory<TCode>;
};

/** The union of the errors a catalogue can build. */
export type ErrorOf<TCatalogue> =
  TCatalogue extends ErrorCatalogue<infer TDefinitions>
    ? ProdError<keyof TDefinitions & string>
    : never;

const CODE_PATTERN = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/;

/**
 * Declares a package's error codes once: each becomes a typed constructor with a guard.
 *
 * @example
 * declare const cause: Error;
 * export const CacheErrors = defineErrors({
 *   CACHE_UNAVAILABLE: { status: 503, title: 'Cache unavailable', retryable: true },
 * });
 * const e = CacheErrors.CACHE_UNAVAILABLE({ message: 'Redis down', cause }); // ProdError<'CACHE_UNAVAILABLE'>
 * CacheErrors.CACHE_UNAVAILABLE.is(e); // true
 */
export function defineErrors<const TDefinitions extends Record<string, ErrorDefinition>>(
  definitions: TDefinitions,
): ErrorCatalogue<TDefinitions> {
  const catalogue: Record<string, ErrorFactory<string>> = {};
  for (const [code, definition] of Object.entries(definitions)) {
    if (!CODE_PATTERN.test(code)) {
      throw new TypeError(`defineErrors: "${code}" is not a SCREAMING_SNAKE error code`);
    }
    // Read the definition once: later edits of the caller's object must not change the codes.
    const { status, title, retryable = false, expose, type } = definition;
    const factory = (input?: ErrorInput): ProdError<string> => {
      const occurrence = typeof input === 'string' ? { message: input } : (input ?? {});
      return new ProdError({
        retryable,
        ...(expose === undefined ? {} : { expose }),
        ...(type === undefined ? {} : { type }),
        ...occurrence,
        code,
        status,
        title,
      });
    };
    catalogue[code] = Object.freeze(
      Object.assign(factory, {
        code,
        status,
        title,
        is: (value: unknown): value is ProdError<string> => isProdError(value, code),
      }),
    );
  }
  return Object.freeze(catalogue) as ErrorCatalogue<TDefinitions>;
}
