import type { Attributes } from '@opentelemetry/api';
import { check, tracerOption } from './internal/options.js';
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
 * Throws `TRACING_INVALID_OPTIONS` for a name that is not a non-empty string, an `fn` that is
 * not a function or a bad option, here rather than at the first call.
 *
 * The wrapper has the same parameters, `this` and return value as `fn` (a returned Result or
 * promise of one comes back untouched); see `withSpan` for how errors are recorded.
 *
 * @example
 * declare const repo: { load(id: string): Promise<Result<string, ProdError>> };
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
  if (name === undefined) check.fail('name', 'a non-empty span name', name);
  check.string('name', name, '', { nonEmpty: true });
  if (typeof fn !== 'function') check.fail('fn', 'a function', fn);
  const given = check.object<TracedOptions<TArgs>>('options', options);
  tracerOption(given.tracer);
  check.fn('isError', given.isError);
  const attributes = given.attributes;
  if (
    attributes !== undefined &&
    typeof attributes !== 'function' &&
    (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes))
  ) {
    check.fail('attributes', 'span attributes or a function of the arguments', attributes);
  }
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
