/**
 * A value, or a promise of it: what a hook may return, and what the synchronous fast paths
 * of the adapter kit return so that a request with nothing to wait for makes no promise
 * (every promise made inside a request costs an AsyncLocalStorage hook).
 */
export type MaybePromise<TValue> = TValue | Promise<TValue>;

/**
 * Whether `value` has a callable `then`: a promise from any realm or library. The one rule
 * for "is this asynchronous?" across @prod; `instanceof Promise` misses other realms and
 * thenables.
 */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
