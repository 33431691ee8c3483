import { types } from 'node:util';
import { isProdError, ProdError, type SerializedError } from '@prod/core';

/** Whether a value is an Error (of any realm or copy of @prod/core). */
export function isErrorLike(value: unknown): value is Error {
  return value instanceof Error || types.isNativeError(value) || isProdError(value);
}

/**
 * Serializes an error for a log line through `ProdError.toJSON()`: name, message, `code`,
 * `status`, `retryable`, `details`, the stack and the cause chain (bounded and cycle-safe).
 * Anything that is not an Error is returned unchanged.
 *
 * A plain Error is classified by `ProdError.from` (so `ECONNREFUSED` logs as `UNAVAILABLE`,
 * retryable) while its own name, stack and cause chain are kept: the line points at the
 * place that threw, not at the logger. A system code that the classification replaced is kept
 * as `details.systemCode`.
 *
 * Gotchas: enumerable extras of an error (an HTTP client's `config` with its headers, say)
 * are left out on purpose: they are where secrets hide.
 *
 * @example
 * serializeError(new Error('boom')); // { name: 'Error', message: 'boom', code: 'INTERNAL', status: 500, ... }
 */
export function serializeError(value: unknown): unknown {
  if (!isErrorLike(value)) return value;
  let prod: ProdError;
  // The wrapper's own stack would point at this function: do not pay for it.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    prod = ProdError.from(value);
  } catch {
    return { name: 'Error', message: '[Unserializable error]' };
  } finally {
    Error.stackTraceLimit = limit;
  }
  const wrapped = prod.toJSON();
  if (prod === value) return wrapped;
  const original = wrapped.cause;
  if (original === undefined) return wrapped;
  const out: { -readonly [K in keyof SerializedError]: SerializedError[K] } = {
    name: original.name,
    message: original.message,
    code: wrapped.code ?? 'INTERNAL',
  };
  if (wrapped.status !== undefined) out.status = wrapped.status;
  if (wrapped.retryable !== undefined) out.retryable = wrapped.retryable;
  let details = wrapped.details;
  if (
    original.code !== undefined &&
    original.code !== out.code &&
    details?.systemCode === undefined
  ) {
    details = { ...details, systemCode: original.code };
  }
  if (details !== undefined) out.details = details;
  if (original.stack !== undefined) out.stack = original.stack;
  if (original.cause !== undefined) out.cause = original.cause;
  return out;
}
