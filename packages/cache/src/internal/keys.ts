import type { ProdError } from '@prod/core';
import { CacheErrors } from '../errors.js';

// `String.prototype.isWellFormed` (Node 20) is not in the ES2022 lib this package compiles against.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Whether a string has no unpaired UTF-16 surrogate: Redis keeps keys as UTF-8 bytes, and two
 * keys that differ only in their lone surrogates would encode to the same bytes.
 */
export const wellFormed = (text: string): boolean => !LONE_SURROGATE.test(text);

/** The error for a key that cannot be used, or undefined when it can. */
export function keyProblem(key: unknown, maxLength: number): ProdError | undefined {
  if (typeof key !== 'string' || key === '') {
    return CacheErrors.CACHE_INVALID_KEY({
      message: 'a cache key must be a non-empty string',
      details: { reason: 'type' },
      captureStack: false,
    });
  }
  if (key.length > maxLength) {
    return CacheErrors.CACHE_INVALID_KEY({
      message: `a cache key must be at most ${maxLength} characters (got ${key.length})`,
      details: { reason: 'length', length: key.length, max: maxLength },
      captureStack: false,
    });
  }
  if (!wellFormed(key)) {
    return CacheErrors.CACHE_INVALID_KEY({
      message: 'a cache key must not hold an unpaired UTF-16 surrogate',
      details: { reason: 'text' },
      captureStack: false,
    });
  }
  return undefined;
}
