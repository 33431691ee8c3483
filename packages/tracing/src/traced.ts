import type { Attributes } from '@opentelemetry/api';
import { type WithSpanOptions, withSpan } from './with-span.js';

/** Options of {@link traced}: those of `withSpan`, with attributes computed from the arguments. */
export interface TracedOptions<TArgs extends unknown[]>
  extends Omit<WithSpanOptions, 'attributes'> {
  /** Span attributes, fixed or computed from each call's arguments (keep them low in PII). */
  readonly attributes?: Attributes | ((...args: TArgs) => Attributes);
}

/**
 * Wraps a function so that every call runs inside {@link withSpan} named `name`.
 *
 * The wrapper has the same parameters, `this` and return value as `fn` (a returned Result or
 * promise of one comes back untouched); see `withSpan` for how errors are recorded.
 *
 * @example
 * const loadNote = traced('notes.load', (id: string) => repo.load(id), {
 *   attributes: (id) => ({ 'note.id': id }),
 * });
 * const result = await loadNote('42');
 */
export function traced<TArgs extends unknown[], TReturn, TThis = unknown>(
  name: string,
  fn: (this: TThis, ...args: TArgs) => TReturn,
  options?: TracedOptions<TArgs>,
): (this: TThis, ...args: TArgs) => TReturn {
  const attributes = options?.attributes;
  // Fixed options are built once, so a call allocates no options object.
  const fixed =
    typeof attributes === 'function' ? undefined : (options as WithSpanOptions | undefined);
  const wrapper = function (this: TThis, ...args: TArgs): TReturn {
    const spanOptions =
      typeof attributes === 'function' ? { ...options, attributes: attributes(...args) } : fixed;
    return withSpan(name, () => fn.apply(this, args), spanOptions);
  };
  Object.defineProperty(wrapper, 'name', { value: fn.name, configurable: true });
  return wrapper;
}
